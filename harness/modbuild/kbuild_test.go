package modbuild

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKbuildModules(t *testing.T) {
	for _, tc := range []struct {
		name, file, text string
		want             []string
	}{
		{"kbuild", "Kbuild", "obj-m := dep_a.o dep-b.o\n", []string{"dep_a", "dep_b"}},
		{"classic makefile", "Makefile", "ifneq ($(KERNELRELEASE),)\nobj-m += mine.o\nmine-y := a.o b.o\nelse\nall:\n\tmake -C $(KDIR) M=$(PWD)\nendif\n", []string{"mine"}},
		{"config-dependent", "Kbuild", "obj-$(CONFIG_FOO) += foo.o\n", []string{"foo"}},
		{"continued line", "Kbuild", "obj-m := a.o \\\n\tb.o \\\n\tc.o\nobj-m += d.o\n", []string{"a", "b", "c", "d"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, tc.file), []byte(tc.text), 0o644))
			kos, err := KbuildModules(dir)
			require.NoError(t, err)
			var names []string
			for _, ko := range kos {
				names = append(names, ModuleName(ko))
			}
			assert.Equal(t, tc.want, names)
		})
	}
	_, err := KbuildModules(t.TempDir())
	assert.ErrorContains(t, err, "no obj-m line")
	assert.ErrorIs(t, err, ErrNoObjM)
}

func TestKbuildModulesFiles(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Kbuild"), []byte("obj-m := dep_a.o dep-b.o\n"), 0o644))
	kos, err := KbuildModules(dir)
	require.NoError(t, err)
	assert.Equal(t, []string{"dep_a.ko", "dep-b.ko"}, kos)
}
