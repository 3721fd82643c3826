package matrix

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/modbuild"
)

// A folder without a scenario file gets the default scenario from its
// Kbuild's obj-m names, before anything is built; without obj-m, the user
// is told to write a scenario file.
func TestUserScenarioFromKbuild(t *testing.T) {
	m := &Matrix{cfg: Config{OutDir: t.TempDir()}}
	dir := filepath.Join(t.TempDir(), "mymods")
	require.NoError(t, os.Mkdir(dir, 0o755))
	_, err := m.userScenario(dir)
	assert.EqualError(t, err, dir+": no scenario.yaml and no obj-m line in Kbuild or Makefile: write a scenario.yaml for it (see modmatrix's harness/scenario/doc.go)")
	assert.ErrorIs(t, err, modbuild.ErrNoObjM)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "Kbuild"), []byte("obj-m := dep_a.o dep_b.o\n"), 0o644))
	sc, err := m.userScenario(dir)
	require.NoError(t, err)
	assert.True(t, sc.Generated)
	assert.Equal(t, "dep_b", sc.Steps[1].Module)
	assert.Equal(t, "dep_b.ko", sc.Steps[1].File)
	assert.Equal(t, []string{"dep_a", "dep_b"}, sc.Modules)
}

func TestCheckModuleNames(t *testing.T) {
	built := map[string]*modbuild.Result{
		"a": {Dir: "/cache/a-1", Modules: map[string]string{"lib": "/cache/a-1/lib.ko"}},
		"b": {Dir: "/cache/b-1", Modules: map[string]string{"user": "/cache/b-1/user.ko"}},
	}
	assert.NoError(t, checkModuleNames(built))
	built["c"] = &modbuild.Result{Dir: "/cache/c-1", Modules: map[string]string{"lib": "/cache/c-1/lib.ko"}}
	assert.EqualError(t, checkModuleNames(built), "module folders a and c both build lib.ko")
}
