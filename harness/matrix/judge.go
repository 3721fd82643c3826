package matrix

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"modmatrix.dev/modmatrix/harness/kconfig"
	"modmatrix.dev/modmatrix/harness/kreport"
	"modmatrix.dev/modmatrix/harness/kreport/kinds"
	"modmatrix.dev/modmatrix/harness/protocol"
	"modmatrix.dev/modmatrix/harness/report"
	"modmatrix.dev/modmatrix/harness/scenario"
	"modmatrix.dev/modmatrix/harness/verdict"
	"modmatrix.dev/modmatrix/harness/vm"
)

// scenarioEvents is what one boot said about one scenario.
type scenarioEvents struct {
	started, ended bool
	steps          []protocol.StepResult
	startMS, endMS int64
	// cleanUp are the kmsg records of the agent's clean-up after the last step.
	cleanUp []protocol.Kmsg
	// iterations are a loop step's, streamed before its step event.
	iterations []protocol.Iteration
}

func groupEvents(events []protocol.Event) (map[string]*scenarioEvents, string) {
	by := map[string]*scenarioEvents{}
	get := func(name string) *scenarioEvents {
		if by[name] == nil {
			by[name] = &scenarioEvents{}
		}
		return by[name]
	}
	var agentErr string
	for _, e := range events {
		switch e.Kind {
		case protocol.EventStepStart:
			s := get(e.Scenario)
			if !s.started {
				s.started, s.startMS = true, e.UptimeMS
			}
		case protocol.EventIteration:
			if e.Iteration != nil {
				get(e.Scenario).iterations = append(get(e.Scenario).iterations, *e.Iteration)
			}
		case protocol.EventStep:
			if e.Step != nil {
				s := get(e.Scenario)
				st := *e.Step
				st.Iterations, s.iterations = s.iterations, nil
				s.steps = append(s.steps, st)
			}
		case protocol.EventScenarioEnd:
			s := get(e.Scenario)
			s.ended, s.endMS, s.cleanUp = true, e.UptimeMS, e.Kmsg
		case protocol.EventAgentFailure:
			agentErr = e.Error
		}
	}
	for _, s := range by {
		s.unfinishedLoop() // stress.go
	}
	return by, agentErr
}

// judge turns one boot's events into verdicts. It returns how many
// scenarios of batch got a verdict; the rest go to the next boot.
func (r *cellRun) judge(batch []*scenario.Scenario, res *vm.Result, prefix string) (int, []report.ScenarioResult) {
	by, agentErr := groupEvents(res.Events)
	raw, _ := os.ReadFile(prefix + ".console.log")
	con := parseConsole(raw)
	console := con.tail
	var order []string
	for _, sc := range batch {
		order = append(order, sc.Name)
	}
	leaks, loose := leakReports(res.Events, moduleSpans(order, by))
	r.looseReports = append(r.looseReports, loose...)
	r.looseReports = append(r.looseReports, bootReports(res.Events)...)
	var out []report.ScenarioResult
	for _, sc := range batch {
		ev := by[sc.Name]
		if ev == nil || !ev.started {
			break
		}
		sr := report.ScenarioResult{
			Kernel: r.u.src.Version, Cell: r.u.cell.Name, Scenario: sc.Name, Boot: r.boots,
			ConsoleLog: prefix + ".console.log", EventLog: prefix + ".events.jsonl",
			Note: r.notes[sc.Name],
		}
		reports := stepReports(sc, ev, con)
		for at, reps := range leaks {
			if at.scenario == sc.Name {
				reports[at.index] = append(reports[at.index], reps...)
			}
		}
		result := verdict.Judge(verdict.Resolve(sc, kconfig.Lookup(r.kernel.Config.Value, r.u.src.Version)), ev.steps,
			func(i int) []verdict.Report { return reports[i] })
		sr.Steps = stepRecords(ev.steps, result, reports)
		sr.KUnit = result.KUnit
		switch {
		case ev.ended:
			sr.Verdict, sr.Reason = result.Verdict, result.Reason
			sr.DurationMS = ev.endMS - ev.startMS
		case result.Verdict == verdict.Pass || result.Verdict == verdict.Crash:
			// The scenario ended the boot as it expected to (a pinned hang
			// or oops), or the crash that ended it is named.
			sr.Verdict, sr.Reason = result.Verdict, result.Reason
			sr.DurationMS = res.Duration.Milliseconds()
		default:
			sr.Verdict, sr.Reason = unfinished(sc, ev, res, agentErr, console)
			sr.DurationMS = res.Duration.Milliseconds()
		}
		out = append(out, sr)
		if !ev.ended {
			break
		}
	}
	if len(out) == 0 {
		v, reason := verdict.Error, "boot produced no scenario events"
		switch {
		case agentErr != "":
			reason = "agent failed: " + agentErr
		case res.TimedOut:
			v, reason = verdict.Hang, fmt.Sprintf("VM timed out after %s before the agent ran a step", res.Duration.Round(1e8))
		case res.Err != nil:
			reason = fmt.Sprintf("boot produced no scenario events (%v)", res.Err)
		}
		if kinds.Panicked(console) {
			v = verdict.Crash
		}
		sr := r.bootError(batch[0], reason+"\nlast console lines:\n"+console, prefix)
		sr.Verdict = v
		return 0, []report.ScenarioResult{sr}
	}
	return len(out), out
}

