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
	_, ok := CanonicalErrno("-")
	assert.False(t, ok, "the table's placeholder for an unused number is no errno")
}

// ErrnoName numbers as include/uapi/asm-generic/errno-base.h and errno.h
// do: the errnos the module syscalls return, the two numbers Linux leaves
// unused, and 6.12's last one.
func TestErrnoName(t *testing.T) {
	for n, want := range map[int]string{
		0: "", 1: "EPERM", 2: "ENOENT", 11: "EAGAIN", 14: "EFAULT", 16: "EBUSY", 17: "EEXIST",
		22: "EINVAL", 38: "ENOSYS", 41: "", 58: "", 95: "ENOTSUP", 117: "EUCLEAN",
		126: "ENOKEY", 129: "EKEYREJECTED", 133: "EHWPOISON", -1: "",
	} {
		assert.Equal(t, want, ErrnoName(n), "errno %d", n)
	}
}
