package matrix

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/kconfig"
	"modmatrix.dev/modmatrix/harness/ksrc"
)

// localKernel writes a vmlinuz and a 6.12.117 headers tree the distro
// package accepts, and returns the files= --kernel spec of them (without
// a cell).
func localKernel(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for p, text := range map[string]string{
		"vmlinuz":                                "bzImage",
		"headers/Makefile":                       "VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 117\n",
		"headers/Module.symvers":                 "",
		"headers/include/generated/utsrelease.h": "#define UTS_RELEASE \"6.12.117-mine\"\n",
		"headers/.config": "CONFIG_MODULES=y\nCONFIG_SERIAL_8250_CONSOLE=y\nCONFIG_BLK_DEV_INITRD=y\n" +
			"CONFIG_DEVTMPFS=y\nCONFIG_VIRTIO_PCI=y\nCONFIG_VIRTIO_CONSOLE=y\nCONFIG_ONLY_PREBUILT=y\n",
	} {
		p = filepath.Join(dir, p)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	}
	return "vmlinuz=" + filepath.Join(dir, "vmlinuz") + ",headers=" + filepath.Join(dir, "headers")
}

// A prebuilt kernel may not take the version × cell of a source unit or
// of another prebuilt kernel: they would share an OUT folder and results.
func TestLoadPrebuiltCollisions(t *testing.T) {
	spec := localKernel(t)
	for _, tc := range []struct {
		name    string
		sources []string // versions
		specs   []string
		err     string
	}{
		{"beside a source unit of another cell", []string{"6.12.117"}, []string{spec}, ""},
		{"beside another version's unit", []string{"6.1.192"}, []string{spec + ",cell=unload"}, ""},
		{"on a source unit", []string{"6.12.117"}, []string{spec + ",cell=unload"},
			"--kernel " + spec + ",cell=unload and the kernel built from /src/6.12.117 are both linux 6.12.117, cell unload: give it a cell= of its own"},
		{"twice", nil, []string{spec, spec + ",cell=prebuilt"},
			"--kernel " + spec + ",cell=prebuilt and --kernel " + spec + " are both linux 6.12.117, cell prebuilt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &Matrix{
				cfg:   Config{Prebuilt: tc.specs, CacheDir: t.TempDir()},
				cells: []kconfig.Cell{{Name: "unload"}, {Name: "minimal"}},
			}
			for _, v := range tc.sources {
				m.sources = append(m.sources, &ksrc.Source{Dir: "/src/" + v, Version: v})
			}
			err := m.loadPrebuilt(context.Background())
			if tc.err == "" {
				require.NoError(t, err)
				assert.Len(t, m.prebuilt, len(tc.specs))
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.err)
		})
	}
}

func TestKnownSymbol(t *testing.T) {
	m := &Matrix{cfg: Config{Prebuilt: []string{localKernel(t)}, CacheDir: t.TempDir()}}
	require.NoError(t, m.loadPrebuilt(context.Background()))
	known := m.knownSymbol(map[string]bool{})
	assert.True(t, known("ANYTHING"), "with only prebuilt kernels, any symbol")

	m.sources = []*ksrc.Source{{Dir: "/src", Version: "6.1.192"}}
	symbols := map[string]bool{"FROM_KCONFIG": true}
	known = m.knownSymbol(symbols)
	assert.True(t, known("FROM_KCONFIG"))
	assert.True(t, known("ONLY_PREBUILT"), "named by the prebuilt kernel's .config")
	assert.False(t, known("NOWHERE"))
	assert.Equal(t, map[string]bool{"FROM_KCONFIG": true}, symbols, "the caller's map is left alone")
}