// unfinished explains a scenario the guest started but never finished. It
// is never PASS.
func unfinished(sc *scenario.Scenario, ev *scenarioEvents, res *vm.Result, agentErr, console string) (verdict.Verdict, string) {
	idx := len(ev.steps)
	where := "before its first step"
	if idx > 0 && ev.steps[idx-1].Error != "" {
		idx--
	}
	if idx >= len(sc.Steps) {
		where = "after its last step (while the agent cleaned up)"
	} else {
		st := sc.Steps[idx]
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
		return verdict.Hang, fmt.Sprintf("%s: %s%s", where, ev.steps[idx].Error, tail)
	case res.Stalled:
		return verdict.Crash, fmt.Sprintf("kernel oops %s, then the guest went silent (killed)%s", where, tail)
	case res.TimedOut:
		return verdict.Hang, fmt.Sprintf("VM timed out after %s %s%s", res.Duration.Round(1e8), where, tail)
	case kinds.Panicked(console):
		return verdict.Crash, fmt.Sprintf("kernel panic %s%s", where, tail)
	case agentErr != "":
		return verdict.Error, fmt.Sprintf("agent failed %s: %s%s", where, agentErr, tail)
	}
	reason := fmt.Sprintf("guest stopped reporting %s", where)
	if res.Err != nil {
		reason += fmt.Sprintf(" (%v)", res.Err)
	}
	return verdict.Error, reason + tail
}

// stepReports classifies each step's kmsg records; reports found only on
// the console (the kernel printed them after the agent's last read) go to
// the step whose marker precedes them there.
func stepReports(sc *scenario.Scenario, ev *scenarioEvents, con consoleLog) map[int][]verdict.Report {
	out := map[int][]verdict.Report{}
	seen := map[string]bool{}
	for i, st := range ev.steps {
		for _, rep := range iterationReports(st.Iterations) { // stress.go
			out[i] = append(out[i], rep)
			seen[rep.Title] = true
		}
		kmsg := st.Kmsg
		if i == len(ev.steps)-1 {
			// What the clean-up after the last step printed (unloading
			// what the scenario left) is the scenario's doing too.
			kmsg = append(slices.Clone(kmsg), ev.cleanUp...)
		}
		for _, rep := range kreport.ParseLines(kmsgTexts(kmsg)) {
			out[i] = append(out[i], toVerdict(rep))
			seen[rep.Title] = true
		}
	}
	// Console-only reports (the kernel died before the agent read them)
	// go to the step whose marker precedes them on the console.
	for _, rep := range con.reports {
		if seen[rep.Title] {
			continue
		}
		m := con.markers.before(rep.Start)
		if m == nil || m.scenario != sc.Name {
			continue
		}
		// The clean-up's marker is numbered after the last step.
		i := min(m.step, len(sc.Steps)-1)
		out[i] = append(out[i], toVerdict(rep))
		seen[rep.Title] = true
	}
	return out
}

type marker struct {
	line     int
	scenario string
	step     int
}

type markerList []marker

