package verdict

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/protocol"
	"modmatrix.dev/modmatrix/harness/scenario"
)

// Cells as lookups of their resolved .config.
func config(values map[string]string) func(string) string {
	return func(sym string) string { return values[sym] }
}

var (
	modulesOff  = config(map[string]string{"MODULES": "n"})
	unloadOff   = config(map[string]string{"MODULES": "y"})
	unloadOn    = config(map[string]string{"MODULES": "y", "MODULE_UNLOAD": "y"})
	forceUnload = config(map[string]string{"MODULES": "y", "MODULE_UNLOAD": "y", "MODULE_FORCE_UNLOAD": "y"})
)

const helloDir = "../../modules/hello"

func loadScenario(t *testing.T, dir string) *scenario.Scenario {
	t.Helper()
	sc, err := scenario.Load(dir)
	require.NoError(t, err)
	return sc
}

// recorded reads a JSON array of the agent's step results from testdata/results.
func recorded(t *testing.T, name string) []protocol.StepResult {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata/results", name+".json"))
	require.NoError(t, err)
	var rs []protocol.StepResult
	require.NoError(t, json.Unmarshal(b, &rs))
	return rs
}

func TestEvaluateRecorded(t *testing.T) {
	helloFile := filepath.Join(helloDir, scenario.FileName)
	for _, tc := range []struct {
		name    string
		dir     string
		results string
		lookup  func(string) string
		verdict Verdict
		reason  string
	}{
		{"hello modules=n", helloDir, "hello-modules-n", modulesOff, Pass, ""},
		{"hello unload=n", helloDir, "hello-unload-n", unloadOff, Pass, ""},
		{"hello unload=y", helloDir, "hello-unload-y", unloadOn, Pass, ""},
		{"hello force=y", helloDir, "hello-unload-y", forceUnload, Pass, ""},
		{"hello unload=y observed, unload=n expected", helloDir, "hello-unload-y", unloadOff, Fail,
			"step 2 (unload hello, " + helloFile + `:13): errno: expected ENOSYS, observed "" (success)`},
		{"hello modules=n observed, modules=y expected", helloDir, "hello-modules-n", unloadOn, Fail,
			"step 1 (load hello, " + helloFile + `:5): errno: expected "" (success), observed ENOSYS`},
		{"guest died after the load", helloDir, "hello-guest-died", unloadOn, Error,
			"step 2 (unload hello, " + helloFile + ":13) produced no result"},
		{"agent failed", helloDir, "hello-agent-error", unloadOn, Error,
			"step 1 (load hello, " + helloFile + ":5): agent: module file: open /modmatrix/ko/hello/hello.ko: no such file or directory"},
		{"ret42 unload=y", "testdata/scenarios/ret42", "ret42-unload-y", unloadOn, Pass, ""},
		{"ret42 observed, modules=n expected", "testdata/scenarios/ret42", "ret42-unload-y", modulesOff, Fail,
			`step 1 (load init_positive, testdata/scenarios/ret42/scenario.yaml:3): errno: expected ENOSYS, observed "" (success)`},
		{"noexit force=y", "testdata/scenarios/noexit", "noexit-force", forceUnload, Pass, ""},
		{"noexit forced, force=n expected", "testdata/scenarios/noexit", "noexit-force", unloadOn, Fail,
			`step 3 (unload noexit, testdata/scenarios/noexit/scenario.yaml:17): errno: expected EBUSY, observed "" (success)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := loadScenario(t, tc.dir)
			res := Evaluate(Resolve(sc, tc.lookup), recorded(t, tc.results))
			assert.Equal(t, tc.verdict, res.Verdict)
			assert.Equal(t, tc.reason, res.Reason)
			require.Len(t, res.Steps, len(sc.Steps), "every step has an outcome")
			if tc.verdict == Pass {
				for _, st := range res.Steps {
					assert.Empty(t, st.Mismatches)
					assert.Empty(t, st.Error)
				}
			}
		})
	}
}

// A wrong expectation: the reason names the step, the file line, what was
// expected and observed; the step outcome lists every mismatch.
func TestWrongExpectationFails(t *testing.T) {
	sc := loadScenario(t, "testdata/scenarios/hello-wrong")
	res := Evaluate(Resolve(sc, unloadOff), recorded(t, "hello-unload-n"))
	assert.Equal(t, Fail, res.Verdict)
	assert.Equal(t, `step 2 (unload hello, testdata/scenarios/hello-wrong/scenario.yaml:8): errno: expected "" (success), observed ENOSYS`, res.Reason)
	require.Len(t, res.Steps, 2)
	assert.Equal(t, StepOutcome{
		Index: 0, Line: 3, Action: "load", Module: "hello",
		Expected: []string{"errno ok", "loaded"},
	}, res.Steps[0])
	assert.Equal(t, StepOutcome{
		Index: 1, Line: 8, Action: "unload", Module: "hello",
		Expected: []string{"errno ok", "not loaded", `kmsg contains "hi module being unloaded."`},
		Mismatches: []Mismatch{
			{What: "errno", Expected: `"" (success)`, Observed: "ENOSYS", Line: 11},
			{What: "loaded", Expected: "false", Observed: `true ("hello 8192 - - Live 0x0000000000000000 (O)")`, Line: 11},
			{What: "kmsg", Expected: `"hi module being unloaded."`, Observed: "no kmsg records", Line: 11},
		},
	}, res.Steps[1])
}

func TestEvaluateMisalignedResults(t *testing.T) {
	sc := loadScenario(t, helloDir)
	helloFile := filepath.Join(helloDir, scenario.FileName)

	rs := recorded(t, "hello-unload-y")
	rs[0], rs[1] = rs[1], rs[0]
	res := Evaluate(Resolve(sc, unloadOn), rs)
	assert.Equal(t, Error, res.Verdict)
	assert.Equal(t, "step 1 (load hello, "+helloFile+":5): the result is for unload hello", res.Reason)

	rs = recorded(t, "hello-unload-y")
	res = Evaluate(Resolve(sc, unloadOn), append(rs, rs[1]))
	assert.Equal(t, Error, res.Verdict)
	assert.Equal(t, helloFile+": 3 results for 2 steps", res.Reason)

	res = Evaluate(Resolve(sc, unloadOn), nil)
	assert.Equal(t, Error, res.Verdict, "no results is never a pass")
	assert.Equal(t, "step 1 (load hello, "+helloFile+":5) produced no result", res.Reason)
}

func pattern(t *testing.T, src string) *scenario.Pattern {
	p, err := scenario.ParsePattern(src)
	require.NoError(t, err)
	return &p
}

func ptr[T any](v T) *T { return &v }

// Each condition on its own against one observation of a loaded module.
func TestConditions(t *testing.T) {
	observed := protocol.StepResult{
		Step:              protocol.Step{Action: protocol.ActionCheck, Module: "m"},
		Errno:             "EWOULDBLOCK", // as an agent might spell it
		TaintBefore:       1 << 12,
		TaintAfter:        1<<12 | 1<<3,
		ProcModules:       "m 16384 1 dep, Live 0xffffffffc0000000 (O)",
		ProcModulesExists: true,
		SysModule:         true,
		Sysfs:             map[string]string{"refcnt": "1", "initstate": "live", "holders/dep": "../../dep"},
		Kallsyms:          map[string]bool{"helper": true, "m_init": false},
		Files:             map[string]bool{"/dev/m": true},
		Kmsg: []protocol.Kmsg{
			{Seq: 1, Text: "first line\nsecond line"},
			{Seq: 2, Text: "third"},
		},
	}
	for _, tc := range []struct {
		name     string
		expect   scenario.Expectation
		desc     []string
		mismatch []Mismatch
	}{
		{"errno alias", scenario.Expectation{Errno: ptr("EAGAIN")}, []string{"errno EAGAIN"}, nil},
		{"errno", scenario.Expectation{Errno: ptr("EBUSY")}, []string{"errno EBUSY"},
			[]Mismatch{{What: "errno", Expected: "EBUSY", Observed: "EAGAIN"}}},
		{"loaded", scenario.Expectation{Loaded: ptr(true)}, []string{"loaded"}, nil},
		{"not loaded", scenario.Expectation{Loaded: ptr(false)}, []string{"not loaded"},
			[]Mismatch{{What: "loaded", Expected: "false", Observed: `true ("m 16384 1 dep, Live 0xffffffffc0000000 (O)")`}}},
		{"proc_modules", scenario.Expectation{ProcModules: pattern(t, "/ 1 dep, /")}, []string{"/proc/modules line matches / 1 dep, /"}, nil},
		{"proc_modules literal", scenario.Expectation{ProcModules: pattern(t, "[permanent]")}, []string{`/proc/modules line contains "[permanent]"`},
			[]Mismatch{{What: "proc_modules", Expected: `"[permanent]"`, Observed: `"m 16384 1 dep, Live 0xffffffffc0000000 (O)"`}}},
		{"sysfs", scenario.Expectation{Sysfs: []scenario.SysfsExpect{
			{Attr: "refcnt", Value: pattern(t, "1")},
			{Attr: "initstate", Value: pattern(t, "/^(live|coming)$/")},
			{Attr: "holders/dep"},
			{Attr: "initsize", Absent: true},
		}}, []string{`sysfs refcnt = "1"`, "sysfs initstate matches /^(live|coming)$/", "sysfs holders/dep present", "sysfs initsize absent"}, nil},
		{"sysfs wrong", scenario.Expectation{Sysfs: []scenario.SysfsExpect{
			{Attr: "refcnt", Value: pattern(t, "0")},
			{Attr: "refcnt", Absent: true},
			{Attr: "initsize"},
		}}, []string{`sysfs refcnt = "0"`, "sysfs refcnt absent", "sysfs initsize present"}, []Mismatch{
			{What: "sysfs refcnt", Expected: `"0"`, Observed: `"1"`},
			{What: "sysfs refcnt", Expected: "absent", Observed: `present ("1")`},
			{What: "sysfs initsize", Expected: "present", Observed: "absent"},
		}},
		{"kallsyms and files", scenario.Expectation{
			Kallsyms: scenario.Presence{Present: []string{"helper", "m_init"}, Absent: []string{"m_exit"}},
			Files:    scenario.Presence{Absent: []string{"/dev/m"}},
		}, []string{"kallsyms helper present", "kallsyms m_init present", "kallsyms m_exit absent", "file /dev/m absent"}, []Mismatch{
			{What: "kallsyms m_init", Expected: "present", Observed: "absent"},
			{What: "kallsyms m_exit", Expected: "absent", Observed: "not observed"},
			{What: "file /dev/m", Expected: "absent", Observed: "present"},
		}},
		{"kmsg in a record, across records, by regexp", scenario.Expectation{Kmsg: []scenario.Pattern{
			*pattern(t, "line\nsecond"), *pattern(t, "second line\nthird"), *pattern(t, "/(?m)^second line$/"),
		}}, []string{`kmsg contains "line\nsecond"`, `kmsg contains "second line\nthird"`, "kmsg matches /(?m)^second line$/"}, nil},
		{"kmsg missing", scenario.Expectation{Kmsg: []scenario.Pattern{*pattern(t, "fourth")}}, []string{`kmsg contains "fourth"`},
			[]Mismatch{{What: "kmsg", Expected: `"fourth"`, Observed: `2 records: "first line\nsecond line" "third"`}}},
		{"kmsg absent", scenario.Expectation{KmsgAbsent: []scenario.Pattern{*pattern(t, "Oops"), *pattern(t, "hir")}}, []string{`kmsg lacks "Oops"`, `kmsg lacks "hir"`},
			[]Mismatch{{What: "kmsg", Expected: `no "hir"`, Observed: `"third"`}}},
		{"taint", scenario.Expectation{TaintGained: 1 << 3, TaintNotGained: 1<<9 | 1<<12}, []string{"taint gains R", "taint does not gain WO"}, nil},
		{"taint wrong", scenario.Expectation{TaintGained: 1 << 1, TaintNotGained: 1 << 3}, []string{"taint gains F", "taint does not gain R"}, []Mismatch{
			{What: "taint gained", Expected: "F", Observed: "R (taint 4096 → 4104)"},
			{What: "taint gained", Expected: "none of R", Observed: "R (taint 4096 → 4104)"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := &scenario.Scenario{File: "s.yaml", Steps: []scenario.Step{
				{Line: 1, Action: protocol.ActionCheck, Module: "m", Expect: []scenario.Expectation{tc.expect}},
			}}
			res := Evaluate(Resolve(sc, config(nil)), []protocol.StepResult{observed})
			assert.Equal(t, tc.desc, res.Steps[0].Expected)
			assert.Equal(t, tc.mismatch, res.Steps[0].Mismatches)
			if tc.mismatch == nil {
				assert.Equal(t, Pass, res.Verdict)
			} else {
				assert.Equal(t, Fail, res.Verdict)
			}
		})
	}
}

func TestConditionsWithoutModule(t *testing.T) {
	sc := &scenario.Scenario{File: "s.yaml", Steps: []scenario.Step{{Line: 4, Action: protocol.ActionCheck, Module: "m", Expect: []scenario.Expectation{{
		Line:        5,
		Loaded:      ptr(false),
		ProcModules: pattern(t, "Live"),
		Sysfs:       []scenario.SysfsExpect{{Attr: "refcnt", Absent: true}, {Attr: "initstate"}},
	}}}}}
	res := Evaluate(Resolve(sc, config(nil)), []protocol.StepResult{{Step: protocol.Step{Action: protocol.ActionCheck, Module: "m"}}})
	assert.Equal(t, []Mismatch{
		{What: "proc_modules", Expected: `"Live"`, Observed: "no /proc/modules", Line: 5},
		{What: "sysfs initstate", Expected: "present", Observed: "absent (no /sys/module/m)", Line: 5},
	}, res.Steps[0].Mismatches)
	assert.Equal(t, `step 1 (check m, s.yaml:4): proc_modules: expected "Live", observed no /proc/modules`, res.Reason)
}

// TestModprobeStatus: on a recorded unload-off boot, modprobe -r exits 1,
// which the scenario expects there; the same results judged as if the
// cell could unload fail on it, and a modprobe step whose blocks say
// nothing of its status must exit 0.
func TestModprobeStatus(t *testing.T) {
	sc, err := scenario.Load("../../modules/autoload")
	require.NoError(t, err)
	results := recorded(t, "autoload-unload-n")
	unloadOffPath := config(map[string]string{"MODULES": "y", "MODPROBE_PATH": "/sbin/modprobe"})
	assert.Equal(t, Pass, Evaluate(Resolve(sc, unloadOffPath), results).Verdict)

	unloadOnPath := config(map[string]string{"MODULES": "y", "MODULE_UNLOAD": "y", "MODPROBE_PATH": "/sbin/modprobe"})
	res := Evaluate(Resolve(sc, unloadOnPath), results)
	assert.Equal(t, Fail, res.Verdict)
	assert.Contains(t, res.Steps[2].Mismatches, Mismatch{What: "status", Expected: "0", Observed: "1", Line: 46})

	bare := *sc
	bare.Steps = []scenario.Step{{Line: 1, Action: protocol.ActionModprobe, Module: "autoload_user", Remove: true}}
	res = Evaluate(Resolve(&bare, unloadOffPath), results[2:3])
	assert.Equal(t, Fail, res.Verdict, "an exit status of 1 nobody expected")
	assert.Equal(t, []string{"modprobe exits 0"}, res.Steps[0].Expected)
}
