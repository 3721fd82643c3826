package kernel

import (
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"golang.org/x/sys/unix"
)

// The agent reports errnos with unix.ErrnoName; expectations are checked
// against linuxErrnos. Both must spell every number the same.
func TestErrnoNamesAreTheAgents(t *testing.T) {
	var names []string
	for n := 1; n <= 140; n++ {
		if name := unix.ErrnoName(syscall.Errno(n)); name != "" {
			names = append(names, name)
		}
	}
	assert.Equal(t, linuxErrnos, names)
	for _, name := range linuxErrnos {
		got, ok := CanonicalErrno(name)
		assert.True(t, ok, name)
		assert.Equal(t, name, got)
	}
}
