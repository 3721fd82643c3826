package scenario

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/protocol"
)

func TestLoadLoopScenarios(t *testing.T) {
	hello, err := Load("../../modules/stress-hello", testSymbols)
	require.NoError(t, err)
	require.Len(t, hello.Steps, 3)
	rep := hello.Steps[2]
	assert.Equal(t, protocol.ActionRepeat, rep.Action)
	require.Len(t, rep.Loops, 1)
	assert.Equal(t, 200, rep.Loops[0].Count)
	assert.Equal(t, "repeat 200× [load stress_hello, unload stress_hello]", rep.Describe())
	plan := rep.Plan()
	require.Len(t, plan.Loops, 1)
	assert.Equal(t, "stress_hello.ko", plan.Loops[0].Steps[0].File)
	assert.Contains(t, plan.Loops[0].Steps[0].Sysfs, "refcnt")

	conc, err := Load("../../modules/stress-concurrent", testSymbols)
	require.NoError(t, err)
	st := conc.Steps[4]
	assert.Equal(t, protocol.ActionConcurrent, st.Action)
	require.Len(t, st.Loops, 2)
	assert.Equal(t, "conc_b", st.Loops[1].Steps[1].Module)
	// The anchored expectations apply to both loops.
	assert.Len(t, st.Loops[1].Steps[0].Expect, 3)
	assert.Len(t, conc.FlatSteps(), 4+4+1)
}

func TestLoopErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"no count", "steps:\n  - repeat:\n    steps: [{load: a}]\n", "repeat must be a count"},
		{"zero", "steps:\n  - repeat: 0\n    steps: [{load: a}]\n", "repeat must be a count from 1"},
		{"two actions", "steps:\n  - steps: [{load: a}]\n    repeat: 2\n    concurrent: []\n", "two actions: repeat and concurrent"},
		{"no steps", "steps:\n  - repeat: 3\n", "repeat step has no steps"},
		{"nested", "steps:\n  - repeat: 3\n    steps:\n      - repeat: 2\n        steps: [{load: a}]\n", "cannot loop themselves"},
		{"unknown key", "steps:\n  - repeat: 3\n    expect: []\n    steps: [{load: a}]\n", `unknown key "expect" in repeat step`},
		{"hung", "steps:\n  - repeat: 3\n    steps:\n      - load: a\n        expect: [{hung: true}]\n", "expects a hang"},
		{"crash", "steps:\n  - repeat: 3\n    steps:\n      - load: a\n        expect: [{report: {kind: OOPS}}]\n", "ends the boot"},
		{"crash after a warning", "steps:\n  - repeat: 3\n    steps:\n      - load: a\n        expect: [{report: [{kind: WARNING}, {kind: GPF}]}]\n", "expects a GPF, which ends the boot"},
		{"one loop", "steps:\n  - concurrent:\n      - {repeat: 2, steps: [{load: a}]}\n", "at least two loops"},
		{"shared module", "steps:\n  - concurrent:\n      - {repeat: 2, steps: [{load: a}]}\n      - {repeat: 2, steps: [{unload: a}]}\n", "both act on module a"},
		{"open", "steps:\n  - concurrent:\n      - {steps: [{open: /dev/x}]}\n      - {steps: [{load: b}]}\n", "share the agent's open files"},
		{"kmsg", "steps:\n  - concurrent:\n      - {steps: [{load: a, expect: [{kmsg: x}]}]}\n      - {steps: [{load: b}]}\n", "does not say which loop"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, FileName), []byte(tc.yaml), 0o644))
			_, err := Load(dir, testSymbols)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), FileName+":")
		})
	}
}

func TestRepeated(t *testing.T) {
	hello, err := Load("../../modules/hello", testSymbols)
	require.NoError(t, err)
	rep, why := hello.Repeated(5, unloadOn)
	require.Empty(t, why)
	require.Len(t, rep.Steps, 1)
	assert.Equal(t, 5, rep.Steps[0].Loops[0].Count)
	assert.Equal(t, hello.Steps, rep.Steps[0].Loops[0].Steps)
	assert.Len(t, hello.Steps, 2, "the original is left alone")

	stress, err := Load("../../modules/stress-hello", testSymbols)
	require.NoError(t, err)
	same, why := stress.Repeated(5, unloadOn)
	assert.Same(t, stress, same)
	assert.Contains(t, why, "already loops")

	// Where unloading is off, hello's module stays: a second iteration
	// would start from another state.
	_, why = hello.Repeated(5, unloadOff)
	assert.Contains(t, why, "leaves module hello loaded")
	_, why = hello.Repeated(5, modulesOff)
	assert.Empty(t, why)
}

func TestLeavesClean(t *testing.T) {
	for _, tc := range []struct {
		dir    string
		lookup func(string) string
		want   string
	}{
		{"hello", unloadOn, ""},
		{"hello", forceUnload, ""},
		{"hello", unloadOff, "leaves module hello loaded"},
		{"hello", modulesOff, ""},
		{"noexit", unloadOn, "leaves module noexit loaded"},
		{"noexit", forceUnload, "expects taint R"},
		{"double-load", unloadOn, ""},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			sc, err := Load("../../modules/"+tc.dir, testSymbols)
			require.NoError(t, err)
			got := sc.LeavesClean(tc.lookup)
			if tc.want == "" {
				assert.Empty(t, got)
			} else {
				assert.Contains(t, got, tc.want)
			}
		})
	}
}
