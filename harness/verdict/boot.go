package verdict

import (
	"errors"
	"fmt"
	"time"

	"modmatrix.dev/modmatrix/harness/kreport/kinds"
	"modmatrix.dev/modmatrix/harness/protocol"
)

// Boot is what one boot of a cell leaves to judge: the agent's events, the
// console, and how the VM ended.
type Boot struct {
	Events  []protocol.Event
	Console []byte
	// ConsoleErr is why the console log could not be read: reports
	// printed only there (the kernel died before the agent read them)
	// may then be missing, so no scenario of the boot can PASS.
	ConsoleErr error
	// TimedOut: the VM's own timeout killed it; Stalled: the guest went
	// silent after an oops and was killed; Err: QEMU's or the event
	// channel's failure.
	TimedOut, Stalled bool
	Err               error
	Duration          time.Duration
}

// ScenarioOutcome is one scenario's verdict in a boot, with what it rests on.
type ScenarioOutcome struct {
	Verdict    Verdict
	Reason     string
	DurationMS int64
	// Steps are the agent's step results; Result the judgement of each;
	// Reports the kernel reports attributed to each step, by index.
	Steps   []protocol.StepResult
	Result  Result
	Reports map[int][]Report
}

// BootOutcome is the verdicts of a VM's scenarios (the host's plans hold
// one; the agent runs several in order), up to the first that did not
// end: the rest were not reached.
type BootOutcome struct {
	Scenarios []ScenarioOutcome
	// Loose are kernel reports outside any step: printed while the kernel
	// booted, or a leak in no test module's memory.
	Loose []Report
	// Failed is the verdict of the whole batch when the boot produced no
	// scenario events at all (Scenarios is empty then).
	Failed *ScenarioOutcome
}

// JudgeBoot judges the scenarios a boot ran, each resolved for the
// kernel that booted (see Resolve), in the order of the boot's plan.
func JudgeBoot(b Boot, batch []*Expected) BootOutcome {
	by, agentErr := groupEvents(b.Events)
	con := parseConsole(b.Console)
	var order []string
	for _, exp := range batch {
		order = append(order, exp.Scenario.Name)
	}
	spans := moduleSpans(order, by)
	leaks, loose := leakReports(b.Events, spans)
	out := BootOutcome{Loose: append(loose, BootReports(b.Events)...)}
	for _, exp := range batch {
		ev := by[exp.Scenario.Name]
		if ev == nil || !ev.started {
			break
		}
		reports := stepReports(exp, ev, con, spans)
		for at, reps := range leaks {
			if at.scenario == exp.Scenario.Name {
				reports[at.index] = append(reports[at.index], reps...)
			}
		}
		result := Judge(exp, ev.steps, func(i int) []Report { return reports[i] })
		so := ScenarioOutcome{Steps: ev.steps, Result: result, Reports: reports, DurationMS: b.Duration.Milliseconds()}
		switch {
		case ev.ended:
			so.Verdict, so.Reason = result.Verdict, result.Reason
			so.DurationMS = ev.endMS - ev.startMS
		case (result.endedEarly && result.Verdict == Pass) || result.Verdict == Crash:
			// The scenario ended the boot as it expected to (a pinned hang
			// or oops), or the crash that ended it is named. Every step
			// passing is not enough: without the scenario's end, results
			// may be lost.
			so.Verdict, so.Reason = result.Verdict, result.Reason
		default:
			so.Verdict, so.Reason = unfinished(exp, ev, b, agentErr, con.tail)
		}
		if b.ConsoleErr != nil && so.Verdict == Pass {
			so.Verdict, so.Reason = Error, fmt.Sprintf("console log unreadable (%v): kernel reports printed only there may be missing", b.ConsoleErr)
		}
		switch {
		case errors.Is(b.Err, protocol.ErrCorrupt) && (so.Verdict == Hang || so.Verdict == Crash):
			so.Reason += fmt.Sprintf("\n(and %v)", b.Err)
		case errors.Is(b.Err, protocol.ErrCorrupt):
			so.Verdict, so.Reason = Error, fmt.Sprintf("%v: nothing this VM reported can be trusted", b.Err)
		case errors.Is(b.Err, protocol.ErrTruncated) && so.Verdict == Pass:
			so.Verdict, so.Reason = Error, fmt.Sprintf("%v: a result may be lost", b.Err)
		}
		out.Scenarios = append(out.Scenarios, so)
		if !ev.ended {
			break
		}
	}
	if len(out.Scenarios) == 0 {
		v, reason := bootFailure(b, agentErr, con.tail)
		out.Failed = &ScenarioOutcome{Verdict: v, Reason: reason, DurationMS: b.Duration.Milliseconds()}
	}
	return out
}

// bootFailure explains a boot that ran no scenario step at all.
func bootFailure(b Boot, agentErr, console string) (Verdict, string) {
	v, reason := Error, "boot produced no scenario events"
	switch {
	case agentErr != "":
		reason = "agent failed: " + agentErr
	case b.TimedOut:
		v, reason = Hang, fmt.Sprintf("VM timed out after %s before the agent ran a step", b.Duration.Round(1e8))
	case b.Err != nil:
		reason = fmt.Sprintf("boot produced no scenario events (%v)", b.Err)
	}
	if kinds.Panicked(console) {
		// The reason still says what the host saw; the panic makes it a crash.
		v = Crash
	}
	return v, reason + "\nlast console lines:\n" + console
}

// unfinished explains a scenario the guest started but never finished,
// from the first of these that holds: the step hung in the agent's
// watchdog (HANG), the guest went silent after an oops (CRASH), the VM
// timed out (HANG), the kernel panicked (CRASH), the agent failed
// (ERROR), the guest stopped reporting (ERROR). It is never PASS.
func unfinished(exp *Expected, ev *scenarioEvents, b Boot, agentErr, console string) (Verdict, string) {
	sc := exp.Scenario
	idx := len(ev.steps)
	where := "before its first step"
	if idx > 0 && ev.steps[idx-1].Error != "" {
		idx--
	}
	if idx >= len(exp.Steps) {
		where = "after its last step (while the agent cleaned up)"
	} else {
		st := exp.Steps[idx]
		what := fmt.Sprintf("%s %s%s", st.Action, st.Module, st.Path)
		if st.IsLoop() {
			what = st.Describe()
		}
		where = fmt.Sprintf("during step %d (%s, %s:%d)", idx+1, what, sc.File, st.Line)
		if idx < len(ev.steps) && !ev.steps[idx].Hung && ev.steps[idx].Error != "" {
			// How far the step got: a loop's last iteration reported.
			where += " (" + ev.steps[idx].Error + ")"
		}
	}
	tail := "\nlast console lines:\n" + console
	switch {
	case idx < len(ev.steps) && ev.steps[idx].Hung:
		return Hang, fmt.Sprintf("%s: %s%s", where, ev.steps[idx].Error, tail)
	case b.Stalled:
		return Crash, fmt.Sprintf("kernel oops %s, then the guest went silent (killed)%s", where, tail)
	case b.TimedOut:
		return Hang, fmt.Sprintf("VM timed out after %s %s%s", b.Duration.Round(1e8), where, tail)
	case kinds.Panicked(console):
		return Crash, fmt.Sprintf("kernel panic %s%s", where, tail)
	case agentErr != "":
		return Error, fmt.Sprintf("agent failed %s: %s%s", where, agentErr, tail)
	}
	reason := fmt.Sprintf("guest stopped reporting %s", where)
	if b.Err != nil {
		reason += fmt.Sprintf(" (%v)", b.Err)
	}
	return Error, reason + tail
}
