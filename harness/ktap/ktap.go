// Package ktap parses KTAP, the test output KUnit prints to the kernel log
// (and TAP 13/14, its ancestor), into a tree of tests: suites nest by
// "# Subtest:" headers, plans say how many results to expect, and "ok" /
// "not ok" lines with an optional "# SKIP" directive close each test.
//
// It follows the behaviour of the kernel's own parser
// (tools/testing/kunit/kunit_parser.py): a result the plan announced but
// the log never printed counts as crashed, a suite without its own result
// line is crashed, and a crash below a suite makes the suite crashed. It
// also reads what a KUnit module prints when it is loaded, where the
// suites come without the top-level header the built-in executor prints.
package ktap

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Status is a test's outcome.
type Status string

// Statuses in kunit_parser's terms (SUCCESS, FAILURE, SKIPPED,
// TEST_CRASHED, NO_TESTS), spelled as modmatrix's verdicts are.
const (
	Pass    Status = "PASS"
	Fail    Status = "FAIL"
	Skip    Status = "SKIP"
	Crash   Status = "CRASH"    // no result line: the test never finished
	NoTests Status = "NO_TESTS" // a suite whose plan or output has no tests
)

// OK is true for the statuses KUnit counts as not failing.
func (s Status) OK() bool { return s == Pass || s == Skip }

// Line is one line of kernel output, with the time of its kmsg record in
// microseconds since boot (0 when unknown).
type Line struct {
	Text   string
	TimeUS int64
}

// Lines splits texts (kmsg records, which may hold several lines) into
// Lines without times.
func Lines(texts ...string) []Line {
	var out []Line
	for _, t := range texts {
		for _, l := range strings.Split(t, "\n") {
			out = append(out, Line{Text: l})
		}
	}
	return out
}

// Test is one test: the root of a log, a suite, a case or a parameter.
type Test struct {
	Name string
	// Number is its place in the parent's plan, from 1; 0 for the root.
	Number int
	Status Status
	// Directive is the text after "# SKIP" (why it was skipped).
	Directive string
	// Planned is the number of subtests the plan announced, -1 without one.
	Planned  int
	Subtests []*Test
	// Log holds the diagnostic lines printed while the test ran, dedented.
	Log []string
	// Errors say where the output broke the format (a wrong number, a
	// missing result), as kunit_parser counts its errors.
	Errors []string
	Counts Counts
	// DurationUS is the time between the previous result (or the plan)
	// and the test's own result line; 0 when unknown.
	DurationUS int64
}

// Counts tallies the leaf tests below a test (or the test itself when it
// has no subtests), as kunit_parser's TestCounts does.
type Counts struct {
	Passed, Failed, Crashed, Skipped, Errors int
}

// Total is the number of leaf tests counted.
func (c Counts) Total() int { return c.Passed + c.Failed + c.Crashed + c.Skipped }

// Status is the aggregate: crashes first, then failures, then passes;
// only skips make SKIP.
func (c Counts) Status() Status {
	switch {
	case c.Total() == 0:
		return NoTests
	case c.Crashed > 0:
		return Crash
	case c.Failed > 0:
		return Fail
	case c.Passed > 0:
		return Pass
	}
	return Skip
}

func (c *Counts) add(o Counts) {
	c.Passed += o.Passed
	c.Failed += o.Failed
	c.Crashed += o.Crashed
	c.Skipped += o.Skipped
	c.Errors += o.Errors
}

func (c *Counts) addStatus(s Status) {
	switch s {
	case Pass:
		c.Passed++
	case Fail:
		c.Failed++
	case Skip:
		c.Skipped++
	case NoTests:
	default:
		c.Crashed++
	}
}

var (
	ktapVersionRE = regexp.MustCompile(`^\s*KTAP version ([0-9]+)\s*$`)
	tapVersionRE  = regexp.MustCompile(`^\s*TAP version ([0-9]+)\s*$`)
	subtestRE     = regexp.MustCompile(`^\s*# Subtest: (.*)$`)
	planRE        = regexp.MustCompile(`^\s*1\.\.([0-9]+)`)
	resultRE      = regexp.MustCompile(`^\s*(ok|not ok) ([0-9]+) (- )?([^#]*)( # .*)?$`)
	resultSkipRE  = regexp.MustCompile(`^\s*(ok|not ok) ([0-9]+) (- )?(.*) # SKIP ?(.*)$`)
	// startRE finds where KTAP starts, whatever precedes it on the line.
	startRE = regexp.MustCompile(`(K?TAP version [0-9]+\s*$|# Subtest: )`)
	// endRE ends the KTAP part of a boot log (kunit_parser's KTAP_END).
	endRE = regexp.MustCompile(`^\s*(List of all partitions:|Kernel panic - not syncing: VFS:|reboot: System halted)`)
)

