package verdict

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	"modmatrix.dev/modmatrix/harness/kreport"
	"modmatrix.dev/modmatrix/harness/kreport/kinds"
	"modmatrix.dev/modmatrix/harness/protocol"
)

// stepReports classifies each step's kmsg records; reports found only on
// the console (the kernel printed them after the agent's last read) go to
// the step whose marker precedes them there.
func stepReports(exp *Expected, ev *scenarioEvents, con consoleLog, spans []moduleSpan) map[int][]Report {
	sc := exp.Scenario
	out := leftoverReports(ev.steps)
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
			out[i] = append(out[i], blame(rep, loadedBy(spans, i)))
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
		out[i] = append(out[i], blame(rep, loadedBy(spans, i)))
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
				if v.Signature != "" {
					v.Signature = "boot: " + v.Signature
				}
				out = append(out, v)
			}
		}
	}
	return out
}

func toReport(r kreport.Report) Report {
	v := Report{Kind: string(r.Kind), Title: r.Title, Modules: r.Modules}
	if r.Signature != r.Title {
		v.Signature = r.Signature
	}
	return v
}

// leftoverReports are the LEFTOVER reports of each step: what its ledger
// found still listed after a module was gone (protocol.Ledger). A
// resource reported at an earlier step (the leftover of a module that
// used another, seen again when that other one is unloaded) is that
// step's alone.
func leftoverReports(steps []protocol.StepResult) map[int][]Report {
	out := map[int][]Report{}
	seen := map[protocol.Resource]bool{}
	for i, st := range steps {
		lg := st.Ledger
		if lg == nil {
			continue
		}
		for _, r := range lg.Added {
			if seen[r] {
				continue
			}
			seen[r] = true
			out[i] = append(out[i], Report{Kind: string(kinds.Leftover), Title: "leftover " + r.String(), Modules: []string{lg.Module}})
		}
	}
	return out
}

// ripAddrRe is an oops's RIP where no symbol holds it ("RIP:
// 0010:0xffffffffc0002010"); faultAddrRe the address a page fault hit.
var (
	ripAddrRe   = regexp.MustCompile(`(?m)RIP: [0-9a-f]{4}:0x([0-9a-f]{16})\b`)
	faultAddrRe = regexp.MustCompile(`unable to handle page fault for address: ([0-9a-f]{16})`)
)

// blame is the report with the module it is about named first when the
// kernel could not name it in a frame: a crash whose RIP, or whose
// faulting address, lies in the recorded range of a module loaded
// earlier (gone by then, or the kernel would have named its symbol), else
// one whose RIP is in no symbol while "[last unloaded: NAME]" names one.
// A timer or work item of an unloaded module oopses like that, in the
// module's freed code or data, from the timer softirq.
func blame(rep kreport.Report, spans []moduleSpan) Report {
	v := toReport(rep)
	if !kinds.Kind(rep.Kind).Crash() {
		return v
	}
	name := ""
	rip := ripAddrRe.FindStringSubmatch(rep.Text)
	for _, m := range [][]string{rip, faultAddrRe.FindStringSubmatch(rep.Text)} {
		if m == nil || name != "" {
			continue
		}
		if sp := spanOf("0x"+m[1], spans, 0); sp != nil {
			name = sp.name
		}
	}
	if lm := lastUnloadedRe.FindStringSubmatch(rep.Text); name == "" && rip != nil && lm != nil && inModuleArea(rip[1]) {
		name = lm[1]
	}
	if name == "" {
		return v
	}
	v.Modules = append([]string{name}, slices.DeleteFunc(slices.Clone(v.Modules), func(s string) bool { return s == name })...)
	if !strings.Contains(v.Title, " in ") {
		if v.Signature != "" {
			v.Signature += " in " + name
		}
		v.Title += " in " + name
	}
	return v
}

// loadedBy are the spans of the loads up to step i: a module loaded later
// at a reused address did not run then.
func loadedBy(spans []moduleSpan, i int) []moduleSpan {
	return slices.DeleteFunc(slices.Clone(spans), func(sp moduleSpan) bool { return sp.loadedBy.index > i })
}

// inModuleArea: x86_64's module mapping space, MODULES_VADDR (after the
// kernel image's 512 MiB or 1 GiB) up to MODULES_END.
func inModuleArea(hex string) bool {
	addr, err := strconv.ParseUint(hex, 16, 64)
	return err == nil && addr >= 0xffffffffa0000000 && addr < 0xffffffffff000000
}

var lastUnloadedRe = regexp.MustCompile(`\[last unloaded: ([A-Za-z0-9_]+)`)

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
