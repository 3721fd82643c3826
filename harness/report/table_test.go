package report

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/verdict"
)

func TestWriteTable(t *testing.T) {
	r := &Results{
		SchemaVersion: SchemaVersion,
		Cells: []Cell{
			{Kernel: "6.12.117", Cell: "unload", Boots: 1},
			{Kernel: "6.1.192", Cell: "unload", Boots: 1},
		},
		Results: []ScenarioResult{
			{Kernel: "6.12.117", Cell: "unload", Scenario: "hello", Verdict: verdict.Pass},
			{Kernel: "6.1.192", Cell: "unload", Scenario: "hello", Verdict: verdict.Fail,
				Reason: `step 2 (unload hello, modules/hello/scenario.yaml:14): errno: expected ENOSYS, observed "" (success)`},
		},
	}
	var b bytes.Buffer
	require.NoError(t, r.WriteTable(&b))
	want := "" +
		"          6.1.192  6.12.117\n" +
		"SCENARIO  unload   unload\n" +
		"hello     FAIL     PASS\n" +
		"\n" +
		"hello 6.1.192 unload: FAIL step 2 (unload hello, modules/hello/scenario.yaml:14): errno: expected ENOSYS, observed \"\" (success)\n"
	assert.Equal(t, want, b.String())
	assert.False(t, r.AllPassed())
}

func TestWriteRead(t *testing.T) {
	dir := t.TempDir()
	r := &Results{SchemaVersion: SchemaVersion, Results: []ScenarioResult{{Scenario: "hello", Verdict: verdict.Pass}}}
	require.NoError(t, r.Write(dir))
	got, err := Read(dir)
	require.NoError(t, err)
	assert.Equal(t, r.Results, got.Results)
	assert.True(t, got.AllPassed())

	old := &Results{SchemaVersion: SchemaVersion + 1}
	require.NoError(t, old.Write(dir))
	_, err = Read(dir)
	assert.ErrorContains(t, err, "schema version")
}

func TestMerge(t *testing.T) {
	part := func(shard string, cells ...string) *Results {
		r := &Results{SchemaVersion: SchemaVersion, MatrixID: "m1", Shard: shard}
		for _, c := range cells {
			r.Cells = append(r.Cells, Cell{Kernel: "6.12.117", Cell: c})
			r.Results = append(r.Results, ScenarioResult{Kernel: "6.12.117", Cell: c, Scenario: "hello", Verdict: verdict.Pass})
		}
		return r
	}
	merged, err := Merge([]*Results{part("2/2", "unload"), part("1/2", "debug", "unload-off")})
	require.NoError(t, err)
	assert.Len(t, merged.Cells, 3)
	assert.Equal(t, "debug", merged.Cells[0].Cell)
	assert.True(t, merged.AllPassed())

	other := part("1/2", "modules-off")
	other.MatrixID = "m2"
	_, err = Merge([]*Results{part("2/2", "unload"), other})
	assert.ErrorContains(t, err, "different matrix definitions")
	_, err = Merge([]*Results{part("1/2", "unload"), part("2/2", "unload")})
	assert.ErrorContains(t, err, "is in shard")
}

func TestJUnit(t *testing.T) {
	r := &Results{
		SchemaVersion: SchemaVersion,
		Cells:         []Cell{{Kernel: "6.12.117", Cell: "unload", Boots: 1}, {Kernel: "6.12.117", Cell: "unload-off", Boots: 2}},
		Results: []ScenarioResult{
			{Kernel: "6.12.117", Cell: "unload", Scenario: "hello", Verdict: verdict.Pass, DurationMS: 120},
			{Kernel: "6.12.117", Cell: "unload-off", Scenario: "hello", Verdict: verdict.Fail, DurationMS: 90,
				Reason: "step 2 (unload hello, modules/hello/scenario.yaml:13): errno: expected EBUSY, observed ENOSYS",
				Steps: []StepRecord{{Action: "load", Module: "hello"}, {Action: "unload", Module: "hello", Errno: "ENOSYS",
					Mismatches: []verdict.Mismatch{{What: "errno", Expected: "EBUSY", Observed: "ENOSYS"}}, Kmsg: []string{"x"}}}},
			{Kernel: "6.12.117", Cell: "unload-off", Scenario: "exit-oops", Verdict: verdict.Crash, Reason: "unexpected kernel report"},
		},
	}
	dir := t.TempDir()
	require.NoError(t, r.Write(dir))
	b, err := os.ReadFile(filepath.Join(dir, "junit.xml"))
	require.NoError(t, err)
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Errors   int `xml:"errors,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
					Data    string `xml:",cdata"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	require.NoError(t, xml.Unmarshal(b, &doc))
	assert.Equal(t, 3, doc.Tests)
	assert.Equal(t, 1, doc.Failures)
	assert.Equal(t, 1, doc.Errors)
	require.Len(t, doc.Suites, 2)
	assert.Equal(t, "6.12.117/unload-off", doc.Suites[1].Name)
	f := doc.Suites[1].Cases[0].Failure
	require.NotNil(t, f)
	assert.Contains(t, f.Message, "expected EBUSY, observed ENOSYS")
	assert.Contains(t, f.Data, "kmsg: x")
}