// Versions kunit_parser accepts.
var (
	ktapVersions = [2]int{1, 1}
	tapVersions  = [2]int{13, 14}
)

// Parse reads the KTAP in lines, starting at the first version line or
// "# Subtest:" header; lines before it are ignored. found is false when
// there is none. The root is named "main", as in kunit_parser; its status
// is the aggregate of its leaves.
func Parse(lines []Line) (root *Test, found bool) {
	start := -1
	for i, l := range lines {
		if startRE.MatchString(l.Text) {
			start = i
			break
		}
	}
	if start < 0 {
		return &Test{Name: "main", Status: NoTests, Planned: -1}, false
	}
	end := len(lines)
	for i := start; i < len(lines); i++ {
		if endRE.MatchString(lines[i].Text) {
			end = i
			break
		}
	}
	p := &parser{lines: stripPrefix(lines[start:end])}
	if p.lines[0].TimeUS != 0 {
		p.lastUS = p.lines[0].TimeUS
	}
	root = p.test(0, nil, false)
	if root.Status != NoTests {
		root.Status = root.Counts.Status()
	}
	return root, true
}

// stripPrefix removes what a console log puts before each line (a
// "[    1.234] " timestamp), measured on the first line as kunit_parser
// does. Indentation alone is kept: a module's suites start indented.
func stripPrefix(lines []Line) []Line {
	first := lines[0].Text
	at := strings.Index(first, "TAP version")
	if at < 0 {
		at = strings.Index(first, "# Subtest:")
	}
	if strings.HasSuffix(first[:max(at, 0)], "K") {
		at--
	}
	if at <= 0 {
		return lines
	}
	// Only the prefix itself: the indentation after it stays.
	at = len(strings.TrimRight(first[:at], " \t"))
	if at == 0 {
		return lines
	}
	out := make([]Line, len(lines))
	for i, l := range lines {
		if len(l.Text) >= at {
			l.Text = l.Text[at:]
		} else {
			l.Text = ""
		}
		out[i] = l
	}
	return out
}

type parser struct {
	lines []Line
	next  int
	// lastUS is the time of the last structural line consumed (header,
	// plan or result): where the next leaf's run began.
	lastUS int64
}

func (p *parser) more() bool   { return p.next < len(p.lines) }
func (p *parser) peek() string { return p.lines[p.next].Text }
func (p *parser) pop() Line    { p.next++; return p.lines[p.next-1] }

func structural(s string) bool {
	return resultRE.MatchString(s) || subtestRE.MatchString(s) || ktapVersionRE.MatchString(s) ||
		tapVersionRE.MatchString(s) || planRE.MatchString(s)
}

// diagnostics takes every line up to the next structural one.
func (p *parser) diagnostics() []string {
	var out []string
	for p.more() && !structural(p.peek()) {
		out = append(out, p.pop().Text)
	}
	return out
}

func (t *Test) errorf(format string, args ...any) {
	t.Errors = append(t.Errors, fmt.Sprintf(format, args...))
	t.Counts.Errors++
}

// version takes a KTAP or TAP version line, checking the number.
func (p *parser) version(t *Test) bool {
	if !p.more() {
		return false
	}
	m, kind, accepted := ktapVersionRE.FindStringSubmatch(p.peek()), "KTAP", ktapVersions
	if m == nil {
		m, kind, accepted = tapVersionRE.FindStringSubmatch(p.peek()), "TAP", tapVersions
	}
	if m == nil {
		return false
	}
	n, _ := strconv.Atoi(m[1])
	if n < accepted[0] || n > accepted[1] {
		t.errorf("%s version %d, want %d to %d", kind, n, accepted[0], accepted[1])
	}
	p.stamp(p.pop())
	return true
}

func (p *parser) header(t *Test) bool {
	if !p.more() {
		return false
	}
	m := subtestRE.FindStringSubmatch(p.peek())
	if m == nil {
		return false
	}
	t.Name = strings.TrimSpace(m[1])
	p.stamp(p.pop())
	return true
}

func (p *parser) plan(t *Test) {
	t.Planned = -1
	if !p.more() {
		return
	}
	m := planRE.FindStringSubmatch(p.peek())
	if m == nil {
		return
	}
	t.Planned, _ = strconv.Atoi(m[1])
	p.stamp(p.pop())
}

