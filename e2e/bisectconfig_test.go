package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bisectJSON is what the tests read of bisect.json.
type bisectJSON struct {
	Differ  []struct{ Symbol string } `json:"differ"`
	Culprit []struct {
		Symbol    string `json:"symbol"`
		Good, Bad string
	} `json:"culprit"`
	Probes []struct {
		Name    string `json:"name"`
		Outcome string `json:"outcome"`
		SameAs  string `json:"same_as"`
	} `json:"probes"`
	Tried      int   `json:"tried"`
	Skipped    int   `json:"skipped"`
	Built      int   `json:"kernels_built"`
	VMs        int   `json:"vms"`
	FromCache  int   `json:"from_cache"`
	DurationMS int64 `json:"duration_ms"`
}

// noexitFolder is a --module folder with modules/noexit's source, driven
// by the bisect tests' own scenario files.
func noexitFolder(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "noexit")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for _, f := range []string{"Kbuild", "noexit.c"} {
		b, err := os.ReadFile(filepath.Join(repoRoot(t), "modules", "noexit", f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o644))
	}
	return dir
}

// TestBisectConfig runs bisect-config on real builds and boots of 6.12 with
// two known answers: MODULE_FORCE_UNLOAD alone among thirteen symbols,
// then MODULE_UNLOAD and MODULE_FORCE_UNLOAD together, because the second
// resolves away without the first. The dozen unrelated symbols are the
// same in both, so their probes' kernels are shared; the repeat of the
// first is served from the cache: no build, no boot.
func TestBisectConfig(t *testing.T) {
	requireTools(t)
	bin := modmatrixBin(t)
	folder := noexitFolder(t)
	data := filepath.Join(repoRoot(t), "e2e", "testdata", "bisect")
	bisectConfig := func(t *testing.T, scenario, good, bad string) (bisectJSON, string) {
		t.Helper()
		out := keptOnFailure(t)
		text, code := runCLI(t, bin, "bisect-config", "--cache", cacheDir(), "--out", out, "--kernels", "6.12",
			"--module", folder, "--scenario", filepath.Join(data, scenario), "--good", good, "--bad", bad)
		require.Equal(t, 0, code, text)
		raw, err := os.ReadFile(filepath.Join(out, "bisect.json"))
		require.NoError(t, err)
		var b bisectJSON
		require.NoError(t, json.Unmarshal(raw, &b))
		t.Logf("%d symbols differ; %d probes (%d skipped) and good and bad, %d kernels built, %d VMs, %d from the cache, %.0f s",
			len(b.Differ), b.Tried, b.Skipped, b.Built, b.VMs, b.FromCache, float64(b.DurationMS)/1000)
		return b, text
	}
	culprit := func(b bisectJSON) []string {
		var out []string
		for _, c := range b.Culprit {
			out = append(out, c.Symbol+" "+c.Good+"→"+c.Bad)
		}
		return out
	}

	t.Run("one symbol among thirteen", func(t *testing.T) {
		b, text := bisectConfig(t, "ebusy.yaml", "unload", filepath.Join(data, "unload-unrelated-force.config"))
		assert.Equal(t, []string{"MODULE_FORCE_UNLOAD n→y"}, culprit(b), text)
		assert.GreaterOrEqual(t, len(b.Differ), 13, "a dozen unrelated symbols, RD_LZ4's selection and the culprit")
		assert.Contains(t, text, "CONFIG_MODULE_FORCE_UNLOAD  good: n  bad: y")
		assert.Contains(t, text, "probe 1: ")

		again, text := bisectConfig(t, "ebusy.yaml", "unload", filepath.Join(data, "unload-unrelated-force.config"))
		assert.Equal(t, culprit(b), culprit(again))
		assert.Zero(t, again.Built, "a repeated bisect builds nothing: %s", text)
		// Only a probe that could not be judged (a boot that timed out on
		// a loaded machine) is tried again.
		assert.LessOrEqual(t, again.VMs, b.Skipped, "a repeated bisect runs no VM: %s", text)
		assert.Positive(t, again.FromCache)
		assert.Len(t, again.Probes, len(b.Probes))
	})

	t.Run("two symbols, one depending on the other", func(t *testing.T) {
		b, text := bisectConfig(t, "stays.yaml", filepath.Join(data, "unload-off-unrelated.config"), "force-unload")
		assert.ElementsMatch(t, []string{"MODULE_FORCE_UNLOAD n→y", "MODULE_UNLOAD n→y"}, culprit(b), text)
		var away bool
		for _, p := range b.Probes {
			away = away || p.SameAs != ""
		}
		assert.True(t, away, "some probe resolved to an earlier one's config (MODULE_FORCE_UNLOAD without MODULE_UNLOAD): %s", text)
		assert.True(t, strings.Contains(text, "resolved to "), text)
	})
}
