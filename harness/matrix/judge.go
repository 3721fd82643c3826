package matrix

import (
	"os"
	"slices"

	"modmatrix.dev/modmatrix/harness/protocol"
	"modmatrix.dev/modmatrix/harness/report"
	"modmatrix.dev/modmatrix/harness/scenario"
	"modmatrix.dev/modmatrix/harness/verdict"
	"modmatrix.dev/modmatrix/harness/vm"
)

// judge hands one scenario's VM (how it started: "boot" or "restore") to
// verdict.JudgeBoot and turns its outcome into the scenario's result.
func (r *cellRun) judge(sc *scenario.Scenario, res *vm.Result, prefix, started string) report.ScenarioResult {
	boot := verdict.Boot{Events: res.Events, TimedOut: res.TimedOut, Stalled: res.Stalled, Err: res.Err, Duration: res.Duration}
	boot.Console, boot.ConsoleErr = os.ReadFile(prefix + ".console.log")
	exp := verdict.Resolve(sc, r.lookup())
	out := verdict.JudgeBoot(boot, []*verdict.Expected{exp})
	r.addLoose(out.Loose)
	sr := r.bootError(sc, "", prefix)
	sr.Warnings = exp.Unchecked()
	sr.Started, sr.WallMS, sr.ReadyMS = started, res.Duration.Milliseconds(), res.Working.Milliseconds()
	for _, e := range res.Events {
		if e.Kind == protocol.EventBoot && e.Boot != nil {
			sr.Start = &report.Start{Taint: e.Boot.Taint, Modules: append([]string{}, e.Boot.Modules...)}
		}
	}
	if out.Failed != nil {
		sr.Verdict, sr.Reason = out.Failed.Verdict, out.Failed.Reason
		return sr
	}
	so := out.Scenarios[0]
	sr.Note = r.notes[sc.Name]
	sr.Verdict, sr.Reason, sr.DurationMS = so.Verdict, so.Reason, so.DurationMS
	sr.Steps = report.StepRecords(so.Steps, so.Result, so.Reports)
	sr.KUnit = so.Result.KUnit
	return sr
}

// sortResults orders results and cells as the matrix was declared, whatever
// order the parallel boots finished in.
func sortResults(res *report.Results, units []unit, scenarios []*scenario.Scenario) {
	unitIdx := map[[2]string]int{}
	for i, u := range units {
		unitIdx[[2]string{u.src.Version, u.cell.Name}] = i
	}
	scIdx := map[string]int{}
	for i, s := range scenarios {
		scIdx[s.Name] = i
	}
	slices.SortStableFunc(res.Cells, func(a, b report.Cell) int {
		return unitIdx[[2]string{a.Kernel, a.Cell}] - unitIdx[[2]string{b.Kernel, b.Cell}]
	})
	slices.SortStableFunc(res.Results, func(a, b report.ScenarioResult) int {
		if d := scIdx[a.Scenario] - scIdx[b.Scenario]; d != 0 {
			return d
		}
		return unitIdx[[2]string{a.Kernel, a.Cell}] - unitIdx[[2]string{b.Kernel, b.Cell}]
	})
}
