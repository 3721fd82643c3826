package matrix

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"modmatrix.dev/modmatrix/harness/kbuild"
	"modmatrix.dev/modmatrix/harness/modbuild"
	"modmatrix.dev/modmatrix/harness/protocol"
	"modmatrix.dev/modmatrix/harness/report"
	"modmatrix.dev/modmatrix/harness/scenario"
	"modmatrix.dev/modmatrix/harness/verdict"
	"modmatrix.dev/modmatrix/harness/vm"
	"modmatrix.dev/modmatrix/initramfs"
)

// cellRun is one kernel source × cell going through build and boots.
type cellRun struct {
	m    *Matrix
	u    unit
	out  string
	base *initramfs.Base

	kernel *kbuild.Kernel
	// own is the matrix's scenarios as this kernel runs them: a generated
	// scenario is made again from the modules built for it.
	own []*scenario.Scenario
	// kos maps scenario name → module name → .ko on the host.
	kos   map[string]map[string]string
	boots int
	// looseReports are kernel reports no step accounts for (a leak in no
	// module's memory).
	looseReports []verdict.Report
	// notes says, by scenario, why --repeat left it as it was.
	notes map[string]string
}

func (r *cellRun) stage(s string) { r.m.cfg.Progress.Stage(r.u.src.Version, r.u.cell.Name, s) }

// prepare builds (or finds) the kernel and builds every scenario's modules.
func (r *cellRun) prepare(ctx context.Context) (*kbuild.Kernel, error) {
	cache := r.m.cache
	k, err := r.kernelFor(ctx)
	if err != nil {
		return nil, fmt.Errorf("kernel %s, cell %s: %w", r.u.src.Version, r.u.cell.Name, err)
	}
	r.kernel = k
	r.kos = map[string]map[string]string{}
	r.stage("modules")
	r.own = slices.Clone(r.m.scenarios)
	for i, sc := range r.own {
		if !r.holds(sc) || r.prebuiltSkip(sc) != "" {
			continue // SKIP: its modules may not even link against k
		}
		if !k.Modules() {
			// No module can be built for a MODULES=n kernel; the kernel
			// refuses finit_module before reading the file, so an empty
			// placeholder stands in for each module the scenario loads.
			kos, err := placeholders(sc, filepath.Join(r.out, "placeholder", sc.Name))
			if err != nil {
				return nil, err
			}
			r.kos[sc.Name] = kos
			continue
		}
		built, err := modbuild.Build(ctx, k, r.u.src.Dir, sc.Dir, modbuild.WithCache(r.m.cfg.CacheDir))
		if err != nil {
			return nil, err
		}
		r.kos[sc.Name] = built.Modules
		if sc.Generated {
			if r.own[i], err = r.regenerate(sc, built); err != nil {
				return nil, err
			}
		}
		if err := r.buildForeign(ctx, cache, k, sc); err != nil {
			return nil, err
		}
	}
	r.applyRepeat() // stress.go
	return k, nil
}

// buildForeign builds the modules a scenario loads `built_for` another
// kernel: another cell of the same source, or this kernel's tree with
// another LOCALVERSION.
func (r *cellRun) buildForeign(ctx context.Context, cache *kbuild.Cache, k *kbuild.Kernel, sc *scenario.Scenario) error {
	for _, st := range sc.Steps {
		b := st.BuiltFor
		if b == nil {
			continue
		}
		foreign := k
		var err error
		if b.Cell != "" {
			cell := r.m.allCells[b.Cell]
			r.stage("modules built for cell " + b.Cell)
			foreign, err = cache.Kernel(ctx, r.u.src, cell.Name, cell.Frags(r.m.base), kbuild.WithProgress(r.stage))
		} else {
			foreign, err = cache.WithLocalVersion(ctx, k, b.LocalVersion)
		}
		if err != nil {
			return fmt.Errorf("%s:%d: built_for: %w", sc.File, b.Line, err)
		}
		if !foreign.Modules() {
			return fmt.Errorf("%s:%d: built_for cell %s, which has no module support", sc.File, b.Line, b.Cell)
		}
		built, err := modbuild.Build(ctx, foreign, r.u.src.Dir, sc.Dir, modbuild.WithCache(r.m.cfg.CacheDir))
		if err != nil {
			return err
		}
		file := st.Plan().File
		ko, ok := built.Modules[st.Module]
		if !ok {
			return fmt.Errorf("%s:%d: the build has no module %s", sc.File, st.Line, st.Module)
		}
		r.kos[sc.Name][strings.TrimSuffix(file, ".ko")] = ko
	}
	return nil
}

