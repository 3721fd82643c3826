package verdict

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/protocol"
	"modmatrix.dev/modmatrix/harness/scenario"
)

func TestJudgeReports(t *testing.T) {
	exitOops, err := scenario.Load("../../modules/exit-oops")
	require.NoError(t, err)
	hello, err := scenario.Load("../../modules/hello")
	require.NoError(t, err)
	unload := func(sym string) string {
		return map[string]string{"MODULES": "y", "MODULE_UNLOAD": "y"}[sym]
	}
	loaded := protocol.StepResult{Step: protocol.Step{Action: "load", Module: "exit_oops"}, ProcModules: "exit_oops 12288 0 - Live 0x0 (O)", ProcModulesExists: true}
	oops := Report{Kind: "NULL_DEREF", Title: "BUG: kernel NULL pointer dereference in exit_oops_exit", Modules: []string{"exit_oops"}}
	died := protocol.StepResult{Step: protocol.Step{Action: "unload", Module: "exit_oops"}, Died: true, Error: "oopsed",
		Kmsg: []protocol.Kmsg{{Text: "exit_oops: about to write through NULL"}}}
	helloLoad := protocol.StepResult{Step: protocol.Step{Action: "load", Module: "hello"}, ProcModules: "hello 1 0 - Live 0x0 (O)", ProcModulesExists: true,
		Kmsg: []protocol.Kmsg{{Text: "hi module being loaded."}}}
	helloUnload := protocol.StepResult{Step: protocol.Step{Action: "unload", Module: "hello"}, ProcModulesExists: true,
		Kmsg: []protocol.Kmsg{{Text: "hi module being unloaded."}}}

	tests := []struct {
		name    string
		sc      *scenario.Scenario
		results []protocol.StepResult
		reports map[int][]Report
		verdict Verdict
		reason  string
	}{
		{name: "pinned oops caught", sc: exitOops, results: []protocol.StepResult{loaded, died}, reports: map[int][]Report{1: {oops}}, verdict: Pass},
		{name: "pinned oops, guest silent", sc: exitOops, results: []protocol.StepResult{loaded}, reports: map[int][]Report{1: {oops}}, verdict: Pass},
		{name: "pinned oops missing", sc: exitOops, results: []protocol.StepResult{loaded, died}, verdict: Crash, reason: "step 2 (unload exit_oops"},
		{
			name: "unexpected oops", sc: hello, results: []protocol.StepResult{helloLoad, helloUnload},
			reports: map[int][]Report{1: {{Kind: "OOPS", Title: "BUG: unable to handle page fault in bye"}}},
			verdict: Crash, reason: "step 2 (unload hello, ../../modules/hello/scenario.yaml:13): unexpected kernel report: BUG: unable to handle page fault in bye",
		},
		{
			name: "unexpected warning", sc: hello, results: []protocol.StepResult{helloLoad, helloUnload},
			reports: map[int][]Report{0: {{Kind: "WARNING", Title: "WARNING in hi"}}},
			verdict: Fail, reason: "unexpected kernel report: WARNING in hi",
		},
		{
			name: "benign init return", sc: hello, results: []protocol.StepResult{helloLoad, helloUnload},
			reports: map[int][]Report{0: {{Kind: "INIT_RETURN", Title: "init returned 42 in hello"}}},
			verdict: Pass,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := Judge(Resolve(tc.sc, unload), tc.results, func(i int) []Report { return tc.reports[i] })
			assert.Equal(t, tc.verdict, res.Verdict, res.Reason)
			assert.Contains(t, res.Reason, tc.reason)
		})
	}
}
