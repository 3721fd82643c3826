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

// checksOf flattens an expect block into checks, family by family in the
// order of checkFamilies. Every check points at the block's line.
func checksOf(st scenario.Step, e scenario.Expectation) []check {
	var cs []check
	for _, family := range checkFamilies {
		cs = append(cs, family(st, e)...)
	}
	for i := range cs {
		cs[i].line = e.Line
	}
	return cs
}

// checkFamilies builds the checks of one kind of condition each, in the
// order StepOutcome.Expected and the mismatches list them: errno first, it
// explains most of what follows.
var checkFamilies = []func(st scenario.Step, e scenario.Expectation) []check{
	errnoChecks,
	modprobeChecks,
	loadedChecks,
	procModulesChecks,
	sysfsChecks,
	kallsymsChecks,
	fileChecks,
	kmsgChecks,
	taintChecks,
}

// errnoChecks: the step's errno, canonical name against canonical name.
func errnoChecks(_ scenario.Step, e scenario.Expectation) []check {
	if e.Errno == nil {
		return nil
	}
	want := *e.Errno
	return []check{{
		desc: "errno " + errnoText(want, "ok"), what: "errno", want: errnoText(want, `"" (success)`),
		observe: func(r *protocol.StepResult) (string, bool) {
			got := r.Errno
			if c, known := kernel.CanonicalErrno(got); known {
				got = c
			}
			return errnoText(got, `"" (success)`), got == want
		},
	}}
}

// modprobeChecks: a modprobe step's exit status, then patterns on what it
// printed.
func modprobeChecks(_ scenario.Step, e scenario.Expectation) []check {
	var cs []check
	if e.Status != nil {
		want := *e.Status
		cs = append(cs, check{
			desc: fmt.Sprintf("modprobe exits %d", want), what: "status", want: strconv.Itoa(want),
			observe: func(r *protocol.StepResult) (string, bool) {
				if r.Status == nil {
					return "no exit status", false
				}
				return strconv.Itoa(*r.Status), *r.Status == want
			},
		})
	}
	for _, p := range e.Output {
		cs = append(cs, check{
			desc: "modprobe prints " + p.String(), what: "output", want: p.String(),
			observe: func(r *protocol.StepResult) (string, bool) {
				return strconv.Quote(clip(r.Output)), p.FoundIn(r.Output)
			},
		})
	}
	return cs
}

// loadedChecks: whether the module has a /proc/modules line.
func loadedChecks(_ scenario.Step, e scenario.Expectation) []check {
	if e.Loaded == nil {
		return nil
	}
	want := *e.Loaded
	desc := "loaded"
	if !want {
		desc = "not loaded"
	}
	return []check{{
		desc: desc, what: "loaded", want: strconv.FormatBool(want),
		observe: func(r *protocol.StepResult) (string, bool) {
			got := r.ProcModulesExists && r.ProcModules != ""
			switch {
			case !r.ProcModulesExists:
				return "false (no /proc/modules)", !want
			case got:
				return fmt.Sprintf("true (%q)", r.ProcModules), want
			}
			return "false", !want
		},
	}}
}

// procModulesChecks: a pattern on the module's /proc/modules line.
func procModulesChecks(st scenario.Step, e scenario.Expectation) []check {
	p := e.ProcModules
	if p == nil {
		return nil
	}
	return []check{{
		desc: "/proc/modules line " + matchVerb(*p) + " " + p.String(), what: "proc_modules", want: p.String(),
		observe: func(r *protocol.StepResult) (string, bool) {
			switch {
			case !r.ProcModulesExists:
				return "no /proc/modules", false
			case r.ProcModules == "":
				return fmt.Sprintf("no line for %s", st.Module), false
			}
			return strconv.Quote(r.ProcModules), p.FoundIn(r.ProcModules)
		},
	}}
}

// sysfsChecks: one check per /sys/module/NAME attribute, in block order.
func sysfsChecks(st scenario.Step, e scenario.Expectation) []check {
	var cs []check
	for _, s := range e.Sysfs {
		cs = append(cs, sysfsCheck(st.Module, s))
	}
	return cs
}

