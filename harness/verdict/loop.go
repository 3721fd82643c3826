package verdict

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"modmatrix.dev/modmatrix/harness/kernel"
	"modmatrix.dev/modmatrix/harness/protocol"
	"modmatrix.dev/modmatrix/harness/scenario"
)

// StressSummary is what a repeat or concurrent step did over all its
// iterations: how far each loop got, the timing of each inner step, the
// taint drift, and the first failing iteration.
type StressSummary struct {
	Loops []LoopSummary `json:"loops"`
	// TaintBefore and TaintAfter bound the whole step; TaintGained spells
	// the difference, TaintGainedAt the first iteration that changed it.
	// Neither counts O or E (kernel.HarmlessTaint), which the first load
	// of a test module sets whether or not anything went wrong.
	TaintBefore   uint64 `json:"taint_before"`
	TaintAfter    uint64 `json:"taint_after"`
	TaintGained   string `json:"taint_gained,omitempty"`
	TaintGainedAt string `json:"taint_gained_at,omitempty"`
	// FailedIterations counts iterations with a mismatch, an agent error
	// or a kernel report; FirstFailure names the first of them.
	FailedIterations int    `json:"failed_iterations"`
	FirstFailure     string `json:"first_failure,omitempty"`
	// Clocksource is the guest's; on jiffies, durations come in whole
	// ticks of ClockTickUS (1/CONFIG_HZ) and a median of 0 means "under a tick".
	Clocksource string `json:"clocksource,omitempty"`
	ClockTickUS int64  `json:"clock_tick_us,omitempty"`
}

// LoopSummary is one loop of the step.
type LoopSummary struct {
	Planned int `json:"planned"`
	Ran     int `json:"ran"`
	// Timing has one entry per inner step, in step order.
	Timing []Timing `json:"timing"`
	// Iterations is every iteration as it ran, one row per inner step.
	Iterations []IterationRow `json:"iterations,omitempty"`
}

// Timing is the duration of one inner step over the iterations that ran it.
type Timing struct {
	Step     string `json:"step"` // "load hello"
	Count    int    `json:"count"`
	MedianUS int64  `json:"median_us"`
	MaxUS    int64  `json:"max_us"`
}

// IterationRow is one iteration: what each inner step returned.
type IterationRow struct {
	Index int             `json:"index"`
	Steps []IterationStep `json:"steps"`
}

// IterationStep is one inner step of one iteration, compactly.
type IterationStep struct {
	Errno string `json:"errno"`
	Error string `json:"error,omitempty"`
	// Refcnt is /sys/module/NAME/refcnt after the step, "" when absent.
	Refcnt     string `json:"refcnt,omitempty"`
	Taint      uint64 `json:"taint"`
	DurationUS int64  `json:"us"`
	// Reports are the titles of kernel reports the step printed.
	Reports []string `json:"reports,omitempty"`
}

// Timings spells the summary's timing for a line of text:
// "load hello ×200 median 1.2ms max 4.5ms; unload hello ×200 …".
func (s *StressSummary) Timings() string {
	var parts []string
	for li, l := range s.Loops {
		for _, t := range l.Timing {
			name := t.Step
			if len(s.Loops) > 1 {
				name = fmt.Sprintf("loop %d %s", li+1, name)
			}
			parts = append(parts, fmt.Sprintf("%s ×%d median %s max %s", name, t.Count, usText(t.MedianUS), usText(t.MaxUS)))
		}
	}
	line := strings.Join(parts, "; ")
	if s.ClockTickUS > 0 {
		line += fmt.Sprintf(" (clocksource %s: durations in %s ticks)", s.Clocksource, usText(s.ClockTickUS))
	}
	return line
}

func usText(us int64) string {
	if us < 1000 {
		return fmt.Sprintf("%dµs", us)
	}
	return fmt.Sprintf("%.1fms", float64(us)/1000)
}

// iterationKey names one inner step of one iteration of one loop.
type iterationKey struct{ loop, iteration, step int }

