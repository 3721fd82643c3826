package report

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"

	"modmatrix.dev/modmatrix/harness/kernel"
	"modmatrix.dev/modmatrix/harness/verdict"
)

// Change is one scenario × cell whose verdict or observations differ
// between a baseline and a candidate run.
type Change struct {
	Kernel   string          `json:"kernel"`
	Cell     string          `json:"cell"`
	Scenario string          `json:"scenario"`
	Base     verdict.Verdict `json:"base"` // "" when the baseline did not run it
	New      verdict.Verdict `json:"new"`  // "" when the candidate did not run it
	// Details name each observed value that changed, step by step.
	Details []string `json:"details,omitempty"`
	// Regression: PASS became something else, or an observation changed
	// while both runs passed (the scenario expects it stable).
	Regression bool `json:"regression"`
}

// Diff compares two runs of the same scenarios: 6.1 against 6.12, one
// config against another, main against a patch. Cells match by kernel and
// cell name; with compareKernels false the kernel version is ignored, so
// a run on one version can be the baseline of a run on another.
func Diff(base, cand *Results, compareKernels bool) []Change {
	key := func(r ScenarioResult) string {
		if compareKernels {
			return r.Kernel + "\x00" + r.Cell + "\x00" + r.Scenario
		}
		return r.Cell + "\x00" + r.Scenario
	}
	old := map[string]ScenarioResult{}
	for _, r := range base.Results {
		old[key(r)] = r
	}
	var out []Change
	seen := map[string]bool{}
	for _, n := range cand.Results {
		k := key(n)
		seen[k] = true
		o, ok := old[k]
		c := Change{Kernel: n.Kernel, Cell: n.Cell, Scenario: n.Scenario, Base: o.Verdict, New: n.Verdict}
		if !ok {
			out = append(out, c)
			continue
		}
		c.Details = observationChanges(o, n, nil)
		if o.Verdict == n.Verdict && len(c.Details) == 0 {
			continue
		}
		c.Regression = o.Verdict == verdict.Pass && n.Verdict != verdict.Pass ||
			o.Verdict == verdict.Pass && n.Verdict == verdict.Pass && len(c.Details) > 0
		out = append(out, c)
	}
	for _, o := range base.Results {
		if !seen[key(o)] {
			out = append(out, Change{Kernel: o.Kernel, Cell: o.Cell, Scenario: o.Scenario, Base: o.Verdict})
		}
	}
	slices.SortStableFunc(out, func(a, b Change) int {
		return strings.Compare(a.Scenario+a.Kernel+a.Cell, b.Scenario+b.Kernel+b.Cell)
	})
	return out
}

// Observations are what diff compares of a scenario's two runs, by the
// names bisect-config's --bad-if takes: each step's errno, the module's
// /proc/modules state, the taint gained, kmsg records and kernel reports,
// and the KUnit cases' statuses.
var Observations = []string{"errno", "proc_modules", "taint", "kmsg", "reports", "kunit"}

// observationChanges names the observations that differ between two runs
// of a scenario, only those of the names in only (nil: all of them).
func observationChanges(a, b ScenarioResult, only []string) []string {
	keep := func(what string) bool { return only == nil || slices.Contains(only, what) }
	// A changed number of steps ("steps", no name of Observations) counts
	// only when all do.
	out := stepChanges(a.Steps, b.Steps, keep)
	if keep("kunit") {
		out = append(out, kunitChanges(a.KUnit, b.KUnit)...)
	}
	return out
}

