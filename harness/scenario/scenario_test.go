package scenario

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/protocol"
)

var testSymbols = WithSymbolChecker(func(sym string) bool {
	return sym == "MODULES" || sym == "MODULE_UNLOAD" || sym == "MODULE_FORCE_UNLOAD"
})

// config is a resolved .config as the harness's lookup sees it.
func config(values map[string]string) func(string) string {
	return func(sym string) string { return values[sym] }
}

// Cells as lookups of their resolved .config.
var (
	modulesOff  = config(map[string]string{"MODULES": "n"})
	unloadOff   = config(map[string]string{"MODULES": "y"})
	unloadOn    = config(map[string]string{"MODULES": "y", "MODULE_UNLOAD": "y"})
	forceUnload = config(map[string]string{"MODULES": "y", "MODULE_UNLOAD": "y", "MODULE_FORCE_UNLOAD": "y"})
)

func TestLoadFull(t *testing.T) {
	sc, err := Load("testdata/good/full", testSymbols)
	require.NoError(t, err)
	assert.Equal(t, "full", sc.Name)
	assert.Equal(t, "testdata/good/full", sc.Dir)
	assert.Equal(t, "testdata/good/full/scenario.yaml", sc.File)
	assert.Equal(t, "Every key of the format.", sc.Description)
	assert.Equal(t, []string{"full", "full_dep"}, sc.Modules)
	assert.True(t, sc.OwnBoot)
	require.Len(t, sc.Steps, 8)

	load := sc.Steps[0]
	assert.Equal(t, 5, load.Line)
	assert.Equal(t, protocol.ActionLoad, load.Action)
	assert.Equal(t, "count=3 name=x", load.Params)
	assert.Equal(t, 10*time.Second, load.Timeout)
	require.Len(t, load.Expect, 2)
	on := load.Expect[1]
	assert.Equal(t, 11, on.Line)
	assert.Equal(t, "CONFIG_MODULES=y", on.When)
	assert.Equal(t, "MODULES=y", on.Pred.String())
	require.NotNil(t, on.Errno)
	assert.Equal(t, "", *on.Errno)
	require.NotNil(t, on.Loaded)
	assert.True(t, *on.Loaded)
	require.Len(t, on.Kmsg, 2)
	assert.False(t, on.Kmsg[0].IsRegexp())
	assert.True(t, on.Kmsg[1].FoundIn("full: count=3"))
	assert.Equal(t, []SysfsExpect{
		{Attr: "parameters/count", Value: &Pattern{Src: "3"}},
		{Attr: "initsize", Value: &Pattern{Src: "0"}},
	}, on.Sysfs)
	assert.Equal(t, uint64(1<<12), on.TaintGained)

	check := sc.Steps[2].Expect
	require.Len(t, check, 3)
	require.NotNil(t, check[0].ProcModules)
	assert.True(t, check[0].ProcModules.FoundIn("full 16384 1 full_dep, [permanent], Live 0xffffffffc0000000 (O)"))
	assert.Equal(t, []SysfsExpect{{Attr: "refcnt"}, {Attr: "holders/full_dep"}}, check[0].Sysfs)
	assert.Equal(t, Presence{Present: []string{"helper", "bye"}, Absent: []string{"hi"}}, check[0].Kallsyms)
	assert.Equal(t, []SysfsExpect{{Attr: "refcnt", Absent: true}}, check[1].Sysfs)
	assert.Equal(t, "", check[2].When)
	assert.Equal(t, Presence{Present: []string{"/dev/full"}, Absent: []string{"/proc/full"}}, check[2].Files)
	assert.Equal(t, uint64(1<<9|1<<7), check[2].TaintNotGained)

	unload := sc.Steps[4]
	assert.Equal(t, []string{"force", "nonblock"}, unload.Flags)
	assert.Equal(t, "EAGAIN", *unload.Expect[0].Errno, "EWOULDBLOCK is normalised")
	assert.Equal(t, 1500*time.Millisecond, sc.Steps[6].Pause)
	assert.Equal(t, "", sc.Steps[7].Module, "check without a module")
}