// placeModules points the load steps (a loop's too) at the scenario's
// module folder in the image.
func placeModules(scenario string, steps []protocol.Step) {
	for i, st := range steps {
		for _, l := range st.Loops {
			placeModules(scenario, l.Steps)
		}
		if st.Action == protocol.ActionLoad {
			file := st.File
			if file == "" {
				file = st.Module + ".ko"
			}
			// Each scenario's modules live in a folder of their own.
			steps[i].File = scenario + "/" + file
			// Where the module's code is, to name it in a kmemleak
			// backtrace after it is gone.
			steps[i].Sysfs = append(steps[i].Sysfs, "sections/.init.text")
		}
	}
}

// placeholders writes them: a missing one would turn the kernel's ENOSYS
// into the agent's "no such file", an ERROR instead of the verdict.
func placeholders(sc *scenario.Scenario, dir string) (map[string]string, error) {
	out := map[string]string{}
	for _, st := range sc.FlatSteps() {
		if st.Action == protocol.ActionLoad {
			file := st.Plan().File
			p := filepath.Join(dir, file)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return nil, fmt.Errorf("placeholder for %s: %w", file, err)
			}
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				return nil, fmt.Errorf("placeholder for %s: %w", file, err)
			}
			out[strings.TrimSuffix(file, ".ko")] = p
		}
	}
	return out, nil
}

// boot runs the cell's scenarios in as few boots as their state allows: a
// boot ends early when a scenario leaves the kernel dirty, and the rest go
// on in a fresh one.
func (r *cellRun) boot(ctx context.Context, k *kbuild.Kernel) (report.Cell, []report.ScenarioResult) {
	pending, results := r.runnable()
	for len(pending) > 0 && ctx.Err() == nil {
		batch := nextBatch(pending)
		r.boots++
		done, rs := r.runBoot(ctx, k, batch)
		results = append(results, rs...)
		if done == 0 {
			// The boot ran nothing: retrying would loop. Everything left
			// inherits the reason.
			for _, sc := range pending[len(rs):] {
				results = append(results, r.notRun(sc, rs))
			}
			pending = nil
			break
		}
		pending = pending[done:]
	}
	for _, sc := range pending {
		results = append(results, report.ScenarioResult{
			Kernel: r.u.src.Version, Cell: r.u.cell.Name, Scenario: sc.Name,
			Verdict: verdict.Error, Reason: "run interrupted before this scenario ran",
		})
	}
	return r.cellReport(""), results
}

// nextBatch is the scenarios the next boot runs: one that wants a boot of
// its own alone, else every scenario up to the next such one.
func nextBatch(pending []*scenario.Scenario) []*scenario.Scenario {
	if pending[0].OwnBoot {
		return pending[:1]
	}
	for i, sc := range pending {
		if sc.OwnBoot {
			return pending[:i]
		}
	}
	return pending
}

func (r *cellRun) notRun(sc *scenario.Scenario, prior []report.ScenarioResult) report.ScenarioResult {
	reason := "not run: the boot failed before reaching it"
	if len(prior) > 0 {
		reason = fmt.Sprintf("not run: boot %d ended without reaching it (%s)", r.boots, prior[len(prior)-1].Reason)
	}
	return report.ScenarioResult{Kernel: r.u.src.Version, Cell: r.u.cell.Name, Scenario: sc.Name, Verdict: verdict.Error, Reason: reason, Boot: r.boots}
}

