package verdict

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/protocol"
)

// recordedLoop reads the events of a real stress-hello boot (6.12, unload
// cell, the first 10 iterations kept) into step results, each loop step's
// iterations gathered as the host does.
func recordedLoop(t *testing.T) []protocol.StepResult {
	t.Helper()
	f, err := os.Open("testdata/stress/hello-6.12-unload.events.jsonl")
	require.NoError(t, err)
	defer f.Close()
	var out []protocol.StepResult
	var its []protocol.Iteration
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e protocol.Event
		require.NoError(t, json.Unmarshal(sc.Bytes(), &e))
		switch e.Kind {
		case protocol.EventIteration:
			its = append(its, *e.Iteration)
		case protocol.EventStep:
			r := *e.Step
			r.Iterations, its = its, nil
			out = append(out, r)
		}
	}
	require.NoError(t, sc.Err())
	require.Len(t, out, 3)
	return out
}

func TestLoopRecorded(t *testing.T) {
	sc := loadScenario(t, "testdata/stress")
	noReports := func(int) []Report { return nil }
	for _, tc := range []struct {
		name    string
		mutate  func(rs []protocol.StepResult)
		reports func(int) []Report
		verdict Verdict
		reason  string
		failed  int
	}{
		{name: "as recorded", verdict: Pass},
		{
			name: "unload EBUSY at iteration 7",
			mutate: func(rs []protocol.StepResult) {
				r := &rs[2].Iterations[6].Steps[1]
				r.Errno, r.ErrnoNum = "EBUSY", 16
			},
			verdict: Fail,
			reason:  "iteration 7/10: unload stress_hello: errno: expected \"\" (success), observed EBUSY",
			failed:  1,
		},
		{
			name: "every load from iteration 3 on finds the module there",
			mutate: func(rs []protocol.StepResult) {
				for i := 2; i < 10; i++ {
					rs[2].Iterations[i].Steps[0].Errno = "EEXIST"
				}
			},
			verdict: Fail,
			reason:  "iteration 3/10: load stress_hello: errno",
			failed:  8,
		},
		{
			name: "a WARNING during iteration 4's unload",
			reports: func(i int) []Report {
				if i != 2 {
					return nil
				}
				return []Report{{Kind: "WARNING", Title: "WARNING in bye", Iteration: 4, InnerStep: 1}}
			},
			verdict: Fail,
			reason:  "iteration 4/10: unload stress_hello: kernel report: expected none, observed WARNING in bye",
			failed:  1,
		},
		{
			name: "an oops during iteration 5's load",
			reports: func(i int) []Report {
				if i != 2 {
					return nil
				}
				return []Report{{Kind: "NULL_DEREF", Title: "BUG: kernel NULL pointer dereference in hi", Iteration: 5}}
			},
			verdict: Crash,
			reason:  "iteration 5/10: load stress_hello: unexpected kernel report: BUG: kernel NULL pointer dereference in hi",
			failed:  1,
		},
		{
			name:    "iterations lost without a word",
			mutate:  func(rs []protocol.StepResult) { rs[2].Iterations = rs[2].Iterations[:6] },
			verdict: Fail,
			reason:  "iterations: expected 10, observed 6 reported",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := recordedLoop(t)
			if tc.mutate != nil {
				tc.mutate(rs)
			}
			reports := tc.reports
			if reports == nil {
				reports = noReports
			}
			res := Judge(Resolve(sc, unloadOn), rs, reports)
			assert.Equal(t, tc.verdict, res.Verdict, res.Reason)
			assert.Contains(t, res.Reason, tc.reason)
			require.Len(t, res.Steps, 3)
			s := res.Steps[2].Stress
			require.NotNil(t, s)
			assert.Equal(t, tc.failed, s.FailedIterations)
			require.Len(t, s.Loops, 1)
			assert.Equal(t, 10, s.Loops[0].Planned)
			for _, tm := range s.Loops[0].Timing {
				assert.Equal(t, s.Loops[0].Ran, tm.Count, tm.Step)
				assert.Positive(t, tm.MedianUS)
				assert.LessOrEqual(t, tm.MedianUS, tm.MaxUS)
			}
			if tc.verdict == Pass {
				assert.Equal(t, "load stress_hello", s.Loops[0].Timing[0].Step)
				assert.Equal(t, "0", s.Loops[0].Iterations[0].Steps[0].Refcnt)
				assert.Empty(t, s.FirstFailure)
				assert.Contains(t, res.Steps[2].Expected, `each iteration: unload stress_hello: errno ok`)
			}
		})
	}
}

func TestTimingsMedian(t *testing.T) {
	sc := loadScenario(t, "testdata/stress")
	its := []protocol.Iteration{}
	for i, d := range []int64{5, 1, 9, 3} {
		its = append(its, protocol.Iteration{Index: i + 1, Steps: []protocol.StepResult{{DurationUS: d}, {DurationUS: 2 * d}}})
	}
	got := timings(sc.Steps[2].Loops[0], its, 0)
	assert.Equal(t, []Timing{
		{Step: "load stress_hello", Count: 4, MedianUS: 4, MaxUS: 9},
		{Step: "unload stress_hello", Count: 4, MedianUS: 8, MaxUS: 18},
	}, got)
}

