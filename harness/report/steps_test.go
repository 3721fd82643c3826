package report

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/protocol"
	"modmatrix.dev/modmatrix/harness/verdict"
)

// TestStepRecordsKeepTheStepTheGuestDiedIn: the step after the agent's
// last result (the guest panicked in it) is recorded with what was judged
// and its reports; the steps after it, which never ran, are not.
func TestStepRecordsKeepTheStepTheGuestDiedIn(t *testing.T) {
	steps := []protocol.StepResult{{Step: protocol.Step{Action: protocol.ActionLoad, Module: "a"}}}
	result := verdict.Result{Steps: []verdict.StepOutcome{
		{Index: 0, Action: "load", Module: "a"},
		{Index: 1, Action: "load", Module: "panic_init", Error: "no result: the guest died in the expected crash", Expected: []string{"kernel report PANIC"}},
		{Index: 2, Action: "unload", Module: "panic_init", Error: "no result"},
	}}
	panicked := verdict.Report{Kind: "PANIC", Title: "kernel panic: panic_init: giving up on purpose"}
	recs := StepRecords(steps, result, map[int][]verdict.Report{1: {panicked}})
	require.Len(t, recs, 2)
	assert.Equal(t, "panic_init", recs[1].Module)
	assert.Equal(t, "no result: the guest died in the expected crash", recs[1].Error)
	assert.Equal(t, []verdict.Report{panicked}, recs[1].Reports)
	assert.Equal(t, []string{"kernel report PANIC"}, recs[1].Expected)
}
