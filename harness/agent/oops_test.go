package agent

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"modmatrix.dev/modmatrix/harness/protocol"
)

// hasOops reads kmsg records as the agent gets them: no timestamp, the
// report's first line at the start of its record.
func TestHasOops(t *testing.T) {
	recs := func(texts ...string) []protocol.Kmsg {
		var out []protocol.Kmsg
		for _, s := range texts {
			out = append(out, protocol.Kmsg{Text: s, Caller: "T20"})
		}
		return out
	}
	assert.True(t, hasOops(recs("hi: init", "BUG: unable to handle page fault for address: ffffffffa0004110")))
	assert.True(t, hasOops(recs("Oops: Oops: 0000 [#1]")))
	assert.True(t, hasOops(recs("general protection fault, probably for non-canonical address 0xdead000000000122: 0000 [#1]")))
	assert.True(t, hasOops(recs("Kernel panic - not syncing: Fatal exception")))
	// 6.1: BUG() then a bare "invalid opcode: 0000 [#1] PREEMPT SMP".
	assert.True(t, hasOops(recs("kernel BUG at drivers/misc/bug.c:12!", "invalid opcode: 0000 [#1] PREEMPT SMP")))
	assert.False(t, hasOops(recs("WARNING: CPU: 0 PID: 20 at hi.c:9 hi_init+0x5/0x9 [hi]", "hi: BUG: in the middle")))
	assert.False(t, hasOops(nil))
}
