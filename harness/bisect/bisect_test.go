package bisect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/kconfig"
)

// kconfigLike resolves as Kconfig would for the few rules these tests
// need: MODULE_FORCE_UNLOAD depends on MODULE_UNLOAD, and RD_LZ4 selects
// DECOMPRESS_LZ4. bad says which resolved configs are bad; skip which
// cannot be built.
type kconfigLike struct {
	bad, skip func(kconfig.Config) bool
	tested    []string
}

func (k *kconfigLike) Resolve(_ context.Context, _ string, asked []byte) ([]byte, error) {
	// Later lines win, as merge_config.sh has them.
	values := map[string]string{}
	var order []string
	for _, line := range strings.Split(string(asked), "\n") {
		f, err := kconfig.ParseFragmentData("asked", []byte(line))
		if err != nil {
			return nil, err
		}
		for _, e := range f.Entries {
			values[e.Symbol] = e.Value
			order = append(order, e.Symbol)
		}
	}
	if values["MODULE_UNLOAD"] != "y" {
		delete(values, "MODULE_FORCE_UNLOAD") // invisible: absent
	}
	values["DECOMPRESS_LZ4"] = "n"
	if values["RD_LZ4"] == "y" {
		values["DECOMPRESS_LZ4"] = "y"
	}
	order = append(order, "DECOMPRESS_LZ4")
	var b strings.Builder
	b.WriteString("# Automatically generated file; DO NOT EDIT.\n")
	seen := map[string]bool{}
	for _, s := range order {
		if v, ok := values[s]; ok && !seen[s] {
			seen[s] = true
			b.WriteString(kconfig.Entry{Symbol: s, Value: v}.String() + "\n")
		}
	}
	return []byte(b.String()), nil
}

func (k *kconfigLike) Test(_ context.Context, name string, resolved []byte) (Outcome, string, Run, error) {
	c, err := kconfig.ParseConfigData(resolved)
	if err != nil {
		return "", "", Run{}, err
	}
	k.tested = append(k.tested, name)
	switch {
	case k.skip != nil && k.skip(c):
		return Skip, "did not build", Run{}, nil
	case k.bad(c):
		return Bad, "noexit: FAIL", Run{Built: true, Booted: true}, nil
	}
	return Good, "noexit: PASS", Run{Built: true, Booted: true}, nil
}

// unrelated are a dozen symbols no scenario here cares about, as the
// end-to-end test's fragment sets them (a string, an int, a select).
var unrelated = []string{
	"CONFIG_SGETMASK_SYSCALL=y", "CONFIG_SYSFS_SYSCALL=y", "CONFIG_FHANDLE=y",
	"CONFIG_PCSPKR_PLATFORM=y", "CONFIG_ADVISE_SYSCALLS=y", "CONFIG_KCMP=y",
	"CONFIG_CACHESTAT_SYSCALL=y", "CONFIG_CROSS_MEMORY_ATTACH=y", "CONFIG_DEVMEM=y",
	"CONFIG_LOG_BUF_SHIFT=16", `CONFIG_DEFAULT_HOSTNAME="modmatrix probe"`, "# CONFIG_RD_LZ4 is not set",
}

const (
	goodBase = "CONFIG_MODULES=y\nCONFIG_LOG_BUF_SHIFT=17\nCONFIG_DEFAULT_HOSTNAME=\"(none)\"\nCONFIG_RD_LZ4=y\n"
	unload   = "CONFIG_MODULE_UNLOAD=y\n# CONFIG_MODULE_FORCE_UNLOAD is not set\n"
)

// kconfigRelations are kconfigLike's rules as kconfig.Relations reads them.
var kconfigRelations = map[string][]string{"MODULE_FORCE_UNLOAD": {"MODULES", "MODULE_UNLOAD"}, "RD_LZ4": {"DECOMPRESS_LZ4"}}

func resolve(t *testing.T, k *kconfigLike, text string) []byte {
	t.Helper()
	data, err := k.Resolve(context.Background(), "", []byte(text))
	require.NoError(t, err)
	return data
}

func forcedUnloadWorks(c kconfig.Config) bool {
	return c.Enabled("MODULE_UNLOAD") && c.Enabled("MODULE_FORCE_UNLOAD")
}