func (p *parser) stamp(l Line) {
	if l.TimeUS != 0 {
		p.lastUS = l.TimeUS
	}
}

// resultName is the name a result line gives its test.
func resultName(line string) (string, bool) {
	if m := resultSkipRE.FindStringSubmatch(line); m != nil {
		return strings.TrimSpace(m[4]), true
	}
	if m := resultRE.FindStringSubmatch(line); m != nil {
		return strings.TrimSpace(m[4]), true
	}
	return "", false
}

// closes is true when the next line is t's own result line.
func (p *parser) closes(t *Test) bool {
	if !p.more() {
		return false
	}
	name, ok := resultName(p.peek())
	return ok && name == t.Name
}

// result takes t's result line; started is when t began.
func (p *parser) result(t *Test, number int, started int64) bool {
	if !p.more() {
		return false
	}
	line := p.peek()
	m := resultRE.FindStringSubmatch(line)
	if m == nil {
		return false
	}
	l := p.pop()
	p.stamp(l)
	if started != 0 && l.TimeUS >= started {
		t.DurationUS = l.TimeUS - started
	}
	t.Name, _ = resultName(line)
	if n, _ := strconv.Atoi(m[2]); n != number {
		t.errorf("expected test number %d, found %d", number, n)
	}
	switch skip := resultSkipRE.FindStringSubmatch(line); {
	case skip != nil:
		t.Status, t.Directive = Skip, strings.TrimSpace(skip[5])
	case m[1] == "ok":
		t.Status = Pass
	default:
		t.Status = Fail
	}
	return true
}

// test parses one test and its subtests, as kunit_parser's parse_test.
func (p *parser) test(number int, log []string, isSubtest bool) *Test {
	t := &Test{Number: number, Status: Crash, Planned: -1}
	t.Log = append(t.Log, log...)
	t.Log = append(t.Log, p.diagnostics()...)
	// A leaf runs from the previous result (or the plan) to its own.
	began := p.lastUS
	var parent bool
	if !isSubtest {
		t.Name = "main"
		p.version(t)
		t.Log = append(t.Log, p.diagnostics()...)
		// A module's suites come without a top-level header: the first
		// suite's own version line was taken above, its "# Subtest:" is next.
		if p.more() && !subtestRE.MatchString(p.peek()) {
			p.plan(t)
		}
		parent = true
	} else {
		v := p.version(t)
		h := p.header(t)
		parent = v || h
		if parent {
			began = p.lastUS
			t.Log = append(t.Log, p.diagnostics()...)
			p.plan(t)
		}
	}
	for n := 1; parent && (t.Planned < 0 || n <= t.Planned); n++ {
		subLog := p.diagnostics()
		if !p.more() || isSubtest && p.closes(t) {
			if t.Planned > 0 && n <= t.Planned {
				// The plan promised more results than came: the
				// missing one crashed (the module died mid-suite).
				t.errorf("missing result of subtest %d of %d", n, t.Planned)
				t.Subtests = append(t.Subtests, &Test{Number: n, Status: Crash, Planned: -1, Log: dedent(subLog), Counts: Counts{Crashed: 1}})
				continue
			}
			t.Log = append(t.Log, subLog...)
			break
		}
		t.Subtests = append(t.Subtests, p.test(n, subLog, true))
	}
	if isSubtest {
		t.Log = append(t.Log, p.diagnostics()...)
		if t.Name != "" && !p.closes(t) {
			t.errorf("missing result line of %s", t.Name)
		} else {
			p.result(t, number, began)
		}
	}
	if parent && len(t.Subtests) == 0 && (t.Status == Crash || t.Status == Pass) {
		t.Status = NoTests
		t.errorf("0 tests run")
	}
	t.bubbleUp()
	t.Log = dedent(t.Log)
	return t
}

// bubbleUp adds the subtests' counts (or the test's own status for a
// leaf); a crash below makes the test crashed.
func (t *Test) bubbleUp() {
	for _, s := range t.Subtests {
		t.Counts.add(s.Counts)
	}
	if t.Counts.Total() == 0 {
		t.Counts.addStatus(t.Status)
	} else if t.Counts.Status() == Crash {
		t.Status = Crash
	}
}

// dedent removes the indentation all non-blank lines share.
func dedent(lines []string) []string {
	if len(lines) == 0 {
		return nil
	}
	common := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		ind := len(l) - len(strings.TrimLeft(l, " \t"))
		if common < 0 || ind < common {
			common = ind
		}
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		if len(l) >= common && common > 0 {
			l = l[common:]
		}
		out[i] = strings.TrimRight(l, " \t")
	}
	return out
}
