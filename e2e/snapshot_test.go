package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/matrix"
	"modmatrix.dev/modmatrix/harness/protocol"
	"modmatrix.dev/modmatrix/harness/report"
	"modmatrix.dev/modmatrix/harness/verdict"
)

// TestSnapshotServesEditedModule: a cell's snapshot holds the kernel and
// the agent only, so a module edited between two runs reaches the next
// run's restored guest: nothing boots, and the new .ko's message shows.
func TestSnapshotServesEditedModule(t *testing.T) {
	requireTools(t)
	ctx := testContext(t, 60*time.Minute)
	modules := helloCopy(t, func(s string) string { return s })
	run := func() *report.Results {
		return runMatrix(t, ctx, matrix.WithModulesDir(modules), matrix.WithCells("unload"))
	}
	first := run()
	require.Equal(t, verdict.Pass, first.Results[0].Verdict, first.Results[0].Reason)

	src := filepath.Join(modules, "hello", "hello.c")
	b, err := os.ReadFile(src)
	require.NoError(t, err)
	edited := strings.Replace(string(b), "hi module being loaded.", "hi module, edited, being loaded.", 1)
	require.NotEqual(t, string(b), edited)
	require.NoError(t, os.WriteFile(src, []byte(edited), 0o644))
	yaml := filepath.Join(modules, "hello", "scenario.yaml")
	b, err = os.ReadFile(yaml)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(yaml, []byte(strings.Replace(string(b), "hi module being loaded.", "hi module, edited, being loaded.", 1)), 0o644))

	second := run()
	require.Len(t, second.Cells, 1)
	c := second.Cells[0]
	assert.Zero(t, c.Boots, "the cell's snapshot serves the edited module: nothing boots")
	assert.True(t, c.SnapshotCached)
	assert.Equal(t, first.Cells[0].SnapshotKey, c.SnapshotKey)
	r := second.Results[0]
	require.Equal(t, verdict.Pass, r.Verdict, r.Reason)
	assert.Equal(t, "restore", r.Started)
	assert.Contains(t, r.Steps[0].Kmsg, "hi module, edited, being loaded.", "the new .ko ran")
}

// TestNoSnapshotSameVerdicts: booting every scenario (--no-snapshot) gives
// the verdicts restoring them does, on the cell where nothing unloads and
// on the one where everything does. The restored side is the package's
// shared run of the default matrix (defaultMatrix), those two cells of it.
func TestNoSnapshotSameVerdicts(t *testing.T) {
	requireTools(t)
	ctx := testContext(t, 60*time.Minute)
	cells := []string{"unload", "unload-off"}
	all, err := report.Read(defaultMatrix(t))
	require.NoError(t, err)
	restored := onCells(all, cells...)
	booted := runMatrix(t, ctx, matrix.WithCells(cells...), matrix.WithNoSnapshot(true))
	require.Len(t, restored.Cells, len(cells))
	requireRestoredScenarios(t, restored)
	verdicts := func(res *report.Results) map[string]verdict.Verdict {
		out := map[string]verdict.Verdict{}
		for _, r := range res.Results {
			out[r.Cell+" "+r.Scenario] = r.Verdict
		}
		return out
	}
	assert.Equal(t, verdicts(restored), verdicts(booted))
	for _, c := range booted.Cells {
		assert.Zero(t, c.Restores, "%s", c.Cell)
		assert.Contains(t, c.SnapshotNote, "--no-snapshot", "%s", c.Cell)
	}
	for _, r := range booted.Results {
		if r.Verdict != verdict.Skip {
			assert.Equal(t, "boot", r.Started, "%s %s", r.Cell, r.Scenario)
		}
	}
}

// kmemleakWait checks, on a debug cell's leaky run, that kmemleak's scan
// came at least its 5 s minimum object age after the leaking load on the
// guest's clock, and that under TCG the guest ran on icount, which skips
// that idle wait instead of sleeping through it. What the wait then costs
// in wall time is measured by make bench (BENCHMARKS.md), not asserted.
func kmemleakWait(t *testing.T, r report.ScenarioResult, res *report.Results) {
	t.Helper()
	events, err := protocol.ReadEventLog(r.EventLog)
	require.NoError(t, err)
	var loadMS, scanMS int64
	for _, e := range events {
		switch {
		case e.Kind == protocol.EventStep && e.Step != nil && e.Step.Step.Action == protocol.ActionLoad:
			loadMS = e.UptimeMS
		case e.Kind == protocol.EventKmemleak:
			scanMS = e.UptimeMS
		}
	}
	require.NotZero(t, scanMS, "no kmemleak scan in %s", r.EventLog)
	assert.GreaterOrEqual(t, scanMS-loadMS, int64(5000), "kmemleak reports only objects 5 s old")
	if res.Accel == "tcg" {
		assert.Equal(t, "icount", res.GuestClock, "the wait costs guest time, not wall time")
	}
}

// TestSnapshotDamaged: a cached snapshot is checked before use and never
// turns into a wrong verdict. A truncated one (size and digest no longer
// match its meta.json) is made again; one that passes the check but does
// not restore (QEMU refuses the stream) is dropped from the cache, and the
// scenario boots instead, with the cell saying why.
func TestSnapshotDamaged(t *testing.T) {
	requireTools(t)
	ctx := testContext(t, 60*time.Minute)
	run := func() *report.Results {
		return runMatrix(t, ctx, matrix.WithCells("unload"), matrix.WithScenarios("hello"))
	}
	first := run()
	require.Equal(t, verdict.Pass, first.Results[0].Verdict, first.Results[0].Reason)
	dir := filepath.Join(cacheDir(), "snapshots", first.Cells[0].SnapshotKey)
	vmstate := filepath.Join(dir, "vmstate")

	require.NoError(t, os.Truncate(vmstate, 1<<20))
	remade := run()
	assert.False(t, remade.Cells[0].SnapshotCached, "a truncated snapshot is made again")
	assert.Equal(t, 1, remade.Cells[0].Restores)
	assert.Equal(t, verdict.Pass, remade.Results[0].Verdict, remade.Results[0].Reason)

	// Garbage that matches its recorded size and digest: only QEMU can
	// tell it is no snapshot.
	garbage := []byte(strings.Repeat("not a migration stream\n", 1000))
	require.NoError(t, os.WriteFile(vmstate, garbage, 0o644))
	sum := sha256.Sum256(garbage)
	metaFile := filepath.Join(dir, "meta.json")
	b, err := os.ReadFile(metaFile)
	require.NoError(t, err)
	var meta map[string]any
	require.NoError(t, json.Unmarshal(b, &meta))
	meta["vmstate_size"], meta["vmstate_sha256"] = len(garbage), hex.EncodeToString(sum[:])
	b, err = json.Marshal(meta)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(metaFile, b, 0o644))

	fellBack := run()
	c, r := fellBack.Cells[0], fellBack.Results[0]
	assert.Equal(t, verdict.Pass, r.Verdict, r.Reason)
	assert.Equal(t, "boot", r.Started, "the scenario booted instead")
	assert.Contains(t, c.SnapshotNote, "failed to restore")
	assert.NoDirExists(t, dir, "the snapshot that would not restore is gone from the cache")
}
