package kernel

import (
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"golang.org/x/sys/unix"
)

// linuxErrnos numbers its names as Linux does: x/sys/unix, generated from
// the kernel's headers, gives each number up to EHWPOISON (133, the last
// errno of 6.1's and 6.12's headers) the same name or an alias.
func TestErrnoNamesAreLinuxs(t *testing.T) {
	for n := 1; n <= 133; n++ {
		ours, theirs := ErrnoName(n), unix.ErrnoName(syscall.Errno(n))
		if ours == "" {
			assert.Empty(t, theirs, "errno %d", n)
			continue
		}
		got, ok := CanonicalErrno(theirs)
		assert.True(t, ok, "errno %d: unix calls it %q", n, theirs)
		assert.Equal(t, ours, got, "errno %d", n)
	}
	for _, name := range linuxErrnos {
		if name == "-" {
			continue
		}
		got, ok := CanonicalErrno(name)
		assert.True(t, ok, name)
		assert.Equal(t, name, got)
	}
}