// consoleMarkers finds the agent's step markers in a console log, by line.
func consoleMarkers(console []byte) markerList {
	var ms markerList
	for i, l := range strings.Split(string(console), "\n") {
		if sc, step, ok := protocol.ParseStepMarker(l); ok {
			ms = append(ms, marker{line: i, scenario: sc, step: step})
		}
	}
	return ms
}

// before is the last marker above line, nil when there is none (boot).
func (ms markerList) before(line int) *marker {
	var last *marker
	for i := range ms {
		if ms[i].line < line {
			last = &ms[i]
		}
	}
	return last
}

func kmsgTexts(recs []protocol.Kmsg) []string {
	texts := make([]string, len(recs))
	for i, k := range recs {
		texts[i] = k.Text
	}
	return texts
}

// bootReports are the reports of a boot outside any scenario: while the
// kernel booted, before the agent's first step.
func bootReports(events []protocol.Event) []verdict.Report {
	var out []verdict.Report
	for _, e := range events {
		if e.Kind == protocol.EventBoot {
			for _, rep := range kreport.ParseLines(kmsgTexts(e.Kmsg)) {
				v := toVerdict(rep)
				v.Title = "boot: " + v.Title
				out = append(out, v)
			}
		}
	}
	return out
}

func toVerdict(r kreport.Report) verdict.Report {
	return verdict.Report{Kind: string(r.Kind), Title: r.Title, Modules: r.Modules}
}

func stepRecords(steps []protocol.StepResult, result verdict.Result, reports map[int][]verdict.Report) []report.StepRecord {
	var out []report.StepRecord
	for i, s := range steps {
		rec := report.StepRecord{
			Action: string(s.Step.Action), Module: s.Step.Module, Params: s.Step.Params,
			Flags: s.Step.Flags, Path: s.Step.Path, Errno: s.Errno, Error: s.Error,
			TaintBefore: s.TaintBefore, TaintAfter: s.TaintAfter, ProcModules: s.ProcModules,
			Sysfs: s.Sysfs, Kallsyms: s.Kallsyms, Files: s.Files, DurationUS: s.DurationUS,
			Kmsg: []string{}, Hung: s.Hung, Died: s.Died,
		}
		for _, k := range s.Kmsg {
			if k.Background(s.TID) {
				rec.KmsgBackground = append(rec.KmsgBackground, k.Text)
			} else {
				rec.Kmsg = append(rec.Kmsg, k.Text)
			}
		}
		if i < len(result.Steps) {
			rec.Expected, rec.Mismatches = result.Steps[i].Expected, result.Steps[i].Mismatches
		}
		rec.Reports = reports[i]
		if i < len(result.Steps) {
			rec.Stress = result.Steps[i].Stress
		}
		out = append(out, rec)
	}
	return out
}

// consoleLog is a boot's console, read and classified once for all the
// scenarios of the boot.
type consoleLog struct {
	tail    string // the last lines, for reasons
	reports []kreport.Report
	markers markerList
}

func parseConsole(raw []byte) consoleLog {
	lines := strings.Split(strings.TrimRight(strings.ReplaceAll(string(raw), "\r", ""), "\n"), "\n")
	tail := lines[max(0, len(lines)-15):]
	return consoleLog{
		tail:    strings.Join(tail, "\n"),
		reports: kreport.ParseConsole(raw),
		markers: consoleMarkers(raw),
	}
}

// sortResults orders results and cells as the matrix was declared, whatever
// order the parallel boots finished in.
func sortResults(res *report.Results, units []unit, scenarios []*scenario.Scenario) {
	unitIdx := map[[2]string]int{}
	for i, u := range units {
		unitIdx[[2]string{u.src.Version, u.cell.Name}] = i
	}
	scIdx := map[string]int{}
	for i, s := range scenarios {
		scIdx[s.Name] = i
	}
	slices.SortStableFunc(res.Cells, func(a, b report.Cell) int {
		return unitIdx[[2]string{a.Kernel, a.Cell}] - unitIdx[[2]string{b.Kernel, b.Cell}]
	})
	slices.SortStableFunc(res.Results, func(a, b report.ScenarioResult) int {
		if d := scIdx[a.Scenario] - scIdx[b.Scenario]; d != 0 {
			return d
		}
		return unitIdx[[2]string{a.Kernel, a.Cell}] - unitIdx[[2]string{b.Kernel, b.Cell}]
	})
}
