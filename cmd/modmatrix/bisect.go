package main

import (
	"fmt"
	"strings"

	"modmatrix.dev/modmatrix/harness/report"
	"modmatrix.dev/modmatrix/harness/verdict"
)

// git bisect run's exit statuses: 0 good, 1 bad, 125 this commit cannot
// be tested (skip it), 128 and above stop the bisect.
const (
	bisectGood  = 0
	bisectBad   = 1
	bisectSkip  = 125
	bisectAbort = 128
)

// exitError carries an exit status other than the usual ones.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// bisectStatus is what one kernel × cell's results say of the commit
// under test: skip when it could not be built or booted or a scenario
// could not be judged (ERROR), bad when a scenario failed, hung or
// crashed, good when every one passed or was skipped.
func bisectStatus(res *report.Results) (int, string) {
	for _, c := range res.Cells {
		if c.Error != "" {
			return bisectSkip, fmt.Sprintf("%s %s could not run: %s", c.Kernel, c.Cell, firstLine(c.Error))
		}
	}
	if len(res.Results) == 0 {
		return bisectSkip, "no scenario ran"
	}
	status, why := bisectGood, "every scenario passed"
	for _, s := range res.Results {
		switch s.Verdict {
		case verdict.Error:
			return bisectSkip, fmt.Sprintf("%s could not be judged: %s", s.Scenario, firstLine(s.Reason))
		case verdict.Fail, verdict.Hang, verdict.Crash:
			if status == bisectGood {
				status, why = bisectBad, fmt.Sprintf("%s: %s %s", s.Scenario, s.Verdict, firstLine(s.Reason))
			}
		}
	}
	return status, why
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
