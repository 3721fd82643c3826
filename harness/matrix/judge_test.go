package matrix

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/kbuild"
	"modmatrix.dev/modmatrix/harness/kconfig"
	"modmatrix.dev/modmatrix/harness/ksrc"
	"modmatrix.dev/modmatrix/harness/protocol"
	"modmatrix.dev/modmatrix/harness/scenario"
	"modmatrix.dev/modmatrix/harness/verdict"
	"modmatrix.dev/modmatrix/harness/vm"
)

// readEvents decodes a boot's event log as the VM package writes it.
func readEvents(t *testing.T, path string) []protocol.Event {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var events []protocol.Event
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e protocol.Event
		require.NoError(t, json.Unmarshal(sc.Bytes(), &e))
		events = append(events, e)
	}
	return events
}

// The recorded boot is hello on a 6.12 kernel with MODULE_UNLOAD=y.
func TestJudge(t *testing.T) {
	hello, err := scenario.Load("../../modules/hello")
	require.NoError(t, err)
	events := readEvents(t, "testdata/hello-unload.events.jsonl")
	require.Len(t, events, 7)
	stepOnly := func(n int) []protocol.Event {
		// boot, then n step_start/step pairs, then nothing: the guest died.
		return events[:1+2*n]
	}
	unloadCfg := kconfig.Config{"MODULES": "y", "MODULE_UNLOAD": "y"}

	tests := []struct {
		name    string
		config  kconfig.Config
		res     vm.Result
		console string
		done    int
		verdict verdict.Verdict
		reason  string
	}{
		{name: "complete", config: unloadCfg, res: vm.Result{Events: events, Done: true}, done: 1, verdict: verdict.Pass},
		{
			// The same observations judged against MODULE_UNLOAD=n expectations.
			name: "wrong config", config: kconfig.Config{"MODULES": "y"}, res: vm.Result{Events: events, Done: true},
			done: 1, verdict: verdict.Fail, reason: "step 2 (unload hello, ",
		},
		{
			name: "panic mid-scenario", config: unloadCfg, res: vm.Result{Events: stepOnly(1)},
			console: "[    1.5] Kernel panic - not syncing: Fatal exception\n",
			done:    1, verdict: verdict.Crash, reason: "kernel panic during step 2 (unload hello",
		},
		{
			name: "timeout mid-scenario", config: unloadCfg, res: vm.Result{Events: stepOnly(1), TimedOut: true, Duration: 60 * time.Second},
			done: 1, verdict: verdict.Hang, reason: "VM timed out after 1m0s during step 2",
		},
		{
			name: "silent after first step", config: unloadCfg, res: vm.Result{Events: stepOnly(1)},
			done: 1, verdict: verdict.Error, reason: "guest stopped reporting during step 2",
		},
		{
			name: "no events", config: unloadCfg, res: vm.Result{},
			done: 0, verdict: verdict.Error, reason: "boot produced no scenario events",
		},
		{
			name: "agent failure", config: unloadCfg,
			res:  vm.Result{Events: []protocol.Event{{Kind: protocol.EventAgentFailure, Error: "open /modmatrix/plan.json: no such file"}}},
			done: 0, verdict: verdict.Error, reason: "agent failed: open /modmatrix/plan.json",
		},
		{
			name: "hang before agent", config: unloadCfg, res: vm.Result{TimedOut: true, Duration: 60 * time.Second},
			done: 0, verdict: verdict.Hang, reason: "VM timed out",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			prefix := filepath.Join(dir, "boot-1")
			require.NoError(t, os.WriteFile(prefix+".console.log", []byte(tc.console), 0o644))
			r := &cellRun{
				u:      unit{src: &ksrc.Source{Version: "6.12.117"}, cell: kconfig.Cell{Name: "unload"}},
				kernel: &kbuild.Kernel{Config: tc.config},
				boots:  1,
			}
			done, results := r.judge([]*scenario.Scenario{hello}, &tc.res, prefix)
			assert.Equal(t, tc.done, done)
			require.Len(t, results, 1)
			assert.Equal(t, tc.verdict, results[0].Verdict, results[0].Reason)
			assert.Contains(t, results[0].Reason, tc.reason)
			assert.Equal(t, 1, results[0].Boot)
		})
	}
}

func TestNextBatch(t *testing.T) {
	a, b, own, c := &scenario.Scenario{Name: "a"}, &scenario.Scenario{Name: "b"},
		&scenario.Scenario{Name: "own", OwnBoot: true}, &scenario.Scenario{Name: "c"}
	assert.Equal(t, []*scenario.Scenario{a, b}, nextBatch([]*scenario.Scenario{a, b, own, c}))
	assert.Equal(t, []*scenario.Scenario{own}, nextBatch([]*scenario.Scenario{own, c}))
	assert.Equal(t, []*scenario.Scenario{c}, nextBatch([]*scenario.Scenario{c}))
}

func TestConsoleMarkers(t *testing.T) {
	console := []byte("[    1.000000] modmatrix: hello step 0\n" +
		"[    1.100000] hi module being loaded.\n" +
		"[    1.200000] modmatrix: hello step 1\n" +
		"[    1.300000] BUG: kernel NULL pointer dereference, address: 0000000000000000\n")
	ms := consoleMarkers(console)
	require.Len(t, ms, 2)
	assert.Nil(t, ms.before(0), "before the first marker: boot")
	assert.Equal(t, marker{line: 0, scenario: "hello", step: 0}, *ms.before(1))
	assert.Equal(t, marker{line: 2, scenario: "hello", step: 1}, *ms.before(3))

	hello, err := scenario.Load("../../modules/hello")
	require.NoError(t, err)
	reports := stepReports(hello, &scenarioEvents{started: true}, parseConsole(console))
	require.Len(t, reports[1], 1, "the oops printed after step 1's marker belongs to step 1")
	assert.Equal(t, "NULL_DEREF", reports[1][0].Kind)
	assert.Empty(t, reports[0])
}