func (r *cellRun) cellReport(errText string) report.Cell {
	c := report.Cell{Kernel: r.u.src.Version, Cell: r.u.cell.Name, Boots: r.boots, Error: errText, Reports: r.looseReports}
	if r.kernel != nil {
		c.KernelKey, c.KernelCached, c.KernelBuildMS = r.kernel.Key, r.kernel.Cached, r.kernel.BuildTime.Milliseconds()
	}
	return c
}

// failed reports a unit that could not run: every scenario gets ERROR.
func (r *cellRun) failed(err error) (report.Cell, []report.ScenarioResult) {
	var rs []report.ScenarioResult
	for _, sc := range r.scenarios() {
		rs = append(rs, report.ScenarioResult{
			Kernel: r.u.src.Version, Cell: r.u.cell.Name, Scenario: sc.Name,
			Verdict: verdict.Error, Reason: err.Error(),
		})
	}
	return r.cellReport(err.Error()), rs
}

// runBoot boots once with batch and returns how many scenarios of batch
// reached a verdict, and those verdicts (in batch order).
func (r *cellRun) runBoot(ctx context.Context, k *kbuild.Kernel, batch []*scenario.Scenario) (int, []report.ScenarioResult) {
	r.stage(fmt.Sprintf("boot %d (%d scenario(s))", r.boots, len(batch)))
	prefix := filepath.Join(r.out, fmt.Sprintf("boot-%d", r.boots))
	if err := os.MkdirAll(r.out, 0o755); err != nil {
		return 0, []report.ScenarioResult{r.bootError(batch[0], err.Error(), prefix)}
	}
	plan, kos, steps := r.plan(batch)
	image := prefix + ".initramfs.cpio"
	if err := r.base.Boot(plan, kos, image); err != nil {
		return 0, []report.ScenarioResult{r.bootError(batch[0], err.Error(), prefix)}
	}
	defer os.Remove(image)

	kernel, pvh := k.BootImage()
	timeout := r.m.cfg.BootTimeout + time.Duration(steps)*2*time.Second
	var console vm.Option
	if cp, ok := r.m.cfg.Progress.(ConsoleProgress); ok {
		console = vm.WithConsoleHandler(func(line string) { cp.Console(r.u.src.Version, r.u.cell.Name, line) })
	}
	res, err := vm.Boot(ctx,
		console,
		vm.WithKernel(kernel, pvh),
		vm.WithInitramfs(image),
		vm.WithConsoleLog(prefix+".console.log"),
		vm.WithEventLog(prefix+".events.jsonl"),
		vm.WithTimeout(timeout),
		vm.WithAccel(r.m.cfg.Accel),
		vm.WithStallAfterOops(15*time.Second),
	)
	if err != nil {
		return 0, []report.ScenarioResult{r.bootError(batch[0], err.Error(), prefix)}
	}
	return r.judge(batch, res, prefix)
}

// plan is the agent's plan for batch, with the .ko files it needs (archive
// path → host path) and its number of steps.
func (r *cellRun) plan(batch []*scenario.Scenario) (protocol.Plan, map[string]string, int) {
	plan := protocol.Plan{Cell: r.u.cell.Name, Boot: r.boots}
	kos := map[string]string{}
	steps := 0
	for _, sc := range batch {
		p := sc.Plan()
		placeModules(sc.Name, p.Steps)
		steps += planSteps(p.Steps) // stress.go
		plan.Scenarios = append(plan.Scenarios, p)
		for mod, ko := range r.kos[sc.Name] {
			kos[sc.Name+"/"+mod] = ko
		}
	}
	return plan, kos, steps
}

func (r *cellRun) bootError(sc *scenario.Scenario, reason, prefix string) report.ScenarioResult {
	return report.ScenarioResult{
		Kernel: r.u.src.Version, Cell: r.u.cell.Name, Scenario: sc.Name, Boot: r.boots,
		Verdict: verdict.Error, Reason: reason,
		ConsoleLog: prefix + ".console.log", EventLog: prefix + ".events.jsonl",
	}
}
