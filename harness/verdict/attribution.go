package verdict

import (
	"slices"
	"strings"

	"modmatrix.dev/modmatrix/harness/kreport"
	"modmatrix.dev/modmatrix/harness/protocol"
)

// stepReports classifies each step's kmsg records; reports found only on
// the console (the kernel printed them after the agent's last read) go to
// the step whose marker precedes them there.
func stepReports(exp *Expected, ev *scenarioEvents, con consoleLog) map[int][]Report {
	sc := exp.Scenario
	out := map[int][]Report{}
	seen := map[string]bool{}
	for i, st := range ev.steps {
		for _, rep := range classifyIterations(st.Iterations) {
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
			out[i] = append(out[i], toReport(rep))
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
		i := min(m.step, len(exp.Steps)-1)
		out[i] = append(out[i], toReport(rep))
		seen[rep.Title] = true
	}
	return out
}

// classifyIterations classifies each inner step's kmsg of each iteration,
// tagging the report with where it happened.
func classifyIterations(its []protocol.Iteration) []Report {
	var out []Report
	for _, it := range its {
		for si, st := range it.Steps {
			for _, rep := range kreport.ParseLines(kmsgTexts(st.Kmsg)) {
				v := toReport(rep)
				v.Iteration, v.Loop, v.InnerStep = it.Index, it.Loop, si
				out = append(out, v)
			}
		}
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

// BootReports are the reports of a boot outside any scenario: while the
// kernel booted, before the agent's first step.
func BootReports(events []protocol.Event) []Report {
	var out []Report
	for _, e := range events {
		if e.Kind == protocol.EventReady || e.Kind == protocol.EventBoot {
			for _, rep := range kreport.ParseLines(kmsgTexts(e.Kmsg)) {
				v := toReport(rep)
				v.Title = "boot: " + v.Title
				out = append(out, v)
			}
		}
	}
	return out
}

func toReport(r kreport.Report) Report {
	return Report{Kind: string(r.Kind), Title: r.Title, Modules: r.Modules}
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