// loopOutcome judges a loop step's iterations: every applicable expectation
// of each inner step applies to each iteration, and a kernel report an
// inner step does not expect fails its iteration. Mismatches are kept for
// the first failing iteration only; the summary counts the others.
func loopOutcome(es ExpectedStep, lookup func(string) string, r *protocol.StepResult, reports []Report, out *StepOutcome) {
	st := es.Step
	checks, expected := innerChecks(es)
	out.Expected = append(out.Expected, expected...)
	j := &loopJudge{es: es, checks: checks, reports: reportsByIteration(reports), sum: newStressSummary(st, lookup, r), taint: r.TaintBefore}
	for _, it := range r.Iterations {
		if it.Loop < 0 || it.Loop >= len(st.Loops) {
			continue
		}
		ms := j.iteration(it)
		if len(ms) == 0 {
			continue
		}
		j.sum.FailedIterations++
		if j.sum.FirstFailure == "" {
			j.sum.FirstFailure = failureText(ms[0])
			out.Mismatches = append(out.Mismatches, ms...)
		}
	}
	for li, l := range st.Loops {
		j.sum.Loops[li].Timing = timings(l, r.Iterations, li)
		if m, lost := lostIterations(st, li, j.sum.Loops[li], r); lost {
			out.Mismatches = append(out.Mismatches, m)
			if j.sum.FirstFailure == "" {
				j.sum.FirstFailure = failureText(m)
			}
		}
	}
	out.Stress = j.sum
}

// newStressSummary is the summary of loop step st before any iteration:
// the step's taint bounds, the planned count of each loop, and the tick
// durations come in when the guest's clocksource is jiffies.
func newStressSummary(st scenario.Step, lookup func(string) string, r *protocol.StepResult) *StressSummary {
	sum := &StressSummary{TaintBefore: r.TaintBefore, TaintAfter: r.TaintAfter, TaintGained: kernel.TaintString(drift(r.TaintBefore, r.TaintAfter)), Clocksource: r.Clocksource}
	if hz, err := strconv.ParseInt(lookup("HZ"), 10, 64); err == nil && hz > 0 && strings.Contains(r.Clocksource, "jiffies") {
		sum.ClockTickUS = 1e6 / hz
	}
	for _, l := range st.Loops {
		sum.Loops = append(sum.Loops, LoopSummary{Planned: l.Count})
	}
	return sum
}

// reportsByIteration files the kernel reports printed during an iteration
// under the inner step that printed them; reports outside any iteration
// are the step's own and left out.
func reportsByIteration(reports []Report) map[iterationKey][]Report {
	byKey := map[iterationKey][]Report{}
	for _, rep := range reports {
		if rep.Iteration > 0 {
			k := iterationKey{rep.Loop, rep.Iteration, rep.InnerStep}
			byKey[k] = append(byKey[k], rep)
		}
	}
	return byKey
}

// innerChecks flattens the expectations of each inner step of each loop
// (indexed [loop][inner step]), and spells them for StepOutcome.Expected
// in that order.
func innerChecks(es ExpectedStep) (checks [][][]check, expected []string) {
	st := es.Step
	checks = make([][][]check, len(st.Loops))
	for li, l := range st.Loops {
		checks[li] = make([][]check, len(l.Steps))
		for si, in := range l.Steps {
			for _, e := range es.Loops[li][si].Expect {
				checks[li][si] = append(checks[li][si], checksOf(in, e)...)
			}
			for _, c := range checks[li][si] {
				expected = append(expected, iterationDesc(st, li, in, c))
			}
		}
	}
	return checks, expected
}

// loopJudge walks a loop step's iterations in the order they ran, filling
// in the summary as it goes.
type loopJudge struct {
	es      ExpectedStep
	checks  [][][]check // from innerChecks
	reports map[iterationKey][]Report
	sum     *StressSummary
	taint   uint64 // after the inner step judged last
}

// iteration judges one iteration of one of the step's loops, records it in
// that loop's summary, and returns its mismatches.
func (j *loopJudge) iteration(it protocol.Iteration) []Mismatch {
	l := j.es.Step.Loops[it.Loop]
	ls := &j.sum.Loops[it.Loop]
	ls.Ran++
	row := IterationRow{Index: it.Index}
	var ms []Mismatch
	for si := range it.Steps {
		if si >= len(l.Steps) {
			break
		}
		step, m := j.innerStep(it, si)
		row.Steps = append(row.Steps, step)
		ms = append(ms, m...)
	}
	ls.Iterations = append(ls.Iterations, row)
	return ms
}

