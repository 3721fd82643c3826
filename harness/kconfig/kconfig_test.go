package kconfig

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testdata/resolved-6.12.117-unload.config is the .config that Resolve
// produced for base.config + unload.config on 6.12.117 (tinyconfig based),
// copied from the cache (configs/<key>/config) of a real run.
const recorded = "testdata/resolved-6.12.117-unload.config"

func TestParseFragment(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		want    []Entry
		desc    string
		cmdline []string
		wantErr string
	}{
		{
			name:    "cmdline",
			text:    "# description: d\n# cmdline: module.sig_enforce=1 nokaslr\nCONFIG_MODULES=y\n#cmdline: module_blacklist=a,b\n",
			desc:    "d",
			cmdline: []string{"module.sig_enforce=1", "nokaslr", "module_blacklist=a,b"},
			want:    []Entry{{Symbol: "MODULES", Value: "y", Line: 3}},
		},
		{name: "quoted cmdline", text: "# cmdline: a=\"b c\"\n", wantErr: "x.config:1: cmdline argument \"a=\\\"b\": want NAME or NAME=VALUE, unquoted"},
		{name: "empty cmdline", text: "# cmdline:\n", wantErr: "x.config:1: empty \"# cmdline:\" comment"},
		{
			name: "all line kinds",
			text: "# description: unload, no force\n\n# a comment\nCONFIG_MODULES=y\n# CONFIG_MODULE_FORCE_UNLOAD is not set\nCONFIG_CMDLINE=\"console=ttyS0 quiet\"\nCONFIG_NR_CPUS=4  \n",
			desc: "unload, no force",
			want: []Entry{
				{Symbol: "MODULES", Value: "y", Line: 4},
				{Symbol: "MODULE_FORCE_UNLOAD", Value: "n", Line: 5},
				{Symbol: "CMDLINE", Value: `"console=ttyS0 quiet"`, Line: 6},
				{Symbol: "NR_CPUS", Value: "4", Line: 7},
			},
		},
		{name: "garbage", text: "CONFIG_A=y\n\nMODULES=y\n", wantErr: "x.config:3: expected CONFIG_X=value"},
		{name: "leading space", text: " CONFIG_A=y\n", wantErr: "x.config:1: expected"},
		{name: "empty value", text: "# c\nCONFIG_A=\n", wantErr: "x.config:2: CONFIG_A: empty value"},
		{name: "unquoted space", text: "CONFIG_CMDLINE=a b\n", wantErr: "x.config:1: CONFIG_CMDLINE: value \"a b\" must be quoted"},
		{name: "unterminated string", text: "CONFIG_CMDLINE=\"abc\n", wantErr: "x.config:1: CONFIG_CMDLINE: unterminated string"},
		{name: "escaped quote at end", text: "CONFIG_CMDLINE=\"abc\\\"\n", wantErr: "x.config:1: CONFIG_CMDLINE: unterminated string"},
		{name: "duplicate", text: "CONFIG_A=y\n# CONFIG_A is not set\n", wantErr: "x.config:2: CONFIG_A already set at line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "x.config")
			require.NoError(t, os.WriteFile(p, []byte(tt.text), 0o644))
			f, err := ParseFragment(p)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, p, f.Path)
			assert.Equal(t, tt.desc, f.Description)
			assert.Equal(t, tt.cmdline, f.Cmdline)
			assert.Equal(t, tt.want, f.Entries)
		})
	}
}

func TestFragmentText(t *testing.T) {
	// Comments, the command line among them, are not the config: cells
	// differing only in boot parameters resolve to one .config and kernel.
	f, err := ParseFragmentData("x", []byte("# description: d\nCONFIG_A=y\n# comment\n# cmdline: nokaslr\n# CONFIG_B is not set\nCONFIG_S=\"x y\"\n"))
	require.NoError(t, err)
	assert.Equal(t, "CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_S=\"x y\"\n", string(f.Text()))
}

