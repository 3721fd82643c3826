package matrix

import (
	"os"
	"slices"

	"modmatrix.dev/modmatrix/harness/kconfig"
	"modmatrix.dev/modmatrix/harness/report"
	"modmatrix.dev/modmatrix/harness/scenario"
	"modmatrix.dev/modmatrix/harness/verdict"
	"modmatrix.dev/modmatrix/harness/vm"
)

// judge hands one boot to verdict.JudgeBoot and turns its outcome into
// results. It returns how many scenarios of batch got a verdict; the rest
// go to the next boot.
func (r *cellRun) judge(batch []*scenario.Scenario, res *vm.Result, prefix string) (int, []report.ScenarioResult) {
	boot := verdict.Boot{Events: res.Events, TimedOut: res.TimedOut, Stalled: res.Stalled, Err: res.Err, Duration: res.Duration}
	boot.Console, boot.ConsoleErr = os.ReadFile(prefix + ".console.log")
	lookup := kconfig.Lookup(r.kernel.Config.Value, r.u.src.Version)
	resolved := make([]*verdict.Expected, len(batch))
	for i, sc := range batch {
		resolved[i] = verdict.Resolve(sc, lookup)
	}
	out := verdict.JudgeBoot(boot, resolved)
	r.looseReports = append(r.looseReports, out.Loose...)
	if out.Failed != nil {
		sr := r.bootError(batch[0], out.Failed.Reason, prefix)
		sr.Verdict = out.Failed.Verdict
		return 0, []report.ScenarioResult{sr}
	}
	var results []report.ScenarioResult
	for i, so := range out.Scenarios {
		sc := batch[i]
		results = append(results, report.ScenarioResult{
			Kernel: r.u.src.Version, Cell: r.u.cell.Name, Scenario: sc.Name, Boot: r.boots,
			ConsoleLog: prefix + ".console.log", EventLog: prefix + ".events.jsonl",
			Note:    r.notes[sc.Name],
			Verdict: so.Verdict, Reason: so.Reason, DurationMS: so.DurationMS,
			Steps: report.StepRecords(so.Steps, so.Result, so.Reports),
			KUnit: so.Result.KUnit,
		})
	}
	return len(results), results
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