func TestPlan(t *testing.T) {
	sc, err := Load("testdata/good/full", testSymbols)
	require.NoError(t, err)
	base := []string{"coresize", "initsize", "initstate", "refcnt"}
	assert.Equal(t, protocol.Scenario{Name: "full", Steps: []protocol.Step{
		{Action: "load", Module: "full", File: "full.ko", Params: "count=3 name=x", TimeoutMS: 10000,
			Sysfs: []string{"coresize", "initsize", "initstate", "parameters/count", "refcnt"}},
		{Action: "load", Module: "full_dep", File: "full_dep.ko", Sysfs: base},
		{Action: "check", Module: "full",
			// Union over all blocks: the agent cannot know which applies.
			Sysfs:    []string{"coresize", "holders/full_dep", "initsize", "initstate", "refcnt"},
			Kallsyms: []string{"bye", "helper", "hi"},
			Files:    []string{"/dev/full", "/proc/full"}},
		{Action: "open", Path: "/dev/full"},
		{Action: "unload", Module: "full", Flags: []string{protocol.FlagForce, protocol.FlagNonBlock}, Sysfs: base},
		{Action: "close", Path: "/dev/full"},
		{Action: "pause", PauseMS: 1500},
		{Action: "check", Files: []string{"/dev/full"}},
	}}, sc.Plan())
}

func TestApplicable(t *testing.T) {
	sc, err := Load("testdata/good/full", testSymbols)
	require.NoError(t, err)
	check := sc.Steps[2]
	for _, tc := range []struct {
		name   string
		lookup func(string) string
		lines  []int
	}{
		{"modules off", modulesOff, []int{25, 28}},
		{"unload off", unloadOff, []int{25, 28}},
		{"unload on", unloadOn, []int{21, 28}},
		{"force unload", forceUnload, []int{28}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var lines []int
			for _, e := range check.Applicable(tc.lookup) {
				lines = append(lines, e.Line)
			}
			assert.Equal(t, tc.lines, lines)
		})
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		dir  string
		want []string // messages after FILE:
	}{
		{"unknown-key", []string{
			`1: unknown key "descripton" in scenario`,
			`4: unknown key "expct" in step`,
			`8: unknown key "errn" in expect block`,
		}},
		{"unknown-action", []string{`2: unknown key "insmod" in step`}},
		{"two-actions", []string{`3: step has two actions: load and unload`}},
		{"option-of-other-action", []string{
			`3: unknown load flag "O_TRUNC": want force (modprobe --force: both of the others), ignore-vermagic or ignore-modversions (MODULE_INIT_IGNORE_*)`,
			`5: key "params" is not valid in unload steps`,
		}},
		{"bad-predicate", []string{
			`4: bad predicate "MODULES &&": column 11: expected a symbol, "!" or "(", found end of predicate`,
			`6: bad predicate "MODULES = yes": column 11: expected y, m, n, a number or a "string" after "=", found "yes"`,
		}},
		{"unknown-symbol", []string{`4: unknown Kconfig symbol CONFIG_MODULE_UNLAOD in "MODULES && !MODULE_UNLAOD"`}},
		{"unknown-errno", []string{`4: unknown errno "ENOSUCH"`}},
		{"unknown-taint", []string{`5: taint_not_gained: unknown taint letter 'Q' (known: PFSRMBUDAWCIOELKXTNJ)`}},
		{"bad-regexp", []string{"4: kmsg: bad regexp /a(/: error parsing regexp: missing closing ): `a(`"}},
		{"bad-duration", []string{
			`2: pause must be a positive duration such as 500ms or 2s, not "5 seconds"`,
			`4: timeout must be a positive duration such as 500ms or 2s, not "-1s"`,
		}},
		{"bad-yaml", []string{`3: bad YAML: mapping values are not allowed in this context`}},
		{"empty", []string{`1: empty scenario file`}},
		{"no-steps", []string{`1: scenario has no steps`}},
		{"duplicate-key", []string{`4: duplicate key "params" in step (first at line 3)`}},
		{"not-in-modules", []string{`4: load other: other.ko is not in modules [hello]`}},
		{"bad-file-variant", []string{
			`3: signed: "someone" is not one of kernel-key, other-key, corrupted, none`,
			`4: compressed: "lz4" is not one of gzip, xz, zstd, gzip-corrupted, xz-corrupted, zstd-corrupted`,
			`6: key "signed" is not valid in unload steps`,
			`9: sysfs refcnt: modinfo holds only srcversion and version against the file`,
		}},
		{"bad-modprobe", []string{
			`2: modprobe takes a module name or alias, not "two words"`,
			`3: modprobe remove takes no params`,
			`5: write step needs text: what to write to /proc/sys/kernel/modprobe`,
			`8: status is a modprobe step's (its exit status and what it printed)`,
			`11: status is an exit status (0 to 255), not "300"`,
			`14: a modprobe step has no errno: expect its exit status (status:) and output`,
			`17: a loop cannot repeat this step: modprobe hello: a loop keeps errnos, not modprobe's exit status`,
		}},
		{"bad-values", []string{
			`1: own_boot must be true or false, not "yes"`,
			`4: unknown unload flag "forced": want force (O_TRUNC) or nonblock (O_NONBLOCK)`,
			`4: flag force given twice`,
			`6: loaded must be true or false, not "maybe"`,
			`7: expect block has no conditions`,
			`8: open must be a clean absolute path, not "dev/foo"`,
			`11: loaded needs a step with a module`,
			`12: bad module name "foo.bar"`,
			`15: bad sysfs attribute "../etc": want a path under /sys/module/NAME such as refcnt or holders/other`,
			`15: taint R is in both taint_gained and taint_not_gained`,
			`16: bad kallsyms name "a b"`,
		}},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			dir := filepath.Join("testdata/bad", tc.dir)
			sc, err := Load(dir, testSymbols)
			require.Error(t, err)
			assert.Nil(t, sc)
			var want []string
			for _, w := range tc.want {
				want = append(want, filepath.Join(dir, FileName)+":"+w)
			}
			assert.Equal(t, strings.Join(want, "\n"), err.Error())
			var fe *Error
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, filepath.Join(dir, FileName), fe.File)
		})
	}
}