func TestSearch(t *testing.T) {
	for _, tt := range []struct {
		name      string
		good, bad string
		skip      func(kconfig.Config) bool
		badIf     func(kconfig.Config) bool
		culprit   []Symbol
		followed  []string
		maxProbes int
		skipped   int
		related   bool
	}{{
		// The end-to-end test's first case: one symbol among thirteen.
		name:    "one symbol",
		good:    goodBase + unload,
		bad:     goodBase + unload + strings.Join(unrelated, "\n") + "\nCONFIG_MODULE_FORCE_UNLOAD=y\n",
		culprit: []Symbol{{"MODULE_FORCE_UNLOAD", "n", "y"}},
		// ddmin on 14 symbols, one bad: about two probes a halving.
		maxProbes: 10,
	}, {
		// The second: MODULE_FORCE_UNLOAD alone resolves away (good's
		// config again, no run); only with MODULE_UNLOAD is it bad.
		name:    "two symbols, one depending on the other",
		good:    goodBase + "# CONFIG_MODULE_UNLOAD is not set\n" + strings.Join(unrelated, "\n") + "\n",
		bad:     goodBase + unload + "CONFIG_MODULE_FORCE_UNLOAD=y\nCONFIG_MODULE_FORCE_LOAD=y\n",
		culprit: []Symbol{{"MODULE_FORCE_UNLOAD", "n", "y"}, {"MODULE_UNLOAD", "n", "y"}},
	}, {
		// Kconfig's relations keep the two together from the start: the
		// search looks for one unit, then tries each symbol without.
		name:      "two symbols, related by Kconfig",
		good:      goodBase + "# CONFIG_MODULE_UNLOAD is not set\n" + strings.Join(unrelated, "\n") + "\n",
		bad:       goodBase + unload + "CONFIG_MODULE_FORCE_UNLOAD=y\nCONFIG_MODULE_FORCE_LOAD=y\n",
		culprit:   []Symbol{{"MODULE_FORCE_UNLOAD", "n", "y"}, {"MODULE_UNLOAD", "n", "y"}},
		related:   true,
		maxProbes: 9,
	}, {
		// A probe that cannot be built is not bad: the search goes on.
		name: "skipped probes",
		good: goodBase + unload,
		bad:  goodBase + unload + strings.Join(unrelated, "\n") + "\nCONFIG_MODULE_FORCE_UNLOAD=y\n",
		skip: func(c kconfig.Config) bool {
			return c.Value("KCMP") == "y" && c.Value("MODULE_FORCE_UNLOAD") == "n"
		},
		culprit: []Symbol{{"MODULE_FORCE_UNLOAD", "n", "y"}},
		skipped: 1,
	}, {
		// A symbol Kconfig selects follows its selector into the result;
		// asked alone, it is selected again.
		name:     "selected symbols follow",
		good:     goodBase + unload,
		bad:      goodBase + unload + "# CONFIG_RD_LZ4 is not set\nCONFIG_KCMP=y\n",
		badIf:    func(c kconfig.Config) bool { return !c.Enabled("DECOMPRESS_LZ4") },
		culprit:  []Symbol{{"RD_LZ4", "y", "n"}},
		followed: []string{"DECOMPRESS_LZ4 y→n"},
	}} {
		t.Run(tt.name, func(t *testing.T) {
			k := &kconfigLike{bad: forcedUnloadWorks, skip: tt.skip}
			if tt.badIf != nil {
				k.bad = tt.badIf
			}
			var heard []string
			opts := []Option{WithProgress(func(p Probe) {
				heard = append(heard, fmt.Sprintf("%s %s", p.Name, p.Outcome))
			})}
			if tt.related {
				opts = append(opts, WithRelations(kconfigRelations))
			}
			res, err := Search(context.Background(), resolve(t, k, tt.good), resolve(t, k, tt.bad), k, opts...)
			require.NoError(t, err)
			assert.Equal(t, tt.culprit, res.Culprit)
			var followed []string
			for _, s := range res.Followed {
				followed = append(followed, s.Name+" "+s.Good+"→"+s.Bad)
			}
			assert.Equal(t, tt.followed, followed)
			probes := res.Counts().Tried
			t.Logf("%d probes: %v", probes, heard)
			ran := 0
			for _, p := range res.Probes {
				if p.SameAs == "" {
					ran++
				}
			}
			assert.Equal(t, len(k.tested), ran, "a run for each probe whose config no earlier one had")
			assert.Equal(t, tt.skipped, res.Counts().Skipped)
			if tt.maxProbes > 0 {
				assert.LessOrEqual(t, probes, tt.maxProbes, "%v", heard)
			}
			assert.Equal(t, []string{"good ", "good good", "bad ", "bad bad"}, heard[:4])
			// Every probe is heard twice: started, then judged.
			assert.Len(t, heard, 2*len(res.Probes))
			for _, p := range res.Probes {
				if p.SameAs != "" {
					assert.False(t, p.Run.Built, "%s is %s's config: no build", p.Name, p.SameAs)
				}
			}
		})
	}
}

