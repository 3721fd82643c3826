package matrix

import (
	"modmatrix.dev/modmatrix/harness/kconfig"
	"modmatrix.dev/modmatrix/harness/report"
	"modmatrix.dev/modmatrix/harness/scenario"
	"modmatrix.dev/modmatrix/harness/verdict"
)

// holds tells whether the cell's kernel meets the scenario's `requires`.
func (r *cellRun) holds(sc *scenario.Scenario) bool { return sc.Requires.Holds(r.lookup()) }

// lookup answers the cell's predicate symbols: its kernel's .config and
// version, and the command line its VMs boot with.
func (r *cellRun) lookup() func(string) string {
	return kconfig.Lookup(r.kernel.Config.Value, r.u.src.Version, r.u.cell.Cmdline(r.m.base))
}

// runnable is the scenarios the cell's kernel can run, in order, and a
// SKIP result for each of the others.
func (r *cellRun) runnable() ([]*scenario.Scenario, []report.ScenarioResult) {
	var run []*scenario.Scenario
	var skipped []report.ScenarioResult
	for _, sc := range r.scenarios() {
		if why := r.prebuiltSkip(sc); why != "" {
			skipped = append(skipped, report.ScenarioResult{
				Kernel: r.u.src.Version, Cell: r.u.cell.Name, Scenario: sc.Name, Verdict: verdict.Skip, Reason: why,
			})
			continue
		}
		if r.holds(sc) {
			run = append(run, sc)
			continue
		}
		skipped = append(skipped, report.ScenarioResult{
			Kernel: r.u.src.Version, Cell: r.u.cell.Name, Scenario: sc.Name, Verdict: verdict.Skip,
			Reason: "the kernel does not meet " + sc.Requires.Describe(sc.File),
		})
	}
	return run, skipped
}
