package builtin_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/builtin"
)

func TestDir(t *testing.T) {
	fsys := fstest.MapFS{
		"kconfigs/base.config":        {Data: []byte("CONFIG_MODULES=y\n")},
		"kconfigs/unload.config":      {Data: []byte("CONFIG_MODULE_UNLOAD=y\n")},
		"modules/hello/Kbuild":        {Data: []byte("obj-m += hello.o\n")},
		"modules/hello/scenario.yaml": {Data: []byte("name: hello\n")},
		"cmd/modagent/main.go":        {Data: []byte("package main\n")},
	}
	cache := t.TempDir()
	ctx := context.Background()
	dir, err := builtin.Dir(ctx, fsys, cache)
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(dir, builtin.Modules, "hello", "Kbuild"))
	require.NoError(t, err)
	assert.Equal(t, "obj-m += hello.o\n", string(b))
	assert.FileExists(t, filepath.Join(dir, "cmd", "modagent", "main.go"), "the guest's source, laid out as in the module")
	require.NoError(t, builtin.CheckEntry(dir))

	again, err := builtin.Dir(ctx, fsys, cache)
	require.NoError(t, err)
	assert.Equal(t, dir, again, "the same built-ins are the same entry")

	// A damaged entry is written again.
	require.NoError(t, os.WriteFile(filepath.Join(dir, builtin.Kconfigs, "unload.config"), []byte("CONFIG_MODULE_UNLOAD=n\n"), 0o644))
	assert.Error(t, builtin.CheckEntry(dir))
	again, err = builtin.Dir(ctx, fsys, cache)
	require.NoError(t, err)
	b, err = os.ReadFile(filepath.Join(again, builtin.Kconfigs, "unload.config"))
	require.NoError(t, err)
	assert.Equal(t, "CONFIG_MODULE_UNLOAD=y\n", string(b))

	// Other built-ins, another entry.
	fsys["kconfigs/debug.config"] = &fstest.MapFile{Data: []byte("CONFIG_KUNIT=y\n")}
	other, err := builtin.Dir(ctx, fsys, cache)
	require.NoError(t, err)
	assert.NotEqual(t, dir, other)
}