func TestSymbolCheckerIsOptional(t *testing.T) {
	_, err := Load("testdata/bad/unknown-symbol")
	assert.NoError(t, err)
}

func TestLoadAll(t *testing.T) {
	scs, err := LoadAll("testdata/good", testSymbols)
	require.NoError(t, err)
	var names []string
	for _, sc := range scs {
		names = append(names, sc.Name)
	}
	assert.Equal(t, []string{"full", "minimal"}, names)

	// Every broken file is reported, in name order; good ones still load.
	modules := t.TempDir()
	for name, body := range map[string]string{
		"b_good": "steps:\n  - load: b_good\n",
		"a_bad":  "steps:\n  - load: a_bad\n    expct: []\n",
		"c_bad":  "steps:\n  - pause: never\n",
	} {
		require.NoError(t, os.MkdirAll(filepath.Join(modules, name), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(modules, name, FileName), []byte(body), 0o644))
	}
	require.NoError(t, os.MkdirAll(filepath.Join(modules, "no_scenario"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(modules, "README"), nil, 0o644))
	scs, err = LoadAll(modules)
	require.Len(t, scs, 1)
	assert.Equal(t, "b_good", scs[0].Name)
	assert.Equal(t, filepath.Join(modules, "a_bad", FileName)+`:3: unknown key "expct" in step`+"\n"+
		filepath.Join(modules, "c_bad", FileName)+`:2: pause must be a positive duration such as 500ms or 2s, not "never"`,
		err.Error())

	_, err = LoadAll(filepath.Join(modules, "missing"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// The real hello scenario, against the errno table of DESIGN.md.
func TestHelloScenario(t *testing.T) {
	sc, err := Load("../../modules/hello", testSymbols)
	require.NoError(t, err)
	require.Len(t, sc.Steps, 2)
	errnos := func(st Step, lookup func(string) string) []string {
		var out []string
		for _, e := range st.Applicable(lookup) {
			if e.Errno != nil {
				out = append(out, *e.Errno)
			}
		}
		return out
	}
	for _, tc := range []struct {
		name         string
		lookup       func(string) string
		load, unload []string
	}{
		{"modules off", modulesOff, []string{"ENOSYS"}, []string{"ENOSYS"}},
		{"unload off", unloadOff, []string{""}, []string{"ENOSYS"}},
		{"unload on", unloadOn, []string{""}, []string{""}},
		{"force unload", forceUnload, []string{""}, []string{""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.load, errnos(sc.Steps[0], tc.lookup))
			assert.Equal(t, tc.unload, errnos(sc.Steps[1], tc.lookup))
		})
	}
}

// TestAutoloadScenario: modprobe and write steps reach the agent's plan
// with their operands, and status and output expectations apply per cell.
func TestAutoloadScenario(t *testing.T) {
	sc, err := Load("../../modules/autoload", WithSymbolChecker(func(sym string) bool {
		return sym == "MODULES" || sym == "MODULE_UNLOAD" || sym == "MODPROBE_PATH"
	}))
	require.NoError(t, err)
	plan := sc.Plan()
	operands := func(st protocol.Step) protocol.Step {
		return protocol.Step{Action: st.Action, Module: st.Module, Remove: st.Remove, Path: st.Path, Text: st.Text}
	}
	assert.Equal(t, protocol.Step{Action: protocol.ActionModprobe, Module: "autoload_user"}, operands(plan.Steps[0]))
	assert.Equal(t, protocol.Step{Action: protocol.ActionModprobe, Module: "autoload_user", Remove: true}, operands(plan.Steps[2]))
	assert.Equal(t, protocol.Step{Action: protocol.ActionWrite, Path: "/proc/sys/kernel/modprobe", Text: "/sbin/no-such-modprobe"}, operands(plan.Steps[7]))

	status := func(st Step, lookup func(string) string) []int {
		var out []int
		for _, e := range st.Applicable(lookup) {
			if e.Status != nil {
				out = append(out, *e.Status)
			}
		}
		return out
	}
	assert.Equal(t, []int{1}, status(sc.Steps[2], unloadOff), "modprobe -r without MODULE_UNLOAD")
	assert.Equal(t, []int{0}, status(sc.Steps[2], unloadOn))
}

func TestPattern(t *testing.T) {
	lit, err := ParsePattern("hi module")
	require.NoError(t, err)
	assert.True(t, lit.FoundIn("x hi module y"))
	assert.False(t, lit.Equals("x hi module y"))
	assert.Equal(t, `"hi module"`, lit.String())

	re, err := ParsePattern(`/^\d+$/`)
	require.NoError(t, err)
	assert.True(t, re.Equals("12288"))
	assert.False(t, re.FoundIn("12288 x"))
	assert.Equal(t, `/^\d+$/`, re.String())

	path, err := ParsePattern("/dev/foo")
	require.NoError(t, err)
	assert.False(t, path.IsRegexp(), "one slash at each end only when both are there")

	_, err = ParsePattern("/(/")
	assert.Error(t, err)
}

// TestDashedModuleNames: kbuild names the module built from foo-bar.c
// foo_bar; a scenario may spell it either way (most of the kernel's own
// sample and test modules have dashes in their file names).
func TestDashedModuleNames(t *testing.T) {
	dir := t.TempDir()
	text := "modules: [foo-bar, baz_qux]\nsteps:\n" +
		"  - load: foo-bar\n    file: foo-bar.ko\n    expect: [{errno: ok}]\n" +
		"  - load: baz-qux\n    expect: [{errno: ok}]\n" +
		"  - unload: foo-bar\n    expect: [{errno: ok}]\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, FileName), []byte(text), 0o644))
	sc, err := Load(dir)
	require.NoError(t, err)
	assert.Equal(t, []string{"foo_bar", "baz_qux"}, sc.Modules)
	require.Len(t, sc.Steps, 3)
	for i, want := range []struct{ module, file string }{{"foo_bar", "foo_bar.ko"}, {"baz_qux", "baz_qux.ko"}, {"foo_bar", ""}} {
		p := sc.Steps[i].Plan()
		assert.Equal(t, want.module, p.Module, "step %d", i+1)
		assert.Equal(t, want.file, p.File, "step %d: the image holds modules under the kernel's name", i+1)
	}
}

// TestFileVariantPlan: a load's signature and compression name the file the
// agent loads (made on the host from the built one), and a compressed file
// is loaded with MODULE_INIT_COMPRESSED_FILE, for the kernel to unpack.
func TestFileVariantPlan(t *testing.T) {
	sc, err := Load("../../modules/compressed")
	require.NoError(t, err)
	ps := sc.Steps[0].Plan()
	assert.Equal(t, "comp_mod+xz.ko", ps.File)
	assert.Equal(t, []string{protocol.FlagCompressedFile}, ps.Flags)
	sig, err := Load("../../modules/signature")
	require.NoError(t, err)
	assert.Equal(t, "sig_check.ko", sig.Steps[0].Plan().File, "the default signature is the cell's")
	assert.Equal(t, "sig_check+sig-corrupted.ko", sig.Steps[2].Plan().File)
	assert.Empty(t, sig.Steps[2].Plan().Flags)
	st := Step{Action: protocol.ActionLoad, Module: "m", Signed: SignedOtherKey, Compressed: "zstd-corrupted"}
	assert.Equal(t, "m+sig-other-key+zstd-corrupted.ko", st.Plan().File)
	assert.Equal(t, "zstd", st.Compressed.Algorithm())
	assert.True(t, st.Compressed.IsCorrupted())
}