// A dependency resolves the asked change away: the probe counts as the
// good config it became, without a run.
func TestProbeResolvedAway(t *testing.T) {
	k := &kconfigLike{bad: forcedUnloadWorks}
	good := resolve(t, k, goodBase+"# CONFIG_MODULE_UNLOAD is not set\n")
	bad := resolve(t, k, goodBase+unload+"CONFIG_MODULE_FORCE_UNLOAD=y\n")
	res, err := Search(context.Background(), good, bad, k)
	require.NoError(t, err)
	var away *Probe
	for i, p := range res.Probes {
		if len(p.Asked) == 1 && p.Asked[0] == "MODULE_FORCE_UNLOAD" {
			away = &res.Probes[i]
		}
	}
	require.NotNil(t, away, "%+v", res.Probes)
	assert.Equal(t, "good", away.SameAs)
	assert.Empty(t, away.Resolved)
	assert.Equal(t, Good, away.Outcome)
	assert.Equal(t, []string{"good", "bad", "probe 2"}, k.tested, "only MODULE_UNLOAD alone needed a run")
}

func TestNotBisectable(t *testing.T) {
	k := &kconfigLike{bad: forcedUnloadWorks}
	same := resolve(t, k, goodBase+unload)
	_, err := Search(context.Background(), same, same, k)
	assert.ErrorIs(t, err, ErrNotBisectable)
	assert.ErrorContains(t, err, "same .config")

	force := resolve(t, k, goodBase+unload+"CONFIG_MODULE_FORCE_UNLOAD=y\n")
	_, err = Search(context.Background(), force, same, k)
	assert.ErrorIs(t, err, ErrNotBisectable)
	assert.ErrorContains(t, err, "the good configuration is bad (noexit: FAIL)")

	k.bad = func(kconfig.Config) bool { return false }
	_, err = Search(context.Background(), same, force, k)
	assert.ErrorContains(t, err, "the bad configuration is good (noexit: PASS)")
}

func TestAskedKeepsQuoting(t *testing.T) {
	k := &kconfigLike{bad: forcedUnloadWorks}
	s := &search{}
	var err error
	s.good, err = parse("good", resolve(t, k, goodBase))
	require.NoError(t, err)
	s.bad, err = parse("bad", resolve(t, k, `CONFIG_DEFAULT_HOSTNAME="a \"b\""`+"\nCONFIG_KCMP=y\n"))
	require.NoError(t, err)
	asked := string(s.asked([]string{"DEFAULT_HOSTNAME", "KCMP", "MODULES"}))
	assert.Contains(t, asked, `CONFIG_DEFAULT_HOSTNAME="a \"b\""`)
	assert.Contains(t, asked, "CONFIG_KCMP=y")
	assert.Contains(t, asked, "# CONFIG_MODULES is not set")
	assert.Contains(t, asked, "CONFIG_LOG_BUF_SHIFT=17")
}

func TestSplit(t *testing.T) {
	assert.Equal(t, [][]string{{"a"}, {"b", "c"}}, split([]string{"a", "b", "c"}, 2))
	assert.Equal(t, [][]string{{"a"}, {"b"}, {"c"}}, split([]string{"a", "b", "c"}, 3))
	assert.Equal(t, [][]string{{"a"}, {"c"}}, complement([][]string{{"a"}, {"b"}, {"c"}}, [][]string{{"b"}}))
	assert.True(t, errors.Is(fmt.Errorf("x: %w", ErrNotBisectable), ErrNotBisectable))
}

func TestUnits(t *testing.T) {
	s := &search{relations: map[string][]string{
		"MODULE_FORCE_UNLOAD": {"MODULES", "MODULE_UNLOAD"},
		"IO_STRICT_DEVMEM":    {"STRICT_DEVMEM"},
		"STRICT_DEVMEM":       {"MMU", "DEVMEM"},
		"RD_LZ4":              {"BLK_DEV_INITRD", "DECOMPRESS_LZ4"},
	}}
	assert.Equal(t, [][]string{
		{"ADVISE_SYSCALLS"}, {"DECOMPRESS_LZ4", "RD_LZ4"}, {"DEVMEM", "IO_STRICT_DEVMEM", "STRICT_DEVMEM"},
		{"KCMP"}, {"MODULE_FORCE_UNLOAD", "MODULE_UNLOAD"},
	}, s.units([]string{"ADVISE_SYSCALLS", "DECOMPRESS_LZ4", "DEVMEM", "IO_STRICT_DEVMEM", "KCMP", "MODULE_FORCE_UNLOAD", "MODULE_UNLOAD", "RD_LZ4", "STRICT_DEVMEM"}))
	s.relations = nil
	assert.Equal(t, [][]string{{"A"}, {"B"}}, s.units([]string{"A", "B"}))
}

