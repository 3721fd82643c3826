package verdict

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExplain(t *testing.T) {
	sc := loadScenario(t, "testdata/scenarios/noexit")
	tests := []struct {
		name   string
		lookup func(string) string
		// want is the unload step's (step 3) concrete expectations.
		want   []string
		blocks []int
	}{
		{"force-unload", forceUnload, []string{"errno ok", "not loaded", "sysfs initstate absent", "taint gains R"}, []int{20}},
		{"unload", unloadOn, []string{"errno EBUSY", "loaded", "taint does not gain R"}, []int{25}},
		{"unload-off", unloadOff, []string{}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			steps := Explain(Resolve(sc, tc.lookup))
			require.Len(t, steps, 3)
			assert.Equal(t, "unload noexit", steps[2].Step)
			assert.Equal(t, 17, steps[2].Line)
			assert.Equal(t, tc.want, steps[2].Expected)
			assert.Equal(t, tc.blocks, steps[2].Blocks)
		})
	}
}

// TestExplainIsWhatJudgeChecks: on a recorded run, every step's
// explanation is the list of conditions the judge reports it checked.
func TestExplainIsWhatJudgeChecks(t *testing.T) {
	for _, tc := range []struct {
		dir, results string
		lookup       func(string) string
	}{
		{"testdata/scenarios/noexit", "noexit-force", forceUnload},
		{helloDir, "hello-unload-y", unloadOn},
		{helloDir, "hello-modules-n", modulesOff},
		{kunitDir, "kunit-example-6.12", kunitCell},
	} {
		exp := Resolve(loadScenario(t, tc.dir), tc.lookup)
		res := Judge(exp, recorded(t, tc.results), func(int) []Report { return nil })
		explained := Explain(exp)
		require.Len(t, explained, len(res.Steps), tc.results)
		for i, st := range res.Steps {
			assert.ElementsMatch(t, st.Expected, explained[i].Expected, "%s step %d", tc.results, i+1)
		}
	}
}
