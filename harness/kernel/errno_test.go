package kernel

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCanonicalErrno(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"ok", "", true},
		{"", "", true},
		{"ENOSYS", "ENOSYS", true},
		{"enosys", "ENOSYS", true},
		{"EWOULDBLOCK", "EAGAIN", true},
		{"EDEADLOCK", "EDEADLK", true},
		{"EOPNOTSUPP", "ENOTSUP", true},
		{"EKEYREJECTED", "EKEYREJECTED", true},
		{"EHWPOISON", "EHWPOISON", true},
		{"ENOSUCH", "ENOSUCH", false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := CanonicalErrno(tc.in)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.ok, ok)
		})
	}
	assert.Len(t, linuxErrnos, 133, "EPERM..EHWPOISON, the unused 41 and 58 as \"-\"")
	assert.Len(t, knownErrnos, 131)
}