// recordedKconfig resolves as 6.12's Kconfig does for the symbols of the
// recorded difference below: what depends on a symbol that is off goes,
// what a symbol selects comes with it.
type recordedKconfig struct{ runs int }

func (r *recordedKconfig) Resolve(_ context.Context, _ string, asked []byte) ([]byte, error) {
	f, err := kconfig.ParseFragmentData("asked", asked)
	if err != nil {
		return nil, err
	}
	v := map[string]string{}
	for _, e := range f.Entries {
		v[e.Symbol] = e.Value
	}
	off := func(sym string) bool { return v[sym] == "" || v[sym] == "n" }
	for sym, needs := range map[string][]string{
		"MODULE_FORCE_UNLOAD": {"MODULE_UNLOAD"}, "STRICT_DEVMEM": {"DEVMEM"}, "IO_STRICT_DEVMEM": {"STRICT_DEVMEM", "DEVMEM"},
	} {
		for _, n := range needs {
			if off(n) {
				delete(v, sym)
			}
		}
	}
	for sel, syms := range map[string][]string{
		"RD_LZ4": {"DECOMPRESS_LZ4", "LZ4_DECOMPRESS"}, "FHANDLE": {"EXPORTFS"}, "PCSPKR_PLATFORM": {"I8253_LOCK"},
	} {
		for _, s := range syms {
			if off(sel) {
				delete(v, s)
			} else {
				v[s] = "y"
			}
		}
	}
	var b strings.Builder
	for _, e := range f.Entries {
		if val, ok := v[e.Symbol]; ok {
			b.WriteString(kconfig.Entry{Symbol: e.Symbol, Value: val}.String() + "\n")
			delete(v, e.Symbol)
		}
	}
	for _, s := range slices.Sorted(maps.Keys(v)) {
		b.WriteString(kconfig.Entry{Symbol: s, Value: v[s]}.String() + "\n")
	}
	return []byte(b.String()), nil
}

func (r *recordedKconfig) Test(_ context.Context, _ string, resolved []byte) (Outcome, string, Run, error) {
	c, err := kconfig.ParseConfigData(resolved)
	r.runs++
	if forcedUnloadWorks(c) {
		return Bad, "stays: FAIL", Run{Built: true}, err
	}
	return Good, "stays: PASS", Run{Built: true}, err
}

// TestSearchRecorded runs the end-to-end test's second case on its real
// resolved configs (6.12.118: unload-off with a dozen unrelated symbols,
// and the force-unload cell; recorded from a run) and the relations
// kconfig.Relations read from that source for the symbols that differ:
// with them the search tries MODULE_UNLOAD and MODULE_FORCE_UNLOAD
// together and needs far fewer kernels.
func TestSearchRecorded(t *testing.T) {
	good, err := os.ReadFile("testdata/unload-off-unrelated.config")
	require.NoError(t, err)
	bad, err := os.ReadFile("testdata/force-unload.config")
	require.NoError(t, err)
	raw, err := os.ReadFile("testdata/relations-6.12.118.json")
	require.NoError(t, err)
	var rel map[string][]string
	require.NoError(t, json.Unmarshal(raw, &rel))
	runs := map[bool]int{}
	for _, related := range []bool{false, true} {
		k := &recordedKconfig{}
		var opts []Option
		if related {
			opts = append(opts, WithRelations(rel))
		}
		res, err := Search(context.Background(), good, bad, k, opts...)
		require.NoError(t, err)
		assert.Len(t, res.Differ, 21)
		assert.Equal(t, []Symbol{{"MODULE_FORCE_UNLOAD", "n", "y"}, {"MODULE_UNLOAD", "n", "y"}}, res.Culprit)
		runs[related] = k.runs
	}
	t.Logf("runs (good and bad included): %d without relations, %d with", runs[false], runs[true])
	assert.Equal(t, 17, runs[false], "as the end-to-end run measured")
	assert.LessOrEqual(t, runs[true], 10)
}
