package report

import (
	"modmatrix.dev/modmatrix/harness/protocol"
	"modmatrix.dev/modmatrix/harness/verdict"
)

// StepRecords are a scenario's steps as results.json records them: what
// the agent observed, what was expected and what differed, and the kernel
// reports attributed to each step (by index).
func StepRecords(steps []protocol.StepResult, result verdict.Result, reports map[int][]verdict.Report) []StepRecord {
	var out []StepRecord
	for i, s := range steps {
		rec := StepRecord{
			Action: string(s.Step.Action), Module: s.Step.Module, Params: s.Step.Params,
			Flags: s.Step.Flags, Path: s.Step.Path, Errno: s.Errno, Error: s.Error,
			TaintBefore: s.TaintBefore, TaintAfter: s.TaintAfter, ProcModules: s.ProcModules,
			Sysfs: s.Sysfs, Kallsyms: s.Kallsyms, Files: s.Files, DurationUS: s.DurationUS,
			Kmsg: []string{}, Hung: s.Hung, Died: s.Died, Ledger: s.Ledger,
			Status: s.Status, Output: s.Output,
		}
		for _, k := range s.Kmsg {
			if s.Own(k) {
				rec.Kmsg = append(rec.Kmsg, k.Text)
			} else {
				rec.KmsgBackground = append(rec.KmsgBackground, k.Text)
			}
		}
		if i < len(result.Steps) {
			rec.Line = result.Steps[i].Line
			rec.Expected, rec.Mismatches = result.Steps[i].Expected, result.Steps[i].Mismatches
			rec.Stress = result.Steps[i].Stress
		}
		rec.Reports = reports[i]
		out = append(out, rec)
	}
	// The step the guest stopped in (a panic, the agent OOM-killed) has no
	// result from the agent but was judged, and may have the reports that
	// say why: it keeps them, with its error ("no result: …"). Steps after
	// it never ran and have no record.
	if i := len(steps); i < len(result.Steps) {
		o := result.Steps[i]
		out = append(out, StepRecord{
			Line: o.Line, Action: o.Action, Module: o.Module, Flags: o.Flags, Error: o.Error, Kmsg: []string{},
			Expected: o.Expected, Mismatches: o.Mismatches, Reports: reports[i],
		})
	}
	return out
}
