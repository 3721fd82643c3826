package matrix

import (
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

// TestJudge: the cell's side of a boot's judgement, on the recorded boot
// of hello on a 6.12 kernel with MODULE_UNLOAD=y (verdict's tests judge
// the same boot every other way): results name the cell, how the VM
// started and its logs, and a boot that ran nothing gives the scenario
// the boot's verdict.
func TestJudge(t *testing.T) {
	hello, err := scenario.Load("../../modules/hello")
	require.NoError(t, err)
	events := readEvents(t, "../verdict/testdata/boot/hello-unload.events.jsonl")
	unloadCfg := kconfig.Config{"MODULES": "y", "MODULE_UNLOAD": "y"}
	for _, tc := range []struct {
		name    string
		res     vm.Result
		done    bool
		verdict verdict.Verdict
	}{
		{name: "complete", res: vm.Result{Events: events, Done: true}, done: true, verdict: verdict.Pass},
		{name: "no events", res: vm.Result{}, verdict: verdict.Error},
		{name: "hang before agent", res: vm.Result{TimedOut: true, Duration: 60 * time.Second}, verdict: verdict.Hang},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefix := filepath.Join(t.TempDir(), "boot-1")
			require.NoError(t, os.WriteFile(prefix+".console.log", nil, 0o644))
			r := &cellRun{
				m:      &Matrix{},
				u:      unit{src: &ksrc.Source{Version: "6.12.117"}, cell: kconfig.Cell{Name: "unload"}},
				kernel: &kbuild.Kernel{Config: unloadCfg},
			}
			got := r.judge(hello, &tc.res, prefix, "restore")
			assert.Equal(t, tc.verdict, got.Verdict, got.Reason)
			assert.Equal(t, "hello", got.Scenario)
			assert.Equal(t, "unload", got.Cell)
			assert.Equal(t, "6.12.117", got.Kernel)
			assert.Equal(t, "restore", got.Started)
			assert.Equal(t, prefix+".console.log", got.ConsoleLog)
			if tc.done {
				require.NotNil(t, got.Start, "the boot event's state")
				assert.Empty(t, got.Start.Modules)
				require.Len(t, got.Steps, 2)
				assert.Equal(t, []string{"hi module being loaded."}, got.Steps[0].Kmsg[1:])
			}
		})
	}
}

// readEvents reads a recorded boot's event log.
func readEvents(t *testing.T, path string) []protocol.Event {
	t.Helper()
	events, err := protocol.ReadEventLog(path)
	require.NoError(t, err)
	return events
}
