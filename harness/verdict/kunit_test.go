package verdict

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/ktap"
	"modmatrix.dev/modmatrix/harness/protocol"
	"modmatrix.dev/modmatrix/harness/scenario"
)

const kunitDir = "../../modules/kunit-example"

var kunitCell = config(map[string]string{"MODULES": "y", "MODULE_UNLOAD": "y", "KUNIT": "y"})

// kunitCopy is modules/kunit-example with its scenario.yaml edited.
func kunitCopy(t *testing.T, edit func(string) string) *scenario.Scenario {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(kunitDir, scenario.FileName))
	require.NoError(t, err)
	dir := filepath.Join(t.TempDir(), "kunit-example")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, scenario.FileName), []byte(edit(string(src))), 0o644))
	return loadScenario(t, dir)
}

func caseStatuses(cases []KUnitCase) map[string]string {
	out := map[string]string{}
	for _, c := range cases {
		out[c.ID()] = string(c.Status) + "/" + string(c.Expected)
	}
	return out
}

// The steps of a real boot of 6.12's kunit cell: each case as reported,
// with what the scenario expects of it.
func TestKUnitRecorded(t *testing.T) {
	res := Evaluate(Resolve(loadScenario(t, kunitDir), kunitCell), recorded(t, "kunit-example-6.12"))
	assert.Equal(t, Pass, res.Verdict, res.Reason)
	assert.Equal(t, map[string]string{
		"modmatrix_example.example_pass":                PASS + "/" + PASS,
		"modmatrix_example.example_fail":                FAIL + "/" + FAIL,
		"modmatrix_example.example_skip":                SKIP + "/" + SKIP,
		"modmatrix_example_params.example_square.two":   PASS + "/" + PASS,
		"modmatrix_example_params.example_square.three": PASS + "/" + PASS,
		"modmatrix_example_params.example_square.four":  FAIL + "/" + FAIL,
	}, caseStatuses(res.KUnit))
	for _, c := range res.KUnit {
		assert.Equal(t, 0, c.Step, "the load step's kmsg carries the KTAP")
		assert.True(t, c.OK(), c.ID())
	}
	skip := res.KUnit[2]
	assert.Equal(t, "needs hardware this guest does not have", skip.Reason)
	fail := res.KUnit[1]
	assert.Equal(t, []string{"# example_fail: EXPECTATION FAILED at kunit_example.c:23", "Expected 1 + 1 == 3, but", "    1 + 1 == 2 (0x2)"}, fail.Log)
}

const (
	PASS = string(ktap.Pass)
	FAIL = string(ktap.Fail)
	SKIP = string(ktap.Skip)
)

func TestKUnitMismatches(t *testing.T) {
	file := filepath.Join("kunit-example", scenario.FileName)
	for _, tc := range []struct {
		name   string
		edit   func(string) string
		kmsg   func([]protocol.Kmsg) []protocol.Kmsg
		reason string
	}{
		{
			name:   "a case reports another status than listed",
			edit:   func(s string) string { return strings.Replace(s, "example_fail: fail", "example_fail: pass", 1) },
			reason: `kunit modmatrix_example.example_fail: expected PASS, observed FAIL (# example_fail: EXPECTATION FAILED at kunit_example.c:23)`,
		},
		{
			name: "a failing case that is not listed",
			edit: func(s string) string {
				return strings.Replace(s, "          modmatrix_example_params.example_square.four: fail\n", "", 1)
			},
			reason: `kunit modmatrix_example_params.example_square.four: expected no failure (the case is not in the step's kunit list), observed FAIL (# example_square: EXPECTATION FAILED at kunit_example.c:67)`,
		},
		{
			name: "a listed case the KTAP does not name",
			edit: func(s string) string {
				return strings.Replace(s, "example_pass: pass", "example_pass: pass\n          modmatrix_example.example_gone: pass", 1)
			},
			reason: `kunit modmatrix_example.example_gone: expected PASS, observed not in the KTAP (it reports modmatrix_example.example_pass`,
		},
		{
			name: "the module died mid-suite: the rest of the plan is crashed",
			edit: func(s string) string { return s },
			kmsg: func(k []protocol.Kmsg) []protocol.Kmsg {
				for i, r := range k {
					if strings.Contains(r.Text, "not ok 2 example_fail") {
						return k[:i+1]
					}
				}
				t.Fatal("no example_fail result in the recording")
				return nil
			},
			reason: `kunit modmatrix_example.example_skip: expected SKIP, observed not in the KTAP`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			results := recorded(t, "kunit-example-6.12")
			if tc.kmsg != nil {
				results[0].Kmsg = tc.kmsg(results[0].Kmsg)
			}
			res := Evaluate(Resolve(kunitCopy(t, tc.edit), kunitCell), results)
			assert.Equal(t, Fail, res.Verdict)
			assert.Contains(t, res.Reason, "step 1 (load kunit_example, ")
			assert.Contains(t, res.Reason, file)
			assert.Contains(t, res.Reason, tc.reason)
		})
	}
}

// A truncated suite shows its missing cases as crashed, by number.
func TestKUnitCrashedCases(t *testing.T) {
	results := recorded(t, "kunit-example-6.12")
	var kept []protocol.Kmsg
	for _, r := range results[0].Kmsg {
		kept = append(kept, r)
		if strings.Contains(r.Text, "not ok 2 example_fail") {
			break
		}
	}
	got := caseStatuses(KUnitCases(0, kept))
	assert.Equal(t, map[string]string{
		"modmatrix_example.example_pass": PASS + "/",
		"modmatrix_example.example_fail": FAIL + "/",
		"modmatrix_example.#3":           "CRASH/",
		"#2":                             "CRASH/",
	}, got)
}
