package verdict

import (
	"fmt"
	"strconv"
	"strings"

	"modmatrix.dev/modmatrix/harness/kernel"
	"modmatrix.dev/modmatrix/harness/protocol"
	"modmatrix.dev/modmatrix/harness/scenario"
)

// check is one condition of an expect block: how people read it, and how
// to test it on a step's observations.
type check struct {
	line    int
	desc    string // for StepOutcome.Expected
	what    string // for Mismatch
	want    string
	observe func(r *protocol.StepResult) (observed string, ok bool)
}

// checksOf flattens an expect block into checks, errno first: it explains
// most of what follows.
func checksOf(st scenario.Step, e scenario.Expectation) []check {
	var cs []check
	add := func(desc, what, want string, observe func(r *protocol.StepResult) (string, bool)) {
		cs = append(cs, check{line: e.Line, desc: desc, what: what, want: want, observe: observe})
	}
	if e.Errno != nil {
		want := *e.Errno
		add("errno "+errnoText(want, "ok"), "errno", errnoText(want, `"" (success)`), func(r *protocol.StepResult) (string, bool) {
			got := r.Errno
			if c, known := kernel.CanonicalErrno(got); known {
				got = c
			}
			return errnoText(got, `"" (success)`), got == want
		})
	}
	if e.Loaded != nil {
		want := *e.Loaded
		desc := "loaded"
		if !want {
			desc = "not loaded"
		}
		add(desc, "loaded", strconv.FormatBool(want), func(r *protocol.StepResult) (string, bool) {
			got := r.ProcModulesExists && r.ProcModules != ""
			switch {
			case !r.ProcModulesExists:
				return "false (no /proc/modules)", !want
			case got:
				return fmt.Sprintf("true (%q)", r.ProcModules), want
			}
			return "false", !want
		})
	}
	if p := e.ProcModules; p != nil {
		add("/proc/modules line "+matchVerb(*p)+" "+p.String(), "proc_modules", p.String(), func(r *protocol.StepResult) (string, bool) {
			switch {
			case !r.ProcModulesExists:
				return "no /proc/modules", false
			case r.ProcModules == "":
				return fmt.Sprintf("no line for %s", st.Module), false
			}
			return strconv.Quote(r.ProcModules), p.FoundIn(r.ProcModules)
		})
	}
	for _, s := range e.Sysfs {
		desc, want := "present", "present"
		switch {
		case s.Absent:
			desc, want = "absent", "absent"
		case s.Value != nil && s.Value.IsRegexp():
			desc, want = "matches "+s.Value.String(), s.Value.String()
		case s.Value != nil:
			desc, want = "= "+s.Value.String(), s.Value.String()
		}
		add(fmt.Sprintf("sysfs %s %s", s.Attr, desc), "sysfs "+s.Attr, want, func(r *protocol.StepResult) (string, bool) {
			v, present := r.Sysfs[s.Attr]
			switch {
			case !present && !r.SysModule:
				return fmt.Sprintf("absent (no /sys/module/%s)", st.Module), s.Absent
			case !present:
				return "absent", s.Absent
			case s.Absent || s.Value == nil:
				return "present (" + strconv.Quote(v) + ")", !s.Absent
			}
			return strconv.Quote(v), s.Value.Equals(v)
		})
	}
	presence := func(kind, what string, names []string, want bool, seen func(r *protocol.StepResult) map[string]bool) {
		for _, n := range names {
			add(fmt.Sprintf("%s %s %s", kind, n, presentWord(want)), what+" "+n, presentWord(want), func(r *protocol.StepResult) (string, bool) {
				got, observed := seen(r)[n]
				if !observed {
					return "not observed", false
				}
				return presentWord(got), got == want
			})
		}
	}
	kallsyms := func(r *protocol.StepResult) map[string]bool { return r.Kallsyms }
	files := func(r *protocol.StepResult) map[string]bool { return r.Files }
	presence("kallsyms", "kallsyms", e.Kallsyms.Present, true, kallsyms)
	presence("kallsyms", "kallsyms", e.Kallsyms.Absent, false, kallsyms)
	presence("file", "file", e.Files.Present, true, files)
	presence("file", "file", e.Files.Absent, false, files)
	for _, p := range e.Kmsg {
		add("kmsg "+matchVerb(p)+" "+p.String(), "kmsg", p.String(), func(r *protocol.StepResult) (string, bool) {
			_, found := findKmsg(p, r.Kmsg)
			return kmsgSummary(r.Kmsg), found
		})
	}
	for _, p := range e.KmsgAbsent {
		add("kmsg lacks "+p.String(), "kmsg", "no "+p.String(), func(r *protocol.StepResult) (string, bool) {
			where, found := findKmsg(p, r.Kmsg)
			return strconv.Quote(clip(where)), !found
		})
	}
	if m := e.TaintGained; m != 0 {
		add("taint gains "+kernel.TaintString(m), "taint gained", kernel.TaintString(m), func(r *protocol.StepResult) (string, bool) {
			return gainedText(r), gained(r)&m == m
		})
	}
	if m := e.TaintNotGained; m != 0 {
		add("taint does not gain "+kernel.TaintString(m), "taint gained", "none of "+kernel.TaintString(m), func(r *protocol.StepResult) (string, bool) {
			return gainedText(r), gained(r)&m == 0
		})
	}
	return cs
}

func errnoText(name, success string) string {
	if name == "" {
		return success
	}
	return name
}

func matchVerb(p scenario.Pattern) string {
	if p.IsRegexp() {
		return "matches"
	}
	return "contains"
}

func presentWord(present bool) string {
	if present {
		return "present"
	}
	return "absent"
}

func gained(r *protocol.StepResult) uint64 { return r.TaintAfter &^ r.TaintBefore }

func gainedText(r *protocol.StepResult) string {
	g := kernel.TaintString(gained(r))
	if g == "" {
		g = "nothing"
	}
	return fmt.Sprintf("%s (taint %d → %d)", g, r.TaintBefore, r.TaintAfter)
}

// findKmsg looks for p in each record, then in the records joined by
// newlines (a message split over records, or a regexp across them). It
// returns where it was found.
func findKmsg(p scenario.Pattern, records []protocol.Kmsg) (string, bool) {
	texts := make([]string, len(records))
	for i, k := range records {
		if p.FoundIn(k.Text) {
			return k.Text, true
		}
		texts[i] = k.Text
	}
	if all := strings.Join(texts, "\n"); p.FoundIn(all) {
		return all, true
	}
	return "", false
}

// Reports quote at most this much kmsg.
const (
	maxRecords    = 8
	maxRecordText = 160
)

func kmsgSummary(records []protocol.Kmsg) string {
	if len(records) == 0 {
		return "no kmsg records"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d records:", len(records))
	for i, k := range records {
		if i == maxRecords {
			b.WriteString(" …")
			break
		}
		fmt.Fprintf(&b, " %q", clip(k.Text))
	}
	return b.String()
}

func clip(s string) string {
	if len(s) <= maxRecordText {
		return s
	}
	return strings.ToValidUTF8(s[:maxRecordText], "") + "…"
}