// sysfsCheck tests one attribute of /sys/module/module: absent, present,
// or present with a value.
func sysfsCheck(module string, s scenario.SysfsExpect) check {
	desc, want := "present", "present"
	switch {
	case s.Absent:
		desc, want = "absent", "absent"
	case s.Value != nil && s.Value.IsRegexp():
		desc, want = "matches "+s.Value.String(), s.Value.String()
	case s.Value != nil:
		desc, want = "= "+s.Value.String(), s.Value.String()
	case s.Modinfo:
		desc, want = "= the file's modinfo "+s.Attr, "modinfo "+s.Attr
	}
	return check{
		desc: fmt.Sprintf("sysfs %s %s", s.Attr, desc), what: "sysfs " + s.Attr, want: want,
		observe: func(r *protocol.StepResult) (string, bool) {
			v, present := r.Sysfs[s.Attr]
			switch {
			case !present && !r.SysModule:
				return fmt.Sprintf("absent (no /sys/module/%s)", module), s.Absent
			case !present:
				return "absent", s.Absent
			case s.Modinfo:
				m, ok := r.Modinfo[s.Attr]
				if !ok {
					return strconv.Quote(v) + ", and the file has no modinfo " + s.Attr, false
				}
				return fmt.Sprintf("%q (modinfo %q)", v, m), v == m
			case s.Absent || s.Value == nil:
				return "present (" + strconv.Quote(v) + ")", !s.Absent
			}
			return strconv.Quote(v), s.Value.Equals(v)
		},
	}
}

// kallsymsChecks: symbols that must be in /proc/kallsyms, then those that
// must not.
func kallsymsChecks(_ scenario.Step, e scenario.Expectation) []check {
	kallsyms := func(r *protocol.StepResult) map[string]bool { return r.Kallsyms }
	return append(presenceChecks("kallsyms", e.Kallsyms.Present, true, kallsyms),
		presenceChecks("kallsyms", e.Kallsyms.Absent, false, kallsyms)...)
}

// fileChecks: paths that must exist in the guest, then those that must not.
func fileChecks(_ scenario.Step, e scenario.Expectation) []check {
	files := func(r *protocol.StepResult) map[string]bool { return r.Files }
	return append(presenceChecks("file", e.Files.Present, true, files),
		presenceChecks("file", e.Files.Absent, false, files)...)
}

// presenceChecks tests that each of names is present (want) or absent
// in what the agent saw; a name it did not look at fails.
func presenceChecks(kind string, names []string, want bool, seen func(r *protocol.StepResult) map[string]bool) []check {
	var cs []check
	for _, n := range names {
		cs = append(cs, check{
			desc: fmt.Sprintf("%s %s %s", kind, n, presentWord(want)), what: kind + " " + n, want: presentWord(want),
			observe: func(r *protocol.StepResult) (string, bool) {
				got, observed := seen(r)[n]
				if !observed {
					return "not observed", false
				}
				return presentWord(got), got == want
			},
		})
	}
	return cs
}

// kmsgChecks: patterns the step's kmsg must hold, then those it must not.
func kmsgChecks(_ scenario.Step, e scenario.Expectation) []check {
	var cs []check
	for _, p := range e.Kmsg {
		cs = append(cs, check{
			desc: "kmsg " + matchVerb(p) + " " + p.String(), what: "kmsg", want: p.String(),
			observe: func(r *protocol.StepResult) (string, bool) {
				_, found := findKmsg(p, r.Kmsg)
				return kmsgSummary(r.Kmsg), found
			},
		})
	}
	for _, p := range e.KmsgAbsent {
		cs = append(cs, check{
			desc: "kmsg lacks " + p.String(), what: "kmsg", want: "no " + p.String(),
			observe: func(r *protocol.StepResult) (string, bool) {
				where, found := findKmsg(p, r.Kmsg)
				return strconv.Quote(clip(where)), !found
			},
		})
	}
	return cs
}

// taintChecks: taint bits the step must newly set, then bits it must not.
func taintChecks(_ scenario.Step, e scenario.Expectation) []check {
	var cs []check
	if m := e.TaintGained; m != 0 {
		cs = append(cs, check{
			desc: "taint gains " + kernel.TaintString(m), what: "taint gained", want: kernel.TaintString(m),
			observe: func(r *protocol.StepResult) (string, bool) {
				return gainedText(r), gained(r)&m == m
			},
		})
	}
	if m := e.TaintNotGained; m != 0 {
		cs = append(cs, check{
			desc: "taint does not gain " + kernel.TaintString(m), what: "taint gained", want: "none of " + kernel.TaintString(m),
			observe: func(r *protocol.StepResult) (string, bool) {
				return gainedText(r), gained(r)&m == 0
			},
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
