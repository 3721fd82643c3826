package report

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jstemmer/go-junit-report/v2/junit"

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
			}
			res := &junit.Result{Message: firstLine(s.Reason), Type: string(s.Verdict), Data: details(s)}
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
		}
		suite.Time = fmt.Sprintf("%.3f", total.Seconds())
		suites.AddSuite(suite)
	}
	return suites
}

// WriteJUnit saves junit.xml atomically in dir.
func (r *Results) WriteJUnit(dir string) error {
	path := filepath.Join(dir, "junit.xml")
	f, err := os.Create(path + ".tmp")
	if err != nil {
		return err
	}
	suites := r.JUnit()
	if err := suites.WriteXML(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}

func firstLine(s string) string {
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
			fmt.Fprintf(&b, "\n  kernel report: %s", rep.Title)
		}
		for _, k := range st.Kmsg {
			fmt.Fprintf(&b, "\n  kmsg: %s", k)
		}
	}
	if s.ConsoleLog != "" {
		fmt.Fprintf(&b, "\n\nconsole: %s\nevents: %s", s.ConsoleLog, s.EventLog)
	}
	return b.String()
}
