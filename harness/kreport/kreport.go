// Package kreport finds kernel reports (oopses, WARNINGs, KASAN and kmemleak
// reports, panics, hung tasks, the loader's "suspiciously returned" warning)
// in a console log or in a list of /dev/kmsg records, and names each one
// with a kind, a syzkaller-style title and the modules it mentions. The
// kinds themselves, which of them kill a task and the markers that start
// those, are package kinds, which the guest agent imports without this
// package's regexps.
//
// The recognisers are data: patterns (table.go) is a table of start
// regexps, title templates and end rules. testdata/ holds one log per file
// with the expected reports as header lines, in the manner of syzkaller's
// pkg/report.
package kreport

import (
	"regexp"
	"strings"

	"modmatrix.dev/modmatrix/harness/kreport/kinds"
)

// Kind is the class of a kernel report; package kinds holds the list.
type Kind = kinds.Kind

// Report kinds (see package kinds).
const (
	KindWarning    = kinds.Warning
	KindBUG        = kinds.BUG
	KindOops       = kinds.Oops
	KindGPF        = kinds.GPF
	KindKASAN      = kinds.KASAN
	KindLeak       = kinds.Leak
	KindPanic      = kinds.Panic
	KindHang       = kinds.Hang
	KindOOM        = kinds.OOM
	KindInitReturn = kinds.InitReturn
	KindNullDeref  = kinds.NullDeref
)

// Report is one kernel report found in a log.
type Report struct {
	Kind Kind
	// Title names the report the way syzkaller does: "WARNING in FUNC",
	// "BUG: unable to handle page fault in FUNC", "init returned 42 in NAME".
	Title string
	// Signature is the title without what changes from one run of the
	// same bug to the next (an OOM's allocation site): what two runs are
	// compared by. It is the title for most kinds.
	Signature string
	// Text is the report as printed, from its first line to its end marker,
	// the end of its stack dump, the next report's start or the end of the
	// log. Console lines keep their timestamps; interleaved lines that are
	// not the kernel's (no timestamp in a timestamped log) are left out.
	Text string
	// Modules are the module names the report mentions, in order of first
	// appearance: "Modules linked in:", "[last unloaded: …]", "Unloaded
	// tainted modules:", frames "func+0x1/0x2 [name]", and the module a
	// start line names (INIT_RETURN).
	Modules []string
	// Start and End are line indexes in the input, End exclusive: lines of
	// the console log for ParseConsole, records for ParseLines.
	Start, End int
	// Corrupted is set when the log ended before the report did: no end
	// marker, or a stack dump cut off.
	Corrupted bool
}

// kline is one kernel line of the input.
type kline struct {
	raw  string // as printed (timestamp kept, \r dropped)
	text string // what the patterns see: no timestamp, no "kmemleak: " prefix
	idx  int    // input line (console) or record (kmsg) index
}

// timestampRe is printk's "[%5lu.%06lu] " prefix, with the optional
// CONFIG_PRINTK_CALLER "[  T123] ".
var timestampRe = regexp.MustCompile(`\[\s*\d+\.\d{6}\](?:\[\s*[CT]\d+\])? ?`)

// ParseConsole finds the reports in a serial console log. Lines may carry
// printk timestamps and \r; when the log has timestamps, lines without one
// (u-root init output, agent logs) are ignored, and a line where such
// output runs into a kernel line is read from the timestamp on.
func ParseConsole(log []byte) []Report {
	raw := strings.Split(string(log), "\n")
	timestamped := timestampRe.Match(log)
	lines := make([]kline, 0, len(raw))
	for i, l := range raw {
		l = strings.TrimRight(l, "\r")
		if timestamped {
			loc := timestampRe.FindStringIndex(l)
			if loc == nil {
				continue
			}
			lines = append(lines, kline{raw: l[loc[0]:], text: normalize(l[loc[1]:]), idx: i})
			continue
		}
		lines = append(lines, kline{raw: l, text: normalize(l), idx: i})
	}
	return parse(lines)
}

// ParseLines finds the reports in kmsg record texts (escapes decoded, no
// timestamps), one element per record; a record may hold several lines.
// Start and End index records.
func ParseLines(records []string) []Report {
	var lines []kline
	for i, rec := range records {
		for _, l := range strings.Split(strings.TrimSuffix(rec, "\n"), "\n") {
			text := l
			if loc := timestampRe.FindStringIndex(text); loc != nil && loc[0] == 0 {
				text = text[loc[1]:]
			}
			lines = append(lines, kline{raw: l, text: normalize(text), idx: i})
		}
	}
	return parse(lines)
}

// normalize drops the pr_fmt prefix kmemleak puts on each console line of
// its reports, so they read like /sys/kernel/debug/kmemleak.
func normalize(s string) string {
	return strings.TrimPrefix(s, "kmemleak: ")
}