// innerStep judges inner step si of iteration it against its checks and
// expected reports, and notes the first taint drift.
func (j *loopJudge) innerStep(it protocol.Iteration, si int) (IterationStep, []Mismatch) {
	st := j.es.Step
	l := st.Loops[it.Loop]
	res := &it.Steps[si]
	where := fmt.Sprintf("iteration %d/%d%s: %s", it.Index, l.Count, loopWord(st, it.Loop), l.Steps[si].Describe())
	reps := j.reports[iterationKey{it.Loop, it.Index, si}]
	step := IterationStep{
		Errno: res.Errno, Error: res.Error, Refcnt: res.Sysfs["refcnt"], Taint: res.TaintAfter,
		DurationUS: res.DurationUS, Reports: reportTitles(reps),
	}
	if j.sum.TaintGainedAt == "" && drift(j.taint, res.TaintAfter) != 0 {
		j.sum.TaintGainedAt = fmt.Sprintf("%s (taint %d → %d)", where, j.taint, res.TaintAfter)
	}
	j.taint = res.TaintAfter
	if res.Error != "" {
		return step, []Mismatch{{What: where, Expected: "the step to run", Observed: "agent: " + res.Error}}
	}
	var ms []Mismatch
	for _, c := range j.checks[it.Loop][si] {
		if observed, ok := c.observe(res); !ok {
			ms = append(ms, Mismatch{What: where + ": " + c.what, Expected: c.want, Observed: observed, Line: c.line})
		}
	}
	return step, append(ms, iterationReports(j.es.Loops[it.Loop][si], where, reps)...)
}

// lostIterations is the mismatch of loop li when fewer iterations were
// reported than planned and nothing says why. An agent that stopped early
// says why (r.Stopped, or r.Error when the host saw the guest go silent);
// iterations missing without a word are lost events.
func lostIterations(st scenario.Step, li int, ls LoopSummary, r *protocol.StepResult) (Mismatch, bool) {
	if ls.Ran >= ls.Planned || r.Stopped != "" || r.Error != "" || r.Hung || r.Died {
		return Mismatch{}, false
	}
	return Mismatch{What: "iterations" + loopWord(st, li), Expected: fmt.Sprint(ls.Planned), Observed: fmt.Sprintf("%d reported", ls.Ran), Line: st.Loops[li].Line}, true
}

// failureText is a mismatch as StressSummary.FirstFailure spells it.
func failureText(m Mismatch) string {
	return fmt.Sprintf("%s: observed %s, expected %s", m.What, m.Observed, m.Expected)
}

// iterationDesc is how an inner step's check reads: it holds in every
// iteration of its loop.
func iterationDesc(st scenario.Step, loop int, in scenario.Step, c check) string {
	return fmt.Sprintf("each iteration%s: %s: %s", loopWord(st, loop), in.Describe(), c.desc)
}

// iterationReports matches one inner step's kernel reports of one
// iteration against what the step expects.
func iterationReports(in ExpectedStep, where string, got []Report) (ms []Mismatch) {
	missing, unexpected := matchReports(in.reports(), got)
	for _, w := range missing {
		ms = append(ms, Mismatch{What: where + ": kernel report", Expected: "kernel report " + string(w.Kind), Observed: titles(got), Line: w.Line})
	}
	for _, rep := range unexpected {
		ms = append(ms, Mismatch{What: where + ": kernel report", Expected: "none", Observed: rep.Title})
	}
	return ms
}

// drift is the taint bits gained from before to after, but O and E.
func drift(before, after uint64) uint64 {
	return after &^ before &^ kernel.HarmlessTaint
}

func loopWord(st scenario.Step, li int) string {
	if len(st.Loops) < 2 {
		return ""
	}
	return fmt.Sprintf(" of loop %d", li+1)
}

func reportTitles(rs []Report) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Title)
	}
	return out
}

// timings computes the median and maximum duration of each inner step of
// loop li over the iterations that ran it.
func timings(l scenario.Loop, its []protocol.Iteration, li int) []Timing {
	durs := make([][]int64, len(l.Steps))
	for _, it := range its {
		if it.Loop != li {
			continue
		}
		for si, res := range it.Steps {
			if si < len(durs) {
				durs[si] = append(durs[si], res.DurationUS)
			}
		}
	}
	out := make([]Timing, len(l.Steps))
	for si, in := range l.Steps {
		d := durs[si]
		out[si] = Timing{Step: in.Describe(), Count: len(d)}
		if len(d) == 0 {
			continue
		}
		slices.Sort(d)
		out[si].MaxUS = d[len(d)-1]
		out[si].MedianUS = d[len(d)/2]
		if len(d)%2 == 0 {
			out[si].MedianUS = (d[len(d)/2-1] + d[len(d)/2]) / 2
		}
	}
	return out
}

// iterationWhere names where in loop step st a report was printed:
// "iteration 5/200: unload hello".
func iterationWhere(st scenario.Step, r Report) string {
	if r.Loop < 0 || r.Loop >= len(st.Loops) {
		return fmt.Sprintf("iteration %d", r.Iteration)
	}
	l := st.Loops[r.Loop]
	where := fmt.Sprintf("iteration %d/%d%s", r.Iteration, l.Count, loopWord(st, r.Loop))
	if r.InnerStep >= 0 && r.InnerStep < len(l.Steps) {
		where += ": " + l.Steps[r.InnerStep].Describe()
	}
	return where
}
