package scenario

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/kreport/kinds"
)

func loadText(t *testing.T, text string) (*Scenario, error) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "hi")
	require.NoError(t, os.Mkdir(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, FileName), []byte(text), 0o644))
	return Load(dir)
}

// An expectation may name exactly the kinds of package kinds, and a kind
// that kills its task or hangs it (a crash kind, HANG) cannot go in a loop.
func TestReportKinds(t *testing.T) {
	const step = "steps:\n  - load: hi\n    expect:\n      - report: {kind: %s, module: hi}\n"
	for _, k := range kinds.All() {
		sc, err := loadText(t, fmt.Sprintf(step, k))
		require.NoError(t, err, k)
		got := sc.Steps[0].Expect[0].Reports[0].Kind
		assert.Equal(t, k, got)
		why := RepeatableSteps(sc.Steps)
		switch {
		case k.Crash() || k == kinds.Hang:
			assert.Contains(t, why, "which ends the boot", k)
		case k == kinds.Leftover:
			assert.Contains(t, why, "loops keep no resource ledger")
		default:
			assert.Empty(t, why, k)
		}
	}
	_, err := loadText(t, fmt.Sprintf(step, "OOPSIE"))
	assert.ErrorContains(t, err, `unknown report kind "OOPSIE" (want one of WARNING, BUG, OOPS, NULL_DEREF, GPF, KASAN, LEAK, PANIC, HANG, OOM, INIT_RETURN, LEFTOVER)`)
}