// stepChanges names the observations keep keeps that differ: errno, the
// module's /proc/modules state, taint gained, kmsg records, kernel reports.
func stepChanges(a, b []StepRecord, keep func(string) bool) []string {
	var out []string
	if len(a) != len(b) && keep("steps") {
		out = append(out, fmt.Sprintf("steps: %d → %d", len(a), len(b)))
	}
	for i := range min(len(a), len(b)) {
		x, y := a[i], b[i]
		add := func(what, from, to string) {
			if !keep(strings.Fields(what)[0]) {
				return
			}
			if from != to {
				out = append(out, fmt.Sprintf("step %d (%s %s%s) %s: %q → %q", i+1, y.Action, y.Module, y.Path, what, from, to))
			}
		}
		add("errno", x.Errno, y.Errno)
		add("proc_modules", procState(x.ProcModules), procState(y.ProcModules))
		add("taint gained", kernel.TaintString(x.TaintAfter&^x.TaintBefore), kernel.TaintString(y.TaintAfter&^y.TaintBefore))
		add("kmsg", strings.Join(stable(x.Kmsg), " | "), strings.Join(stable(y.Kmsg), " | "))
		add("reports", reportSignatures(x.Reports), reportSignatures(y.Reports))
	}
	return out
}

// procState is a /proc/modules line without its size and address, which
// move between builds without meaning anything.
func procState(line string) string {
	f := strings.Fields(line)
	if len(f) < 6 {
		return line
	}
	return strings.Join(append([]string{f[0], f[2], f[3], f[4]}, f[6:]...), " ")
}

// SameKernels reports whether two runs share a kernel version; when they
// do not (6.1 against 6.12), cells are matched by name alone.
func SameKernels(a, b *Results) bool {
	for _, x := range a.Cells {
		for _, y := range b.Cells {
			if x.Kernel == y.Kernel {
				return true
			}
		}
	}
	return false
}

// stable drops kmsg records that differ between any two boots (clock
// source switches, the out-of-tree taint notice that only the first load
// prints) and masks the values in the rest that move from boot to boot
// without meaning anything: addresses, register and page-table values,
// PIDs, the build number.
func stable(kmsg []string) []string {
	var out []string
	for _, k := range kmsg {
		if strings.HasPrefix(k, "clocksource:") || strings.HasSuffix(k, "loading out-of-tree module taints kernel.") {
			continue
		}
		for _, m := range volatile {
			k = m.re.ReplaceAllString(k, m.with)
		}
		out = append(out, k)
	}
	return out
}

var volatile = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\b(0x)?[0-9a-f]{6,}\b`), "…"},
	{regexp.MustCompile(`\b(PID|pid)([:=] ?)\d+`), "$1$2N"},
	{regexp.MustCompile(`(\w)\[\d+\]`), "$1[N]"},
	{regexp.MustCompile(` #\d+ `), " #N "},
}

// reportSignatures are the reports as two runs of the same bug agree on
// them: an OOM's title names whichever allocation met the limit.
func reportSignatures(rs []verdict.Report) string {
	var ts []string
	for _, r := range rs {
		ts = append(ts, cmp.Or(r.Signature, r.Title))
	}
	return strings.Join(ts, "; ")
}

// Regressed reports whether any change is a regression.
func Regressed(changes []Change) bool {
	return slices.ContainsFunc(changes, func(c Change) bool { return c.Regression })
}

// WriteDiff prints the changes as a table with their details.
func WriteDiff(w io.Writer, changes []Change) error {
	if len(changes) == 0 {
		_, err := fmt.Fprintln(w, "no changes")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tKERNEL\tCELL\tBASE\tNEW\t")
	for _, c := range changes {
		mark := ""
		if c.Regression {
			mark = "REGRESSION"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.Scenario, c.Kernel, c.Cell, orDash(c.Base), orDash(c.New), mark)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, c := range changes {
		for _, d := range c.Details {
			fmt.Fprintf(w, "%s %s %s: %s\n", c.Scenario, c.Kernel, c.Cell, d)
		}
	}
	return nil
}

// orDash spells an absent verdict or status as "-".
func orDash[T ~string](v T) string {
	if v == "" {
		return "-"
	}
	return string(v)
}

// WriteDiffJSON saves diff.json in dir.
func WriteDiffJSON(dir string, changes []Change) error {
	b, err := json.MarshalIndent(struct {
		Changes []Change `json:"changes"`
	}{changes}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "diff.json"), append(b, '\n'), 0o644)
}
