package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMistakesRefusedBeforeAnyBuild: each mistake a new user makes is
// refused at once, naming the flag, file or line, while the cache is still
// empty: no kernel source was unpacked and no make started.
func TestMistakesRefusedBeforeAnyBuild(t *testing.T) {
	repo, err := filepath.Abs("../..")
	require.NoError(t, err)
	write := func(dir, name, text string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
		return p
	}
	tmp := t.TempDir()
	empty := filepath.Join(tmp, "empty")
	require.NoError(t, os.Mkdir(empty, 0o755))
	maybe := write(tmp, "maybe.config", "CONFIG_MODULES=y\nCONFIG_KUNIT=maybe\n")
	// A folder whose scenario loads a module its Kbuild does not build.
	mine := filepath.Join(tmp, "mine")
	write(mine, "Kbuild", "obj-m := mine.o\n")
	write(mine, "mine.c", "")
	write(mine, "scenario.yaml", "description: loads the wrong name\nsteps:\n  - load: mine\n  - load: theirs\n")

	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"-j 0", []string{"run", "-j", "0"}, nil, "-j/--jobs 0: want 1 or more"},
		{"-j -1", []string{"run", "-j", "-1"}, nil, "-j/--jobs -1: want 1 or more"},
		{"--repeat 0", []string{"run", "--repeat", "0"}, nil, "--repeat 0: want 1 or more"},
		{"duplicate --scenarios", []string{"run", "--scenarios", "hello,noexit,hello"}, nil, "--scenarios names hello twice"},
		{"--cells base", []string{"run", "--cells", "base"}, nil, "base.config is the base fragment every cell is merged over, not a cell"},
		{"--scenarios nosuch", []string{"run", "--scenarios", "nosuch"}, nil, `unknown scenario "nosuch"`},
		{"empty --modules", []string{"run", "--modules", empty}, nil, "--modules " + empty + ": no scenario in it"},
		{"--scenario without --module", []string{"run", "--scenario", "x.yaml"}, nil, "--scenario x.yaml needs exactly one --module folder (it has 0)"},
		{"missing --baseline", []string{"run", "--baseline", filepath.Join(tmp, "no-such-run")}, nil, "--baseline: "},
		{"CONFIG_X=maybe", []string{"run", "--kconfig", maybe}, nil, maybe + ":2: CONFIG_KUNIT: value maybe is none of y, m, n"},
		{"a load of a module the folder does not build", []string{"run", "--module", mine}, nil,
			filepath.Join(mine, "scenario.yaml") + ":4: load: theirs: " + mine + " builds no theirs.ko (its obj-m: mine)"},
		{"no QEMU or compiler", []string{"run"}, map[string]string{"PATH": empty}, "missing "},
		{"--ktap naming a folder", []string{"run", "--ktap", empty}, nil, "--ktap " + empty + ": a folder; name a file"},
		{"--summary-md where nothing can be written", []string{"run", "--summary-md", filepath.Join(maybe, "summary.md")}, nil, "--summary-md " + filepath.Join(maybe, "summary.md") + ": mkdir " + maybe + ": not a directory"},
		{"--bisect-exit on many cells", []string{"run", "--bisect-exit", "--kernels", "6.12"}, nil, "--cell: --bisect-exit judges one cell: name it"},
		{"--bisect-exit on two kernels", []string{"run", "--bisect-exit", "--kernels", "6.12,6.1", "--cells", "unload"}, nil, "--kernels 6.12,6.1: --bisect-exit judges one kernel, name one series"},
		{"shell --memory 0", []string{"shell", "--cell", "unload", "--memory", "0"}, nil, "--memory 0: want 64 or more"},
		{"bench --runs 0", []string{"bench", "--runs", "0"}, nil, "--runs 0: want 1 or more"},
		{"matrix --shards -2", []string{"matrix", "--shards", "-2"}, nil, "--shards -2: want 0 or more"},
		{"bisect-config without --good", []string{"bisect-config", "--bad", "force-unload", "--scenario", "noexit"}, nil, "--good: name the good configuration"},
		{"bisect-config --bad-if taints", []string{"bisect-config", "--good", "unload", "--bad", "force-unload", "--scenario", "noexit", "--bad-if", "taints"}, nil, "--bad-if taints: want verdict, observation or some of errno,proc_modules,taint,kmsg,reports,kunit"},
		{"bisect-config on every scenario", []string{"bisect-config", "--good", "unload", "--bad", "force-unload"}, nil, "bisect-config bisects one scenario: name it with --scenario NAME"},
		{"bisect-config on a misspelt cell", []string{"bisect-config", "--good", "unlaod", "--bad", "force-unload", "--scenario", "noexit"}, nil, `unknown cell "unlaod"`},
		{"bisect-config on a missing file", []string{"bisect-config", "--good", "unload", "--bad", filepath.Join(tmp, "bad.config"), "--scenario", "noexit"}, nil, "--bad: stat " + filepath.Join(tmp, "bad.config")},
		{"bisect-config on two kernels", []string{"bisect-config", "--good", "unload", "--bad", "force-unload", "--scenario", "noexit", "--kernels", "6.12,6.1"}, nil, "--kernels 6.12,6.1: bisect-config bisects on one kernel, name one series"},
		{"bisect-config with --kconfig", []string{"bisect-config", "--good", "unload", "--bad", "force-unload", "--scenario", "noexit", "--kconfig", maybe}, nil, "bisect-config compares --good and --bad as they are"},
		{"bisect-config with --cells", []string{"bisect-config", "--good", "unload", "--bad", "force-unload", "--scenario", "noexit", "--cells", "debug"}, nil, "--cells debug: bisect-config runs the cells --good and --bad name"},
		{"bisect-config on an unknown scenario", []string{"bisect-config", "--good", "unload", "--bad", "force-unload", "--scenario", "nosuch"}, nil, `unknown scenario "nosuch"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			cache := t.TempDir()
			cmd := rootCmd()
			cmd.SetArgs(append(tc.args, "--repo", repo, "--cache", cache))
			err := cmd.ExecuteContext(context.Background())
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			left, err := os.ReadDir(cache)
			require.NoError(t, err)
			assert.Empty(t, left, "the cache is untouched: nothing was unpacked or built")
		})
	}
}
