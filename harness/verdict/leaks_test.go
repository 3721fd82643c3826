package verdict

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/protocol"
)

// A kmemleak report recorded on the 6.12 debug cell, after leaky (loaded
// by thread 32) was unloaded: its init frame is a bare address, and the
// same addresses served init_positive earlier in that boot.
const leakyReport = `unreferenced object 0xffff888000ea3800 (size 512):
  comm "uinit", pid 32, jiffies 4294892705
  hex dump (first 32 bytes):
    7b 22 68 75 67 65 6c 67 75 70 66 5f 76 6d 74 65  {"hugelgupf_vmte
  backtrace (crc d9286730):
    slab_post_alloc_hook.constprop.0+0x61/0x7b
    slab_alloc_node.isra.0+0x62/0x6d
    __kmalloc_cache_noprof+0xb/0xc
    0xffffffffa0006033
    do_one_initcall+0x70/0x14e
    do_init_module+0x5b/0x1f7
`

func TestLeakAttribution(t *testing.T) {
	load := func(module string, tid int) protocol.StepResult {
		return protocol.StepResult{
			Step:        protocol.Step{Action: protocol.ActionLoad, Module: module},
			ProcModules: module + " 12288 0 - Live 0xffffffffa0000000 (O)",
			Sysfs:       map[string]string{"sections/.init.text": "0xffffffffa0006000"},
			TID:         tid,
		}
	}
	unload := func(module string) protocol.StepResult {
		return protocol.StepResult{Step: protocol.Step{Action: protocol.ActionUnload, Module: module}}
	}
	by := map[string]*scenarioEvents{
		"init-positive": {steps: []protocol.StepResult{load("init_positive", 31), unload("init_positive")}},
		"leaky":         {steps: []protocol.StepResult{load("leaky", 32), unload("leaky")}},
	}
	spans := moduleSpans([]string{"init-positive", "leaky"}, by)
	leaks, loose := leakReports([]protocol.Event{{Kind: protocol.EventKmemleak, Kmemleak: leakyReport}}, spans)
	assert.Empty(t, loose)
	require.Len(t, leaks[stepRef{"leaky", 1}], 1, "pinned on leaky's unload")
	rep := leaks[stepRef{"leaky", 1}][0]
	assert.Equal(t, "LEAK", rep.Kind)
	assert.Contains(t, rep.Modules, "leaky")
	assert.Empty(t, leaks[stepRef{"init-positive", 1}])

	// Without the thread, the last module loaded at that address.
	assert.Equal(t, "leaky", spanOf(leakyReport, spans, 0).name)
	assert.Equal(t, "init_positive", spanOf(leakyReport, spans, 31).name)
}

// A loop's iterations that load a module at the same place share its
// spans (one per section), however many there are; the leak still goes to
// the loop step, matched by any iteration's thread.
func TestLeakSpansOfALoop(t *testing.T) {
	var its []protocol.Iteration
	for k := 1; k <= 1000; k++ {
		its = append(its, protocol.Iteration{Index: k, Steps: []protocol.StepResult{
			{
				Step:        protocol.Step{Action: protocol.ActionLoad, Module: "leaky"},
				ProcModules: "leaky 12288 0 - Live 0xffffffffa0000000 (O)",
				Sysfs:       map[string]string{"sections/.init.text": "0xffffffffa0006000"},
				TID:         100 + k,
			},
			{Step: protocol.Step{Action: protocol.ActionUnload, Module: "leaky"}},
		}})
	}
	by := map[string]*scenarioEvents{
		"init-positive": {steps: []protocol.StepResult{{
			Step:        protocol.Step{Action: protocol.ActionLoad, Module: "init_positive"},
			ProcModules: "init_positive 12288 0 - Live 0xffffffffa0000000 (O)",
			Sysfs:       map[string]string{"sections/.init.text": "0xffffffffa0006000"},
			TID:         31,
		}, {Step: protocol.Step{Action: protocol.ActionUnload, Module: "init_positive"}}}},
		"stress": {steps: []protocol.StepResult{{Step: protocol.Step{Action: protocol.ActionRepeat}, Iterations: its}}},
	}
	spans := moduleSpans([]string{"init-positive", "stress"}, by)
	require.Len(t, spans, 4, "core and init of each module")
	assert.Len(t, spans[2].tids, 1000)

	leaks, loose := leakReports([]protocol.Event{{Kind: protocol.EventKmemleak, Kmemleak: leakyReport}}, spans)
	assert.Empty(t, loose)
	require.Len(t, leaks[stepRef{"stress", 0}], 1)
	assert.Contains(t, leaks[stepRef{"stress", 0}][0].Modules, "leaky")
	assert.Equal(t, "init_positive", spanOf(leakyReport, spans, 31).name)
	assert.Equal(t, "leaky", spanOf(leakyReport, spans, 0).name, "the latest loaded there")
	assert.Equal(t, "leaky", spanOf(leakyReport, spans, 600).name)
}
