package verdict

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/scenario"
)

// A step whose blocks all have a when: that fails on a cell checks nothing
// there, and is named; a step with no blocks at all, or one that applies,
// is not.
func TestUnchecked(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"Kbuild": "obj-m := a.o\n",
		"a.c":    "",
		"scenario.yaml": `description: forgets unload-off
steps:
  - load: a
    expect:
      - errno: ok
  - pause: 10ms
  - unload: a
    expect:
      - when: MODULE_UNLOAD
        errno: ok
  - repeat: 2
    steps:
      - check: a
        expect: [{when: MODULE_UNLOAD, loaded: false}]
`,
	} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	sc, err := scenario.Load(dir)
	require.NoError(t, err)
	on := func(cfg map[string]string) func(string) string { return func(s string) string { return cfg[s] } }

	assert.Empty(t, Resolve(sc, on(map[string]string{"MODULES": "y", "MODULE_UNLOAD": "y"})).Unchecked())
	file := filepath.Join(dir, "scenario.yaml")
	assert.Equal(t, []string{
		"step 3 (unload a, " + file + ":7): no expect block's when: holds on this cell, so nothing is checked",
		"step 4 loop 1 step 1 (check a, " + file + ":13): no expect block's when: holds on this cell, so nothing is checked",
	}, Resolve(sc, on(map[string]string{"MODULES": "y"})).Unchecked())
}
