package report

import (
	"fmt"
	"io"
	"strings"

	"modmatrix.dev/modmatrix/harness/ktap"
	"modmatrix.dev/modmatrix/harness/verdict"
)

// WriteKTAP writes the matrix as KTAP version 1, the format kernel CI
// tooling reads (Documentation/dev-tools/ktap.rst): a suite per kernel ×
// cell ("6.12.118/unload"), a test per scenario with modmatrix's verdict,
// and under a KUnit scenario its suites and cases with the status the
// kernel printed. A case that failed as the scenario expects stays "not
// ok" (that is what the kernel said) under a scenario that is "ok"; a
// diagnostic line says so.
func (r *Results) WriteKTAP(w io.Writer) error {
	k := &ktapWriter{w: w}
	k.line(0, "KTAP version 1")
	if r.MatrixID != "" {
		k.diag(0, "modmatrix matrix "+r.MatrixID+shardNote(r.Shard))
	}
	k.line(0, fmt.Sprintf("1..%d", len(r.Cells)))
	for i, c := range r.Cells {
		name := c.Kernel + "/" + c.Cell
		var scenarios []ScenarioResult
		for _, s := range r.Results {
			if s.Kernel == c.Kernel && s.Cell == c.Cell {
				scenarios = append(scenarios, s)
			}
		}
		ok := c.Error == ""
		// A suite with no tests is a parse error to KTAP readers: a cell
		// that ran nothing is a test of its own.
		if len(scenarios) > 0 {
			k.begin(1, name, len(scenarios))
			for j, s := range scenarios {
				ok = k.scenario(1, j+1, s) && ok
			}
		}
		if c.Error != "" {
			k.diag(0, "cell error: "+FirstLine(c.Error))
		}
		k.result(0, i+1, ok, name, errorDirective(c.Error))
	}
	return k.err
}

func shardNote(shard string) string {
	if shard == "" {
		return ""
	}
	return ", shard " + shard
}

func errorDirective(msg string) string {
	if msg == "" {
		return ""
	}
	return "ERROR " + FirstLine(msg)
}

// scenario writes one scenario at depth and says whether it passed.
func (k *ktapWriter) scenario(depth, n int, s ScenarioResult) bool {
	ok := s.Verdict == verdict.Pass || s.Verdict == verdict.Skip
	directive := ""
	switch s.Verdict {
	case verdict.Skip:
		directive = "SKIP " + FirstLine(s.Reason)
	case verdict.Hang:
		directive = "TIMEOUT " + FirstLine(s.Reason)
	case verdict.Error, verdict.Crash:
		directive = "ERROR " + string(s.Verdict)
	}
	if len(s.KUnit) > 0 {
		root := kunitTree(s.KUnit)
		k.begin(depth+1, s.Scenario, len(root.subtests))
		for i, t := range root.subtests {
			k.kunit(depth+1, i+1, t)
		}
	}
	if !ok && s.Reason != "" {
		for _, l := range strings.Split(firstLines(s.Reason, 5), "\n") {
			k.diag(depth, string(s.Verdict)+": "+l)
		}
	}
	k.result(depth, n, ok, s.Scenario, directive)
	return ok
}

// kunitNode is a KUnit suite (with subtests) or case (a leaf).
type kunitNode struct {
	name     string
	subtests []*kunitNode
	c        *verdict.KUnitCase
}

// kunitTree rebuilds the nesting the cases' suite paths spell
// ("suite.case" for a parameterised case's parameters), in log order.
func kunitTree(cases []verdict.KUnitCase) *kunitNode {
	root := &kunitNode{}
	for i := range cases {
		c := &cases[i]
		// A parameter's name is free text ("192.168.0.1"): only the
		// suite path splits. A listed case the KTAP never named has only
		// its ID, suite.case.
		var path []string
		name := c.Name
		if c.Suite != "" {
			path = strings.Split(c.Suite, ".")
		} else if suite, rest, ok := strings.Cut(c.Name, "."); ok && c.Status == verdict.Missing {
			path, name = []string{suite}, rest
		}
		at := root
		for _, p := range path {
			at = at.child(p)
		}
		at.subtests = append(at.subtests, &kunitNode{name: name, c: c})
	}
	return root
}

