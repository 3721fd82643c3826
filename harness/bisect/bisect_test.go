package bisect

import (
	"context"
	"errors"
	"fmt"
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
			res, err := Search(context.Background(), resolve(t, k, tt.good), resolve(t, k, tt.bad), k, func(p Probe) {
				heard = append(heard, fmt.Sprintf("%s %s", p.Name, p.Outcome))
			})
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
	res, err := Search(context.Background(), good, bad, k, nil)
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
	_, err := Search(context.Background(), same, same, k, nil)
	assert.ErrorIs(t, err, ErrNotBisectable)
	assert.ErrorContains(t, err, "same .config")

	force := resolve(t, k, goodBase+unload+"CONFIG_MODULE_FORCE_UNLOAD=y\n")
	_, err = Search(context.Background(), force, same, k, nil)
	assert.ErrorIs(t, err, ErrNotBisectable)
	assert.ErrorContains(t, err, "the good configuration is bad (noexit: FAIL)")

	k.bad = func(kconfig.Config) bool { return false }
	_, err = Search(context.Background(), same, force, k, nil)
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
	assert.Equal(t, []string{"a", "c"}, complement([]string{"a", "b", "c"}, []string{"b"}))
	assert.True(t, errors.Is(fmt.Errorf("x: %w", ErrNotBisectable), ErrNotBisectable))
}
