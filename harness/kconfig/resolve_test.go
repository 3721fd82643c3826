package kconfig_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/kbuild"
	"modmatrix.dev/modmatrix/harness/kconfig"
	"modmatrix.dev/modmatrix/harness/ksrc"
)

// debianSource unpacks (once, into the user's cache) the 6.12 source from
// linux-source-6.12, or skips; under CI=true a missing package fails.
func debianSource(t *testing.T) *ksrc.Source {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: skipping a test that runs make")
	}
	if _, err := os.Stat("/usr/src/linux-source-6.12.tar.xz"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %v: apt-get install linux-source-6.12", err)
		}
		t.Skipf("no kernel source: %v", err)
	}
	cache := kbuild.DefaultCacheDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	src, err := ksrc.Debian(ctx, cache, "6.12")
	require.NoError(t, err)
	return src
}

func TestResolveDebian612(t *testing.T) {
	src := debianSource(t)
	base, cells, err := kconfig.Cells("../../kconfigs", []string{"unload"})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	tests := []struct {
		name  string
		frags []*kconfig.Fragment
		want  map[string]string
		bad   []string // problems Validate must report
	}{
		{
			name:  cells[0].Name,
			frags: cells[0].Frags(base),
			want:  map[string]string{"MODULES": "y", "MODULE_UNLOAD": "y", "MODULE_FORCE_UNLOAD": "n", "PVH": "y", "SERIAL_8250_CONSOLE": "y"},
		},
		{
			name: "unsatisfiable",
			frags: []*kconfig.Fragment{base, mustFrag(t, "kconfigs/bad.config",
				"# CONFIG_MODULES is not set\nCONFIG_MODULE_UNLOAD=y\n")},
			want: map[string]string{"MODULES": "n", "MODULE_UNLOAD": "n"},
			bad:  []string{`kconfigs/bad.config:2: CONFIG_MODULE_UNLOAD=y requested, resolved to "n"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log bytes.Buffer
			cfg, err := kconfig.Resolve(ctx, src.Dir, t.TempDir(), tt.frags, kconfig.WithLog(&log))
			if tt.bad == nil {
				require.NoError(t, err, log.String())
			} else {
				var verr *kconfig.ValidationError
				require.True(t, errors.As(err, &verr), "want a ValidationError, got %v", err)
				for _, b := range tt.bad {
					assert.Contains(t, err.Error(), b)
				}
			}
			for sym, v := range tt.want {
				assert.Equal(t, v, cfg.Value(sym), sym)
			}
		})
	}
}

func mustFrag(t *testing.T, path, text string) *kconfig.Fragment {
	f, err := kconfig.ParseFragmentData(path, []byte(text))
	require.NoError(t, err)
	return f
}

// TestFromTinyconfigSameConfig: a resolve that starts from a saved
// tinyconfig gives the very .config (byte for byte, so the same kernel
// key) that running make tinyconfig first gives, for a real cell.
func TestFromTinyconfigSameConfig(t *testing.T) {
	src := debianSource(t)
	base, cells, err := kconfig.Cells("../../kconfigs", []string{"debug"})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	tinyDir, fullDir, startedDir := t.TempDir(), t.TempDir(), t.TempDir()
	_, err = kconfig.Resolve(ctx, src.Dir, tinyDir, nil)
	require.NoError(t, err)
	tiny, err := os.ReadFile(filepath.Join(tinyDir, ".config"))
	require.NoError(t, err)

	_, err = kconfig.Resolve(ctx, src.Dir, fullDir, cells[0].Frags(base))
	require.NoError(t, err)
	_, err = kconfig.Resolve(ctx, src.Dir, startedDir, cells[0].Frags(base), kconfig.FromTinyconfig(tiny))
	require.NoError(t, err)
	full, err := os.ReadFile(filepath.Join(fullDir, ".config"))
	require.NoError(t, err)
	started, err := os.ReadFile(filepath.Join(startedDir, ".config"))
	require.NoError(t, err)
	assert.Equal(t, string(full), string(started))
}
