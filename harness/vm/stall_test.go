package vm

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// The stall watch arms on the console line that starts a report that may
// kill a task, with or without PRINTK_CALLER's "[  T20]".
func TestStallWatchArms(t *testing.T) {
	for line, arms := range map[string]bool{
		"[    1.368050] BUG: unable to handle page fault for address: ffffffffa0004110":   true,
		"[    1.368050][   T20] Oops: Oops: 0000 [#1]":                                    true,
		"[    1.512300] general protection fault, probably for non-canonical address":     true,
		"[    1.600000][    C0] Kernel panic - not syncing: Fatal exception in interrupt": true,
		"[    1.412055][   T20] WARNING: CPU: 0 PID: 20 at hi.c:9 hi_init+0x5/0x9 [hi]":   false,
		"modagent: step 1 BUG: not a kernel line":                                         false,
	} {
		w := newStallWatch(1)
		w.console(line)
		assert.Equal(t, arms, !w.oops.IsZero(), line)
	}
	var off *stallWatch
	off.console("[    1.368050] Oops: Oops: 0000 [#1]") // no watch: nothing to arm
}