// Under TCG the guest may lose its TSC and time with jiffies: the summary
// says durations come in ticks of 1/CONFIG_HZ.
func TestLoopJiffiesClock(t *testing.T) {
	sc := loadScenario(t, "testdata/stress")
	rs := recordedLoop(t)
	rs[2].Clocksource = "refined-jiffies"
	hz250 := config(map[string]string{"MODULES": "y", "MODULE_UNLOAD": "y", "HZ": "250"})
	res := Judge(Resolve(sc, hz250), rs, func(int) []Report { return nil })
	s := res.Steps[2].Stress
	require.NotNil(t, s)
	assert.Equal(t, int64(4000), s.ClockTickUS)
	assert.Contains(t, s.Timings(), "(clocksource refined-jiffies: durations in 4.0ms ticks)")

	rs[2].Clocksource = "tsc"
	res = Judge(Resolve(sc, hz250), rs, func(int) []Report { return nil })
	assert.Zero(t, res.Steps[2].Stress.ClockTickUS)
	assert.NotContains(t, res.Steps[2].Stress.Timings(), "clocksource")
}

// A KASAN report (a BUG: line that does not kill the task) is a FAIL in a
// loop's iteration as in a plain step: the agent stops the loop there
// (Stopped), which is no agent failure; a real agent error stays ERROR.
func TestLoopKASANFailsLikeStep(t *testing.T) {
	sc := loadScenario(t, "testdata/stress")
	kasan := Report{Kind: "KASAN", Title: "KASAN: slab-use-after-free in bye", Modules: []string{"stress_hello"}}
	for _, tc := range []struct {
		name    string
		mutate  func(rs []protocol.StepResult)
		step    int // that printed the report
		report  Report
		verdict Verdict
		reason  string
	}{
		{
			name: "plain unload step", step: 1, report: kasan, verdict: Fail,
			reason: "step 2 (unload stress_hello, testdata/stress/scenario.yaml:12): unexpected kernel report: KASAN: slab-use-after-free in bye",
		},
		{
			name: "unload of iteration 4, which stopped the loop",
			mutate: func(rs []protocol.StepResult) {
				rs[2].Iterations = rs[2].Iterations[:4]
				rs[2].Stopped = "iteration 4/10: the kernel oopsed"
			},
			step: 2, report: func() Report { r := kasan; r.Iteration, r.InnerStep = 4, 1; return r }(), verdict: Fail,
			reason: "iteration 4/10: unload stress_hello: kernel report: expected none, observed KASAN: slab-use-after-free in bye",
		},
		{
			name: "an agent error in iteration 4 stays an ERROR",
			mutate: func(rs []protocol.StepResult) {
				rs[2].Iterations = rs[2].Iterations[:4]
				rs[2].Stopped = `iteration 4/10: unknown action "bogus"`
				rs[2].Error = rs[2].Stopped
			},
			step: -1, verdict: Error,
			reason: `agent: iteration 4/10: unknown action "bogus"`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := recordedLoop(t)
			if tc.mutate != nil {
				tc.mutate(rs)
			}
			res := Judge(Resolve(sc, unloadOn), rs, func(i int) []Report {
				if i == tc.step {
					return []Report{tc.report}
				}
				return nil
			})
			assert.Equal(t, tc.verdict, res.Verdict, res.Reason)
			assert.Contains(t, res.Reason, tc.reason)
			s := res.Steps[2].Stress
			require.NotNil(t, s)
			for _, m := range res.Steps[2].Mismatches {
				assert.NotEqual(t, "iterations", m.What, "an agent that said why it stopped lost no events")
			}
		})
	}
}

// The drift over a loop leaves out O and E, which the first load of a test
// module sets anyway (as the agent's clean check and --repeat do), and
// names the first iteration that gained anything else.
func TestLoopTaintDrift(t *testing.T) {
	sc := loadScenario(t, "testdata/stress")
	for _, tc := range []struct {
		name     string
		mutate   func(r *protocol.StepResult)
		gained   string
		gainedAt string
	}{
		{name: "as recorded"},
		{
			name: "O set by iteration 1's load, as under --repeat",
			mutate: func(r *protocol.StepResult) {
				r.TaintBefore = 0
				r.Iterations[0].Steps[0].TaintBefore, r.Iterations[0].Steps[0].TaintAfter = 0, 1<<12
			},
		},
		{
			name: "W set by iteration 3's unload",
			mutate: func(r *protocol.StepResult) {
				r.TaintBefore = 0
				r.Iterations[0].Steps[0].TaintAfter = 1 << 12
				for i := 2; i < len(r.Iterations); i++ {
					for s := range r.Iterations[i].Steps {
						if i > 2 || s == 1 {
							r.Iterations[i].Steps[s].TaintAfter = 1<<12 | 1<<9
						}
					}
				}
				r.TaintAfter = 1<<12 | 1<<9
			},
			gained:   "W",
			gainedAt: "iteration 3/10: unload stress_hello (taint 4096 → 4608)",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := recordedLoop(t)
			if tc.mutate != nil {
				tc.mutate(&rs[2])
			}
			res := Judge(Resolve(sc, unloadOn), rs, func(int) []Report { return nil })
			s := res.Steps[2].Stress
			require.NotNil(t, s)
			assert.Equal(t, tc.gained, s.TaintGained)
			assert.Equal(t, tc.gainedAt, s.TaintGainedAt)
		})
	}
}
