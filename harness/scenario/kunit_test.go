package scenario

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/ktap"
)

// The real KUnit example: it requires KUNIT and lists a status per case.
func TestKUnitExampleScenario(t *testing.T) {
	sc, err := Load("../../modules/kunit-example", WithSymbolChecker(func(sym string) bool {
		return sym == "KUNIT" || sym == "MODULES" || sym == "MODULE_UNLOAD"
	}))
	require.NoError(t, err)
	require.NotNil(t, sc.Requires)
	assert.Equal(t, "KUNIT", sc.Requires.Src)
	assert.True(t, sc.Requires.Holds(config(map[string]string{"MODULES": "y", "KUNIT": "y"})))
	assert.False(t, sc.Requires.Holds(unloadOn))
	assert.Regexp(t, `^requires KUNIT \(\S+/scenario.yaml:\d+\)$`, sc.Requires.Describe(sc.File))

	var got []string
	for _, e := range sc.Steps[0].Expect {
		for _, k := range e.KUnit {
			got = append(got, k.Case+"="+string(k.Status))
		}
	}
	assert.Equal(t, []string{
		"modmatrix_example.example_pass=PASS",
		"modmatrix_example.example_fail=FAIL",
		"modmatrix_example.example_skip=SKIP",
		"modmatrix_example_params.example_square.two=PASS",
		"modmatrix_example_params.example_square.three=PASS",
		"modmatrix_example_params.example_square.four=FAIL",
	}, got)
}

func TestNoRequirementAlwaysHolds(t *testing.T) {
	var r *Requirement
	assert.True(t, r.Holds(modulesOff))
}

func TestKUnitStatusWords(t *testing.T) {
	for word, want := range map[string]ktap.Status{
		"pass": ktap.Pass, "ok": ktap.Pass, "OK": ktap.Pass, "fail": ktap.Fail, "not ok": ktap.Fail,
		"skip": ktap.Skip, "SKIP": ktap.Skip, "crash": ktap.Crash,
	} {
		got, ok := KUnitStatus(word)
		assert.True(t, ok, word)
		assert.Equal(t, want, got, word)
	}
	_, ok := KUnitStatus("passed")
	assert.False(t, ok)
}

func TestKUnitAndRequiresErrors(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       []string
	}{
		{"bad status", "steps:\n  - load: m\n    expect:\n      - kunit: {s.a: passed}\n",
			[]string{`4: kunit s.a: unknown status "passed": want pass (ok), fail, skip or crash`}},
		{"not a mapping", "steps:\n  - load: m\n    expect:\n      - kunit: [s.a]\n",
			[]string{`4: kunit must be a mapping, not a list`}},
		{"empty", "steps:\n  - load: m\n    expect:\n      - kunit: {}\n",
			[]string{`4: kunit: no cases`}},
		{"bad requires", "requires: KUNIT &&\nsteps:\n  - load: m\n",
			[]string{`1: requires: bad predicate "KUNIT &&": column 9: expected a symbol, "!" or "(", found end of predicate`}},
		{"unknown symbol", "requires: KUNITT\nsteps:\n  - load: m\n",
			[]string{`1: unknown Kconfig symbol CONFIG_KUNITT in requires "KUNITT"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, FileName), []byte(tc.body), 0o644))
			_, err := Load(dir, WithSymbolChecker(func(sym string) bool { return sym == "KUNIT" }))
			require.Error(t, err)
			var want []string
			for _, w := range tc.want {
				want = append(want, filepath.Join(dir, FileName)+":"+w)
			}
			assert.Equal(t, strings.Join(want, "\n"), err.Error())
		})
	}
}
