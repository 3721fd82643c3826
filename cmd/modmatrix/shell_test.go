package main

import (
	"context"
	"io"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/kbuild"
	"modmatrix.dev/modmatrix/harness/kconfig"
	"modmatrix.dev/modmatrix/harness/matrix"
)

func TestShellBanner(t *testing.T) {
	cell := kconfig.Cell{Name: "unload", Description: "modules can be unloaded. More words."}
	withModules := kconfig.Config{"MODULES": "y"}
	tests := []struct {
		name   string
		config kconfig.Config
		kos    map[string]string
		want   []string
		not    []string
	}{
		{
			name:   "modules, hello first in the hint",
			config: withModules,
			kos:    map[string]string{"dep_a": "/c/dep_a.ko", "hello": "/c/hello.ko"},
			want: []string{
				"modmatrix shell: linux 6.12.117, cell unload (modules can be unloaded.)\n",
				"modules in /modmatrix/ko:\n  dep_a.ko                 /repo/modules/dependency\n  hello.ko                 /repo/modules/hello\n",
				"try:   insmod /modmatrix/ko/hello.ko; lsmod; rmmod hello; dmesg | tail\n",
				"leave: poweroff, or Ctrl-A X\n",
			},
		},
		{
			name:   "no modules packed",
			config: withModules,
			want:   []string{"no modules packed: /modmatrix/ko is empty\n"},
			not:    []string{"try:"},
		},
		{
			name:   "MODULES=n",
			config: kconfig.Config{},
			want:   []string{"no module support (CONFIG_MODULES is not set)"},
			not:    []string{"try:"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &matrix.PreparedCell{Cell: cell, Kernel: &kbuild.Kernel{Release: "6.12.117", Config: tc.config}}
			origin := map[string]string{"dep_a": "/repo/modules/dependency", "hello": "/repo/modules/hello"}
			got := shellBanner(p, tc.kos, origin)
			for _, w := range tc.want {
				assert.Contains(t, got, w)
			}
			for _, n := range tc.not {
				assert.NotContains(t, got, n)
			}
		})
	}
}

// TestShellFlags checks how shell reads run's kernel and cell flags: what
// it boots, and what it refuses, by flag name, before it reads, fetches or
// builds anything.
func TestShellFlags(t *testing.T) {
	t.Run("accepted", func(t *testing.T) {
		tests := []struct {
			name      string
			args      []string
			cell      string
			kernels   []string
			cellSpecs []string
		}{
			{name: "--cell NAME --kernel SERIES, as before", args: []string{"--cell", "unload", "--kernel", "6.12"},
				cell: "unload", kernels: []string{"6.12"}},
			{name: "--cells NAME, default kernel", args: []string{"--cells", "unload"},
				cell: "unload", kernels: []string{"6.12"}},
			{name: "--kernels SERIES", args: []string{"--kernels", "6.1", "--cell", "debug"},
				cell: "debug", kernels: []string{"6.1"}},
			{name: "--kernel-src", args: []string{"--kernel-src", "/src/linux", "--cell", "unload"},
				cell: "unload", kernels: []string{"6.12"}},
			{name: "the only --cell NAME=FRAG is booted", args: []string{"--cell", "mine=my.config,more.config"},
				cell: "mine", kernels: []string{"6.12"}, cellSpecs: []string{"mine=my.config,more.config"}},
			{name: "--cell NAME picks among added cells", args: []string{"--cell", "mine=my.config", "--cell", "unload"},
				cell: "unload", kernels: []string{"6.12"}, cellSpecs: []string{"mine=my.config"}},
			{name: "--cell and --cells naming the same cell", args: []string{"--cell", "unload", "--cells", "unload"},
				cell: "unload", kernels: []string{"6.12"}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				f := shellFlags{cmd: "shell boots"}
				cmd := f.command()
				require.NoError(t, cmd.ParseFlags(tc.args))
				cell, err := f.narrow()
				require.NoError(t, err)
				assert.Equal(t, tc.cell, cell)
				assert.Equal(t, []string{tc.cell}, f.mf.cells, "the matrix selects the booted cell")
				assert.Equal(t, tc.kernels, f.mf.kernels)
				assert.Empty(t, f.mf.prebuilt, "a series given as --kernel is no prebuilt kernel")
				assert.Equal(t, tc.cellSpecs, f.mf.cellSpecs, "only NAME=FRAG values are cells to add")
			})
		}
	})

	t.Run("refused", func(t *testing.T) {
		tests := []struct {
			name string
			args []string
			want string
		}{
			{name: "prebuilt Debian kernel", args: []string{"--cell", "unload", "--kernel", "debian-cloud-6.12"},
				want: "--kernel debian-cloud-6.12: shell boots a kernel built from source"},
			{name: "prebuilt files", args: []string{"--cell", "unload", "--kernel", "vmlinuz=/boot/vmlinuz,headers=/h"},
				want: "--kernel vmlinuz=/boot/vmlinuz,headers=/h: shell boots a kernel built from source"},
			{name: "two --kernels", args: []string{"--cell", "unload", "--kernels", "6.12,6.1"},
				want: "--kernels 6.12,6.1: shell boots one kernel"},
			{name: "two --kernel series", args: []string{"--cell", "unload", "--kernel", "6.12", "--kernel", "6.1"},
				want: "--kernel 6.12,6.1: shell boots one kernel"},
			{name: "--kernel and --kernels", args: []string{"--cell", "unload", "--kernel", "6.1", "--kernels", "6.12"},
				want: "--kernel 6.1 and --kernels 6.12: name the series once"},
			{name: "two cells", args: []string{"--cells", "unload,debug"},
				want: "--cell/--cells name debug, unload: shell boots one cell"},
			{name: "--cell and --cells differ", args: []string{"--cell", "unload", "--cells", "debug"},
				want: "--cell/--cells name debug, unload: shell boots one cell"},
			{name: "two added cells, none named", args: []string{"--cell", "a=a.config", "--cell", "b=b.config"},
				want: "--cell adds a, b: shell boots one cell"},
			{name: "no cell", args: nil,
				want: "--cell: shell boots one cell: name it"},
			{name: "run's --shard", args: []string{"--cell", "unload", "--shard", "1/2"},
				want: "unknown flag: --shard"},
			{name: "run's --out", args: []string{"--cell", "unload", "--out", "x"},
				want: "unknown flag: --out"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				// An empty checkout, cache and TMPDIR: a refusal that came
				// too late would fail on the checkout, and leave files.
				repo, cache, tmp := t.TempDir(), t.TempDir(), t.TempDir()
				t.Setenv("TMPDIR", tmp)
				cmd := shellCmd()
				cmd.SetArgs(append([]string{"--repo", repo, "--cache", cache}, tc.args...))
				cmd.SetOut(io.Discard)
				cmd.SetErr(io.Discard)
				cmd.SilenceUsage, cmd.SilenceErrors = true, true
				err := cmd.ExecuteContext(context.Background())
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.want)
				for _, dir := range []string{cache, tmp} {
					entries, err := os.ReadDir(dir)
					require.NoError(t, err)
					assert.Empty(t, entries, "nothing written to %s", dir)
				}
			})
		}
	})
}