func TestParseConfig(t *testing.T) {
	c, err := ParseConfig(recorded)
	require.NoError(t, err)
	tests := []struct{ sym, want string }{
		{"MODULES", "y"},
		{"CONFIG_MODULE_UNLOAD", "y"},
		{"MODULE_FORCE_UNLOAD", "n"},    // "# ... is not set"
		{"NO_SUCH_SYMBOL", "n"},         // absent
		{"LOCALVERSION", ""},            // empty string
		{"PHYSICAL_START", "0x1000000"}, // hex
		{"CC_VERSION_TEXT", "gcc (Debian 12.2.0-14+deb12u1) 12.2.0"},
	}
	for _, tt := range tests {
		t.Run(tt.sym, func(t *testing.T) {
			assert.Equal(t, tt.want, c.Value(tt.sym))
		})
	}
	assert.True(t, c.Enabled("MODULES"))
	assert.False(t, c.Enabled("MODULE_FORCE_UNLOAD"))
}

func TestUnquote(t *testing.T) {
	for in, want := range map[string]string{
		`"a"`: "a", `""`: "", `"a\"b"`: `a"b`, `"a\\b"`: `a\b`, `y`: "y", `"`: `"`,
	} {
		assert.Equal(t, want, unquote(in), in)
	}
}

func TestDiff(t *testing.T) {
	a := Config{"MODULES": "y", "MODULE_UNLOAD": "y", "MODULE_FORCE_UNLOAD": "n", "X": "1"}
	tests := []struct {
		name string
		b    Config
		want []string
	}{
		{"same", Config{"MODULES": "y", "MODULE_UNLOAD": "y", "MODULE_FORCE_UNLOAD": "n", "X": "1"}, nil},
		{"absent equals n", Config{"MODULES": "y", "MODULE_UNLOAD": "y", "X": "1"}, nil},
		{"one flipped", Config{"MODULES": "y", "MODULE_UNLOAD": "y", "MODULE_FORCE_UNLOAD": "y", "X": "1"}, []string{"MODULE_FORCE_UNLOAD"}},
		{"value and extra", Config{"MODULES": "y", "MODULE_UNLOAD": "y", "X": "2", "NEW": "y"}, []string{"NEW", "X"}},
		{"missing in other", Config{"X": "1"}, []string{"MODULES", "MODULE_UNLOAD"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, a.Diff(tt.b))
			assert.Equal(t, tt.want, tt.b.Diff(a), "Diff is symmetric")
		})
	}
}

