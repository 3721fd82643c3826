package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jstemmer/go-junit-report/v2/junit"

	"modmatrix.dev/modmatrix/harness/kreport/kinds"
	"modmatrix.dev/modmatrix/harness/verdict"
)

// JUnit renders the results as JUnit XML, as CI systems read it: one
// testsuite per kernel × cell, one testcase per scenario. A FAIL is a
// failure; ERROR, HANG and CRASH are errors; each carries its reason and
// the kmsg of the steps that went wrong.
func (r *Results) JUnit() junit.Testsuites {
	suites := junit.Testsuites{Name: "modmatrix"}
	for i, c := range r.Cells {
		suite := junit.Testsuite{
			Name:    fmt.Sprintf("%s/%s", c.Kernel, c.Cell),
			ID:      i,
			Package: "modmatrix",
		}
		suite.SetTimestamp(r.Started)
		suite.AddProperty("kernel", c.Kernel)
		suite.AddProperty("cell", c.Cell)
		suite.AddProperty("boots", fmt.Sprint(c.Boots))
		suite.AddProperty("restores", fmt.Sprint(c.Restores))
		var total time.Duration
		for _, s := range r.Results {
			if s.Kernel != c.Kernel || s.Cell != c.Cell {
				continue
			}
			d := time.Duration(s.DurationMS) * time.Millisecond
			total += d
			tc := junit.Testcase{
				Name:      s.Scenario,
				Classname: suite.Name,
				Time:      fmt.Sprintf("%.3f", d.Seconds()),
				Status:    string(s.Verdict),
				SystemOut: stressOutput(s), // stress.go
			}
			res := &junit.Result{Message: xmlSafe(FirstLine(s.Reason)), Type: string(s.Verdict), Data: xmlSafe(details(s))}
			switch s.Verdict {
			case verdict.Pass:
			case verdict.Skip:
				tc.Skipped = res
			case verdict.Fail:
				tc.Failure = res
			default:
				tc.Error = res
			}
			suite.AddTestcase(tc)
			for _, kc := range kunitTestcases(s) {
				suite.AddTestcase(kc)
			}
		}
		suite.Time = fmt.Sprintf("%.3f", total.Seconds())
		suites.AddSuite(suite)
	}
	return suites
}

// WriteJUnit saves junit.xml atomically in dir.
func (r *Results) WriteJUnit(dir string) error {
	path := filepath.Join(dir, "junit.xml")
	var raw bytes.Buffer
	suites := r.JUnit()
	if err := suites.WriteXML(&raw); err != nil {
		return err
	}
	return ReplaceFile(path, func(w io.Writer) error { return jenkinsDialect(&raw, w) })
}

// jenkinsDialect copies the library's XML, dropping the attributes the
// schema of Jenkins' JUnit plugin (junit-4.xsd) does not allow: a count of
// skipped tests on <testsuites>, and message/type on <skipped>, whose text
// already carries the reason. The per-suite skipped count stays.
func jenkinsDialect(in io.Reader, out io.Writer) error {
	dec := xml.NewDecoder(in)
	if _, err := io.WriteString(out, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(out)
	enc.Indent("", "\t")
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.ProcInst:
			continue // the header, written above
		case xml.CharData:
			if len(bytes.TrimSpace(t)) == 0 {
				continue // indentation, redone by the encoder
			}
		}
		if se, ok := tok.(xml.StartElement); ok {
			switch se.Name.Local {
			case "skipped":
				se.Attr = nil
			case "testsuites":
				se.Attr = slices.DeleteFunc(se.Attr, func(a xml.Attr) bool { return a.Name.Local == "skipped" })
			}
			tok = se
		}
		if err := enc.EncodeToken(tok); err != nil {
			return err
		}
	}
	if err := enc.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(out, "\n")
	return err
}

// xmlSafe writes characters XML 1.0 cannot carry (kernel messages may hold
// ESC and other control bytes) as \xNN, the way /dev/kmsg escapes them:
// one such byte would make the whole junit.xml unreadable.
func xmlSafe(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r',
			r >= 0x20 && r <= 0xD7FF && r != utf8.RuneError,
			r >= 0xE000 && r <= 0xFFFD && r != utf8.RuneError,
			r >= 0x10000 && r <= 0x10FFFF:
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, "\\x%02x", r)
		default:
			fmt.Fprintf(&b, "\\u%04x", r)
		}
	}
	return b.String()
}

// FirstLine is s up to its first newline: a reason or an error as one
// line of a table or a progress line.
func FirstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// details is the reason plus, for each step that differed, what was
// expected and observed and its kmsg, and the logs to look at.
func details(s ScenarioResult) string {
	var b strings.Builder
	b.WriteString(s.Reason)
	for i, st := range s.Steps {
		if len(st.Mismatches) == 0 && st.Error == "" && len(st.Reports) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n\nstep %d: %s %s%s errno=%q taint %d→%d", i+1, st.Action, st.Module, st.Path, st.Errno, st.TaintBefore, st.TaintAfter)
		for _, m := range st.Mismatches {
			fmt.Fprintf(&b, "\n  %s: expected %s, observed %s", m.What, m.Expected, m.Observed)
		}
		for _, rep := range st.Reports {
			if kinds.Kind(rep.Kind) == kinds.Leftover {
				fmt.Fprintf(&b, "\n  %s", rep.Title) // "leftover KIND NAME"
				continue
			}
			fmt.Fprintf(&b, "\n  kernel report: %s", rep.Title)
		}
		for _, k := range st.Kmsg {
			fmt.Fprintf(&b, "\n  kmsg: %s", k)
		}
		for _, k := range st.KmsgBackground {
			fmt.Fprintf(&b, "\n  kmsg (another task): %s", k)
		}
	}
	if s.ConsoleLog != "" {
		fmt.Fprintf(&b, "\n\nconsole: %s\nevents: %s", s.ConsoleLog, s.EventLog)
	}
	return b.String()
}
