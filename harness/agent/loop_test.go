package agent

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/protocol"
)

type recorder struct {
	mu     sync.Mutex
	events []protocol.Event
}

func (r *recorder) Emit(e protocol.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	return nil
}

// loopAgent observes the recorded 6.12 unload tree, with an empty kmsg.
func loopAgent(t *testing.T) (*Agent, *recorder) {
	t.Helper()
	empty := filepath.Join(t.TempDir(), "kmsg")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	kmsg, err := OpenKmsg(empty)
	require.NoError(t, err)
	rec := &recorder{}
	return &Agent{Events: rec, Sys: System{Root: "testdata/unload"}, Kmsg: kmsg}, rec
}

func TestRunLoopsConcurrent(t *testing.T) {
	a, rec := loopAgent(t)
	check := protocol.Step{Action: protocol.ActionCheck, Module: "hello", Sysfs: []string{"refcnt"}}
	pause := protocol.Step{Action: protocol.ActionPause, PauseMS: 1}
	st := protocol.Step{Action: protocol.ActionConcurrent, Loops: []protocol.Loop{
		{Count: 5, Steps: []protocol.Step{check, pause}},
		{Count: 3, Steps: []protocol.Step{pause, check}},
	}}
	res, stopped := a.runLoops("sc", 2, st)
	assert.False(t, stopped)
	assert.Empty(t, res.Error)
	assert.Equal(t, uint64(4096), res.TaintBefore)
	assert.Positive(t, res.DurationUS)

	next := map[int]int{0: 1, 1: 1}
	for _, e := range rec.events {
		require.Equal(t, protocol.EventIteration, e.Kind)
		assert.Equal(t, "sc", e.Scenario)
		assert.Equal(t, 2, e.StepIndex)
		it := e.Iteration
		// Each loop's iterations arrive in order, whatever the other does.
		assert.Equal(t, next[it.Loop], it.Index)
		next[it.Loop]++
		require.Len(t, it.Steps, 2)
		obs := it.Steps[it.Loop] // where the check is
		assert.Equal(t, "0", obs.Sysfs["refcnt"])
		assert.Equal(t, protocol.Step{Action: protocol.ActionCheck, Module: "hello"}, obs.Step, "iterations echo only what names the step")
		assert.Positive(t, obs.TID)
	}
	assert.Equal(t, map[int]int{0: 6, 1: 4}, next)
}

func TestRunLoopsStopsAtFailingIteration(t *testing.T) {
	a, rec := loopAgent(t)
	st := protocol.Step{Action: protocol.ActionRepeat, Loops: []protocol.Loop{
		{Count: 50, Steps: []protocol.Step{{Action: protocol.ActionCheck}, {Action: "bogus"}}},
	}}
	res, stopped := a.runLoops("sc", 0, st)
	assert.False(t, stopped, "an agent error is not a hang")
	assert.Equal(t, `iteration 1/50: unknown action "bogus"`, res.Error)
	assert.Equal(t, res.Error, res.Stopped)
	require.Len(t, rec.events, 1, "the failing iteration is reported, then the loop stops")
	assert.Equal(t, 1, rec.events[0].Iteration.Index)
}

// An oops the loop reads stops it at that iteration, but it is the
// kernel's report, not an agent failure: Stopped says where, Error stays
// empty so the host judges the report (a KASAN report is a FAIL).
func TestRunLoopsStopsAtOops(t *testing.T) {
	a, rec := loopAgent(t)
	kmsgFile := filepath.Join(t.TempDir(), "kmsg")
	require.NoError(t, os.WriteFile(kmsgFile, []byte("3,7,1000,-;BUG: KASAN: slab-use-after-free in bye+0x10/0x20 [stress_kasan]\n"), 0o644))
	kmsg, err := OpenKmsg(kmsgFile)
	require.NoError(t, err)
	a.Kmsg = kmsg
	st := protocol.Step{Action: protocol.ActionRepeat, Loops: []protocol.Loop{
		{Count: 50, Steps: []protocol.Step{{Action: protocol.ActionCheck}}},
	}}
	res, stopped := a.runLoops("sc", 0, st)
	assert.False(t, stopped)
	assert.Empty(t, res.Error)
	assert.Equal(t, "iteration 1/50: the kernel oopsed", res.Stopped)
	require.Len(t, rec.events, 1)
}
