package main

import "modmatrix.dev/modmatrix/harness/report"

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

// bisectExit is git bisect run's status for a run's answer.
var bisectExit = map[report.BisectAnswer]int{report.BisectGood: bisectGood, report.BisectBad: bisectBad, report.BisectSkip: bisectSkip}