func TestDiff(t *testing.T) {
	run := func(kernel string, unloadErrno string, v verdict.Verdict) *Results {
		return &Results{SchemaVersion: SchemaVersion,
			Cells: []Cell{{Kernel: kernel, Cell: "unload"}, {Kernel: kernel, Cell: "unload-off"}},
			Results: []ScenarioResult{
				{Kernel: kernel, Cell: "unload", Scenario: "hello", Verdict: verdict.Pass, Steps: []StepRecord{
					{Action: "load", Module: "hello", ProcModules: "hello 12288 0 - Live 0xffffffffa0000000 (O)", TaintAfter: 4096,
						Kmsg: []string{"hello: loading out-of-tree module taints kernel.", "hi"}},
					{Action: "unload", Module: "hello", Errno: unloadErrno}}},
				{Kernel: kernel, Cell: "unload-off", Scenario: "hello", Verdict: v},
			}}
	}
	base := run("6.1.192", "", verdict.Pass)

	assert.Empty(t, Diff(base, run("6.1.192", "", verdict.Pass), true), "identical runs")
	same := run("6.12.117", "", verdict.Pass)
	same.Results[0].Steps[0].ProcModules = "hello 16384 0 - Live 0xffffffffc0000000 (O)"
	assert.False(t, SameKernels(base, same))
	assert.Empty(t, Diff(base, same, false), "6.1 against 6.12: sizes and addresses do not count")
	// Seen on a fresh machine (6.12, unload-off, load step): the PS/2
	// mouse probe finished while one run's load step ran, not the other's.
	late := run("6.1.192", "", verdict.Pass)
	late.Results[0].Steps[0].KmsgBackground = []string{"input: ImExPS/2 Generic Explorer Mouse as /devices/platform/i8042/serio1/input/input2"}
	assert.Empty(t, Diff(base, late, true), "other tasks' records are not the step's")

	// Seen in CI (6.12, force-unload, oom-init): one run's OOM met the
	// limit in another thread's page fault, the other's in the module.
	oom := func(title string) *Results {
		r := run("6.1.192", "", verdict.Pass)
		r.Results[0].Steps[0].Reports = []verdict.Report{{Kind: "OOM", Title: title, Signature: "out of memory, killed uinit"}}
		return r
	}
	assert.Empty(t, Diff(oom("out of memory in oom_init_init, killed uinit"), oom("out of memory in __handle_mm_fault, killed uinit"), true),
		"an OOM's allocation site is not compared")

	changed := Diff(base, run("6.1.192", "EBUSY", verdict.Fail), true)
	require.Len(t, changed, 2)
	assert.Equal(t, "unload", changed[0].Cell)
	assert.Contains(t, changed[0].Details, `step 2 (unload hello) errno: "" → "EBUSY"`)
	assert.True(t, changed[0].Regression, "an observation changed while both passed")
	assert.True(t, changed[1].Regression, "PASS → FAIL")
	assert.True(t, Regressed(changed))

	fixed := Diff(run("6.1.192", "", verdict.Fail), base, true)
	require.Len(t, fixed, 1)
	assert.False(t, Regressed(fixed), "FAIL → PASS is a fix")
}

// TestStableMasksVolatileValues: two boots' oops records for the same bug
// differ only in addresses, registers, page tables and PIDs.
func TestStableMasksVolatileValues(t *testing.T) {
	a := "BUG: unable to handle page fault for address: ffffffffa0004110\nPGD 1845067 P4D 1845067 PUD 1846063 PMD 949067 PTE 0\nCPU: 0 UID: 0 PID: 33 Comm: uinit Tainted: G  R        O       6.12.117 #2 \nRSP: 0018:ffff888000977f28 EFLAGS: 00000202\nnote: uinit[33] exited with irqs disabled"
	b := "BUG: unable to handle page fault for address: ffffffffa0004110\nPGD 1845067 P4D 1845067 PUD 1846063 PMD 942067 PTE 0\nCPU: 0 UID: 0 PID: 31 Comm: uinit Tainted: G  R        O       6.12.117 #3 \nRSP: 0018:ffff88800093bf28 EFLAGS: 00000202\nnote: uinit[31] exited with irqs disabled"
	assert.Equal(t, stable([]string{a}), stable([]string{b}))
	assert.NotEqual(t, stable([]string{"refheld: open"}), stable([]string{"refheld: close"}))
}

// TestReadRefuses: a results.json that is cut short, has a value of the
// wrong type or a verdict modmatrix never gives is refused, saying where.
// testdata/vermagic-6.12.results.json is a real run's (vermagic on 6.12's
// unload and debug cells), trimmed to those two cells.
func TestReadRefuses(t *testing.T) {
	real, err := os.ReadFile("testdata/vermagic-6.12.results.json")
	require.NoError(t, err)
	_, err = Read("testdata/vermagic-6.12.results.json")
	require.NoError(t, err, "the capture itself reads")
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"truncated", real[:len(real)/2], "truncated: it ends at byte 3274 inside a value"},
		{"bad syntax", bytes.Replace(real, []byte(`"schema_version":`), []byte(`"schema_version"`), 1), "byte 22: invalid character"},
		{"wrong type", bytes.Replace(real, []byte(`"duration_ms": 7589`), []byte(`"duration_ms": "7589"`), 1), "field duration_ms (byte 130): a JSON string where int64 belongs"},
		{"nested wrong type", bytes.Replace(real, []byte(`"scenario": "vermagic"`), []byte(`"scenario": 7`), 1), "field results.scenario (byte "},
		{"unknown verdict", bytes.Replace(real, []byte(`"verdict": "PASS"`), []byte(`"verdict": "MAYBE"`), 1), `results[0] (vermagic on 6.12.118 `},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "results.json")
			require.NoError(t, os.WriteFile(p, tc.data, 0o644))
			_, err := Read(p)
			require.Error(t, err)
			assert.Contains(t, err.Error(), p+": ")
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