func (n *kunitNode) child(name string) *kunitNode {
	for _, s := range n.subtests {
		if s.name == name && s.c == nil {
			return s
		}
	}
	s := &kunitNode{name: name}
	n.subtests = append(n.subtests, s)
	return s
}

// kunit writes a suite or case at depth; a suite is ok when every case
// below it is.
func (k *ktapWriter) kunit(depth, n int, t *kunitNode) bool {
	if t.c == nil {
		k.begin(depth+1, t.name, len(t.subtests))
		ok := true
		for i, s := range t.subtests {
			ok = k.kunit(depth+1, i+1, s) && ok
		}
		k.result(depth, n, ok, t.name, "")
		return ok
	}
	c := t.c
	for _, l := range c.Log {
		k.diag(depth, strings.TrimPrefix(strings.TrimSpace(l), "# "))
	}
	if c.Expected != "" && (c.Status != ktap.Pass || !c.OK()) {
		as := "as the scenario expects"
		if !c.OK() {
			as = "the scenario expects " + string(c.Expected)
		}
		k.diag(depth, fmt.Sprintf("modmatrix: %s, %s", c.Status, as))
	}
	directive := ""
	switch c.Status {
	case ktap.Skip:
		directive = "SKIP " + c.Reason
	case ktap.Crash:
		directive = "ERROR crashed: no result line"
	case verdict.Missing:
		directive = "ERROR not in the step's KTAP"
	}
	ok := c.Status == ktap.Pass || c.Status == ktap.Skip
	k.result(depth, n, ok, t.name, directive)
	return ok
}

// ktapWriter indents by four spaces per level, as KUnit does, and keeps
// the first write error.
type ktapWriter struct {
	w   io.Writer
	err error
}

func (k *ktapWriter) line(depth int, text string) {
	if k.err == nil {
		_, k.err = fmt.Fprintf(k.w, "%s%s\n", strings.Repeat("    ", depth), text)
	}
}

// begin opens a test with subtests: version, header, plan.
func (k *ktapWriter) begin(depth int, name string, plan int) {
	k.line(depth, "KTAP version 1")
	k.line(depth, "# Subtest: "+ktapName(name))
	k.line(depth, fmt.Sprintf("1..%d", plan))
}

func (k *ktapWriter) result(depth, n int, ok bool, name, directive string) {
	line := fmt.Sprintf("ok %d %s", n, ktapName(name))
	if !ok {
		line = "not " + line
	}
	// A "# SKIP" inside a reason would make any result a skip.
	if directive = strings.TrimSpace(strings.ReplaceAll(defuse(directive), "#", "no.")); directive != "" {
		line += " # " + directive
	}
	k.line(depth, line)
}

// ktapName is a name a result line can carry: a "#" would end it ("#3"
// is KUnit's unnamed third case), and an empty one would not parse. The
// header and the result of a test spell it the same.
func ktapName(name string) string {
	if name = strings.ReplaceAll(name, "#", "no."); strings.TrimSpace(name) == "" {
		return "(unnamed)"
	}
	return name
}

// diag writes a diagnostic line.
func (k *ktapWriter) diag(depth int, text string) {
	k.line(depth, "# "+defuse(text))
}

// defuse keeps kernel text that kunit_parser reads as structure (the
// end-of-output markers it searches every line for) from ending the
// parse; result() also keeps "#" out of a directive.
var defuse = strings.NewReplacer(
	"List of all partitions:", "List of all partitions -",
	"Kernel panic - not syncing: VFS:", "Kernel panic - not syncing (VFS)",
	"reboot: System halted", "reboot (System halted)",
	"\n", " ",
).Replace