func parse(lines []kline) []Report {
	var out []Report
	prevEnd := 0
	for i := 0; i < len(lines); {
		p, m := matchStart(lines[i].text)
		if p == nil {
			i++
			continue
		}
		end, corrupted := p.extent(lines, i)
		first := i
		if first > prevEnd && preambleRe.MatchString(lines[first-1].text) {
			first--
		}
		out = append(out, build(p, m, lines[first:end], lines[i:end], corrupted))
		prevEnd, i = end, end
	}
	return out
}

// preambleRe is a line the kernel prints just before a report's first
// line: WARN's and BUG's cut-here line, KASAN's and lockdep's rule.
var preambleRe = regexp.MustCompile(`^(-+\[ cut here \]-+|={20,})$`)

// endTraceRe ends any report: the oops end marker, or panic's own.
var endTraceRe = regexp.MustCompile(`^---\[ end (trace [0-9a-f]+|Kernel panic - not syncing: .*) \]---`)

// rebootRe ends a panic report when the kernel restarts instead of
// printing the panic end marker.
var rebootRe = regexp.MustCompile(`^(Rebooting in \d+ seconds|reboot: )`)

// extent returns where the report starting at lines[start] ends (exclusive)
// and whether the log ran out before the report was complete.
func (p *pattern) extent(lines []kline, start int) (int, bool) {
	awaitDie := p.awaitsDie
	var tr traceState
	for j := start + 1; j < len(lines); j++ {
		t := lines[j].text
		if endTraceRe.MatchString(t) {
			return j + 1, false
		}
		if p.end == endAtClosing && p.closing.MatchString(t) {
			return j + 1, false
		}
		if q, _ := matchStart(t); q != nil {
			if awaitDie && q.dieHeader {
				awaitDie = false
				continue
			}
			return j, false
		}
		switch p.end {
		case endAfterTrace:
			if belongs := tr.feed(t); tr.done {
				if belongs {
					return j + 1, false
				}
				return j, false
			}
		case endTerminal:
			if rebootRe.MatchString(t) {
				return j + 1, false
			}
		}
	}
	switch p.end {
	case endTerminal:
		return len(lines), false
	case endAfterTrace:
		return len(lines), !tr.complete()
	}
	return len(lines), true
}

func matchStart(text string) (*pattern, []int) {
	for i := range patterns {
		if m := patterns[i].start.FindStringSubmatchIndex(text); m != nil {
			return &patterns[i], m
		}
	}
	return nil, nil
}

// build makes the report: text from all its lines (preamble included),
// title and modules from the lines from its start line on.
func build(p *pattern, m []int, all, body []kline, corrupted bool) Report {
	raw := make([]string, len(all))
	for i, l := range all {
		raw[i] = l.raw
	}
	startText := body[0].text
	texts := make([]string, len(body))
	for i, l := range body {
		texts[i] = l.text
	}
	r := Report{
		Kind:      p.kind,
		Title:     p.title(p.template, startText, m, texts),
		Text:      strings.Join(raw, "\n"),
		Start:     all[0].idx,
		End:       all[len(all)-1].idx + 1,
		Corrupted: corrupted,
	}
	var first []string
	if p.moduleGroup > 0 && m[2*p.moduleGroup] >= 0 {
		first = append(first, startText[m[2*p.moduleGroup]:m[2*p.moduleGroup+1]])
	}
	r.Modules = modules(first, texts)
	r.Signature = r.Title
	if p.signature != "" {
		r.Signature = p.title(p.signature, startText, m, texts)
	}
	return r
}

// title expands a template of the pattern: ${N} are the start regexp's groups,
// {func} the function the report is about, {detail} the pattern's detail
// regexp's first group found in the report. A placeholder with no value
// takes the words joining it out (" in {func}", " {detail}").
func (p *pattern) title(template, startText string, m []int, texts []string) string {
	t := string(p.start.ExpandString(nil, template, startText, m))
	if strings.Contains(t, "{detail}") {
		detail := ""
		for _, s := range texts[1:] {
			if dm := p.detail.FindStringSubmatch(s); dm != nil {
				detail = dm[1]
				break
			}
		}
		t = fill(t, "{detail}", " ", detail)
	}
	if strings.Contains(t, "{func}") {
		fn := ""
		if p.funcGroup > 0 && m[2*p.funcGroup] >= 0 {
			fn = symbolName(startText[m[2*p.funcGroup]:m[2*p.funcGroup+1]])
		}
		if fn == "" {
			fn = p.reportFunc(texts)
		}
		t = fill(t, "{func}", " in ", fn)
	}
	return t
}

// fill puts value in place of placeholder, or removes joiner+placeholder
// when there is no value.
func fill(t, placeholder, joiner, value string) string {
	if value == "" {
		return strings.Replace(t, joiner+placeholder, "", 1)
	}
	return strings.Replace(t, placeholder, value, 1)
}