func TestValidate(t *testing.T) {
	resolved, err := ParseConfig(recorded)
	require.NoError(t, err)
	base, err := ParseFragment("../../kconfigs/base.config")
	require.NoError(t, err)
	frag := func(path, text string) *Fragment {
		f, err := ParseFragmentData(path, []byte(text))
		require.NoError(t, err)
		return f
	}
	tests := []struct {
		name  string
		frags []*Fragment
		want  []string // one line per problem, in order
	}{
		{
			name:  "base and unload survive",
			frags: []*Fragment{base, frag("kconfigs/unload.config", "# description: x\nCONFIG_MODULES=y\nCONFIG_MODULE_UNLOAD=y\n# CONFIG_MODULE_FORCE_UNLOAD is not set\n")},
		},
		{
			name:  "changed value",
			frags: []*Fragment{base, frag("kconfigs/force.config", "# description: x\nCONFIG_MODULES=y\nCONFIG_MODULE_FORCE_UNLOAD=y\n")},
			want:  []string{`kconfigs/force.config:3: CONFIG_MODULE_FORCE_UNLOAD=y requested, resolved to "n" (not set)`},
		},
		{
			name: "dropped and changed, each listed",
			frags: []*Fragment{base, frag("kconfigs/bad.config",
				"CONFIG_MODULES=y\nCONFIG_DEBUG_KMEMLEAK=y\n# CONFIG_MODULE_UNLOAD is not set\nCONFIG_NR_CPUS=4\nCONFIG_LOCALVERSION=\"-mm\"\nCONFIG_NOT_A_SYMBOL=y\n")},
			want: []string{
				`kconfigs/bad.config:2: CONFIG_DEBUG_KMEMLEAK=y requested, resolved to "n" (not set)`,
				`kconfigs/bad.config:3: # CONFIG_MODULE_UNLOAD is not set requested, resolved to "y"`,
				`kconfigs/bad.config:4: CONFIG_NR_CPUS=4 requested, resolved to "1"`,
				`kconfigs/bad.config:5: CONFIG_LOCALVERSION="-mm" requested, resolved to ""`,
				`kconfigs/bad.config:6: CONFIG_NOT_A_SYMBOL=y requested, resolved to "n" (absent: unknown symbol or unmet dependencies)`,
			},
		},
		{
			name: "later fragment overrides earlier",
			frags: []*Fragment{
				frag("a.config", "CONFIG_MODULE_FORCE_UNLOAD=y\n# CONFIG_MODULE_UNLOAD is not set\n"),
				frag("b.config", "# CONFIG_MODULE_FORCE_UNLOAD is not set\nCONFIG_MODULE_UNLOAD=y\n"),
			},
		},
		{
			name: "override reported at the overriding line",
			frags: []*Fragment{
				frag("a.config", "# CONFIG_MODULE_FORCE_UNLOAD is not set\n"),
				frag("b.config", "\n\nCONFIG_MODULE_FORCE_UNLOAD=y\n"),
			},
			want: []string{`b.config:3: CONFIG_MODULE_FORCE_UNLOAD=y requested, resolved to "n" (not set)`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(resolved, tt.frags...)
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			var verr *ValidationError
			require.True(t, errors.As(err, &verr), "got %v", err)
			var got []string
			for _, p := range verr.Problems {
				got = append(got, p.String())
			}
			assert.Equal(t, tt.want, got)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestLoadCells(t *testing.T) {
	base, cells, err := LoadCells("../../kconfigs")
	require.NoError(t, err)
	assert.Equal(t, "../../kconfigs/base.config", base.Path)
	var names []string
	for _, c := range cells {
		names = append(names, c.Name)
		assert.NotEmpty(t, c.Description, c.Name)
	}
	// The default matrix: the four cells every issue names (more may follow).
	assert.Subset(t, names, []string{"force-unload", "modules-off", "unload", "unload-off"})
	assert.IsNonDecreasing(t, names)

	_, sel, err := Cells("../../kconfigs", []string{"unload", "modules-off"})
	require.NoError(t, err)
	require.Len(t, sel, 2)
	assert.Equal(t, "unload", sel[0].Name)
	assert.Equal(t, []*Fragment{base, sel[0].Fragment}, sel[0].Frags(base))
}

func TestCellsErrors(t *testing.T) {
	write := func(dir, name, text string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	tests := []struct {
		name    string
		files   map[string]string
		cells   []string
		wantErr []string
	}{
		{
			name:    "unknown cell lists known ones",
			files:   map[string]string{"base.config": "CONFIG_A=y\n", "a.config": "# description: a\n", "b.config": "# description: b\n"},
			cells:   []string{"a", "nope"},
			wantErr: []string{`unknown cell "nope"`, "nope.config", "known cells in", "a, b"},
		},
		{
			name:    "missing base",
			files:   map[string]string{"a.config": "# description: a\n"},
			wantErr: []string{"base fragment", "base.config"},
		},
		{
			name:    "cell without description",
			files:   map[string]string{"base.config": "", "a.config": "CONFIG_A=y\n"},
			wantErr: []string{"a.config:1: cell fragment needs a \"# description: ...\""},
		},
		{
			name:    "bad line in a cell",
			files:   map[string]string{"base.config": "", "a.config": "# description: a\nCONFIG_A y\n"},
			wantErr: []string{"a.config:2: expected"},
		},
		{
			name:    "no cells",
			files:   map[string]string{"base.config": ""},
			wantErr: []string{"no cell fragments"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for n, text := range tt.files {
				write(dir, n, text)
			}
			_, _, err := Cells(dir, tt.cells)
			require.Error(t, err)
			for _, w := range tt.wantErr {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// TestFragmentInclude: "# include: FILE" merges the fragment beside it
// first (its symbols and boot parameters), and a cycle or a missing file
// is an error naming the including line.
func TestFragmentInclude(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
		return p
	}
	signed := write("signed.config", "# description: signed\n# cmdline: a=1\nCONFIG_MODULE_SIG=y\n")
	enforce := write("enforce.config", "# description: enforced\n# include: signed.config\n# cmdline: module.sig_enforce=1\n")
	f, err := ParseFragment(enforce)
	require.NoError(t, err)
	var paths []string
	for _, g := range f.Flatten() {
		paths = append(paths, g.Path)
	}
	assert.Equal(t, []string{signed, enforce}, paths)
	assert.Equal(t, "enforced", f.Description)
	cell := Cell{Name: "enforce", Fragment: f}
	assert.Equal(t, []string{"a=1", "module.sig_enforce=1"}, cell.Cmdline(&Fragment{Path: "base"}))

	write("loop-a.config", "# include: loop-b.config\n")
	loop := write("loop-b.config", "# include: loop-a.config\n")
	_, err = ParseFragment(loop)
	assert.ErrorContains(t, err, "loop-a.config:1: include loop-b.config: it includes this fragment")
	missing := write("missing.config", "CONFIG_MODULES=y\n# include: nowhere.config\n")
	_, err = ParseFragment(missing)
	assert.ErrorContains(t, err, "missing.config:2: include nowhere.config")
	_, err = ParseFragmentData("x.config", []byte("# include: ../other.config\n"))
	assert.ErrorContains(t, err, "x.config:1: \"# include:\" wants one fragment file beside this one")
}

// TestOptionalEntry: an entry named by "# optional:" may be missing from
// the resolved .config (6.1 has no MODULE_COMPRESS, 6.12 needs it); set to
// another value it is still an error, as is naming a symbol not set.
func TestOptionalEntry(t *testing.T) {
	f, err := ParseFragmentData("c.config", []byte("# optional: CONFIG_MODULE_COMPRESS\nCONFIG_MODULE_COMPRESS=y\nCONFIG_MODULE_COMPRESS_XZ=y\n"))
	require.NoError(t, err)
	assert.NoError(t, Validate(Config{"MODULE_COMPRESS_XZ": "y"}, f))
	assert.ErrorContains(t, Validate(Config{"MODULE_COMPRESS": "n", "MODULE_COMPRESS_XZ": "y"}, f), "MODULE_COMPRESS")
	assert.ErrorContains(t, Validate(Config{"MODULE_COMPRESS": "y"}, f), "MODULE_COMPRESS_XZ")
	_, err = ParseFragmentData("c.config", []byte("# optional: CONFIG_X\nCONFIG_Y=y\n"))
	assert.ErrorContains(t, err, "c.config: \"# optional:\" names CONFIG_X, which the fragment does not set")
}

// A kernel whose guest loads its own virtio drivers passes with them =m;
// without them at hand it is refused, as one that cannot report.
func TestCheckGuestLoading(t *testing.T) {
	cfg := Config{"SERIAL_8250_CONSOLE": "y", "BLK_DEV_INITRD": "y", "DEVTMPFS": "y", "VIRTIO_PCI": "m", "VIRTIO_CONSOLE": "m"}
	assert.ErrorContains(t, CheckGuest(cfg), "CONFIG_VIRTIO_PCI=m, CONFIG_VIRTIO_CONSOLE=m")
	assert.NoError(t, CheckGuestLoading(cfg, func(sym string) bool { return GuestModules[sym] != "" }))
	assert.ErrorContains(t, CheckGuestLoading(cfg, func(string) bool { return false }), "CONFIG_VIRTIO_PCI=m")
	cfg["DEVTMPFS"] = "n"
	assert.ErrorContains(t, CheckGuestLoading(cfg, func(string) bool { return true }), "CONFIG_DEVTMPFS=n", "a bool cannot be loaded")
}
