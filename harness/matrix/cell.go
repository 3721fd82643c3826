package matrix

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"modmatrix.dev/modmatrix/harness/kbuild"
	"modmatrix.dev/modmatrix/harness/modbuild"
	"modmatrix.dev/modmatrix/harness/protocol"
	"modmatrix.dev/modmatrix/harness/report"
	"modmatrix.dev/modmatrix/harness/scenario"
	"modmatrix.dev/modmatrix/harness/snapshot"
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
	kos map[string]map[string]string
	// indexes maps scenario name → depmod's index of its modules: file
	// name (modules.dep, …) → path on the host.
	indexes map[string]map[string]string

	// mu guards what the cell's VMs, running at once, report into.
	mu sync.Mutex
	// boots and restores count the VMs that ran scenarios, booted or
	// restored from snap (the cell's snapshot; nil when there is none or
	// it failed to restore). snapNote says why scenarios boot.
	boots, restores int
	snap            *snapshot.Snapshot
	snapNote        string
	bootConsole     string // the snapshot boot's console, in the output
	// looseReports are kernel reports no step accounts for (a leak in no
	// module's memory, a warning while the kernel booted).
	looseReports []verdict.Report
	// notes says, by scenario, why --repeat left it as it was.
	notes map[string]string
	// deferred are the scenarios whose modules wait for another cell's
	// kernel (built_for: {cell: …}), finished while the others run.
	deferred map[string]bool
	// phases is where the cell's time went; config and buildLog are the
	// kernel's .config and build log, copied into the output.
	phases           report.Phases
	config, buildLog string
}

func (r *cellRun) stage(s string) { r.m.cfg.Progress.Stage(r.u.src.Version, r.u.cell.Name, s) }

// prepare builds (or finds) the kernel and builds every scenario's modules.
func (r *cellRun) prepare(ctx context.Context) (*kbuild.Kernel, error) {
	k, err := r.prepareKernel(ctx)
	if err != nil {
		return nil, err
	}
	if err := r.prepareModules(ctx, k); err != nil {
		return nil, err
	}
	// Nothing runs meanwhile here (the shell, a warm-up): every
	// scenario's modules are finished before it returns.
	for _, sc := range r.own {
		if r.deferred[sc.Name] {
			if err := r.finishModules(ctx, k, sc); err != nil {
				return nil, err
			}
		}
	}
	return k, nil
}

// guestImage makes the cell's guest image the shared one plus the
// kernel's own modules its guest loads first (a distribution kernel's
// modular virtio drivers), where it has any.
func (r *cellRun) guestImage(k *kbuild.Kernel) error {
	if len(k.BootModules) == 0 {
		return nil
	}
	img, err := r.base.WithBootModules(k.BootModules, filepath.Join(r.out, "initramfs"))
	if err != nil {
		return err
	}
	r.base = img
	return nil
}

// prepareKernel builds (or finds) the cell's kernel.
func (r *cellRun) prepareKernel(ctx context.Context) (*kbuild.Kernel, error) {
	k, err := r.kernelFor(ctx)
	if err != nil {
		return nil, fmt.Errorf("kernel %s, cell %s: %w", r.u.src.Version, r.u.cell.Name, err)
	}
	return k, nil
}

// prepareModules builds every scenario's modules against k.
func (r *cellRun) prepareModules(ctx context.Context, k *kbuild.Kernel) error {
	var err error
	r.kernel = k
	r.kos = map[string]map[string]string{}
	if err := r.keepKernelFiles(k); err != nil {
		return err
	}
	r.stage("modules")
	r.own = slices.Clone(r.m.scenarios)
	var built map[string]*modbuild.Result
	if k.Modules() {
		if built, err = r.buildFolders(ctx, k); err != nil {
			return err
		}
	}
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
				return err
			}
			r.kos[sc.Name] = kos
			continue
		}
		kos := built[sc.Name].Modules
		if len(r.m.cfg.ModuleDirs) > 0 {
			if kos, err = withImports(kos, built); err != nil {
				return fmt.Errorf("%s: %w", sc.Dir, err)
			}
		}
		r.kos[sc.Name] = kos
		if sc.Generated {
			if r.own[i], err = r.regenerate(sc, kos); err != nil {
				return err
			}
		}
		if len(sc.OtherCells()) > 0 {
			// Its modules wait for that cell's kernel, not the cell's
			// other scenarios: boot finishes them meanwhile.
			if r.deferred == nil {
				r.deferred = map[string]bool{}
			}
			r.deferred[sc.Name] = true
			continue
		}
		if err := r.finishModules(ctx, k, sc); err != nil {
			return err
		}
	}
	r.applyRepeat() // stress.go
	return nil
}

// finishModules builds what a scenario loads besides its folder's own
// modules: the builds for other kernels, the signed and compressed files,
// the depmod index.
func (r *cellRun) finishModules(ctx context.Context, k *kbuild.Kernel, sc *scenario.Scenario) error {
	if err := r.buildForeign(ctx, r.m.cache, k, sc); err != nil {
		return err
	}
	if err := r.makeFiles(ctx, k, sc); err != nil {
		return err
	}
	return r.depmod(ctx, k, sc)
}

// keepKernelFiles copies the kernel's .config and build log into the
// cell's output, so the page links them and an artifact carries them.
func (r *cellRun) keepKernelFiles(k *kbuild.Kernel) error {
	if err := os.MkdirAll(r.out, 0o755); err != nil {
		return err
	}
	type file struct {
		from string
		to   *string
		name string
	}
	var files []file
	if k.Dir != "" {
		files = append(files, file{filepath.Join(k.Dir, ".config"), &r.config, "kernel.config"})
	}
	if k.BuildLog != "" {
		files = append(files, file{k.BuildLog, &r.buildLog, "kernel-build.log"})
	}
	for _, f := range files {
		b, err := os.ReadFile(f.from)
		if errors.Is(err, fs.ErrNotExist) {
			continue // a prebuilt kernel has no tree
		}
		if err != nil {
			return err
		}
		dst := filepath.Join(r.out, f.name)
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			return err
		}
		*f.to = dst
	}
	return nil
}

// buildForeign builds the modules a scenario loads `built_for` another
// kernel: another cell of the same source, or this kernel's tree with
// another LOCALVERSION or another CRC for a symbol.
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
		} else if b.SymbolVersion != "" {
			foreign, err = cache.WithSymbolVersion(ctx, k, b.SymbolVersion)
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

// boot runs each of the cell's scenarios in a VM of its own, restored
// from the cell's snapshot (or booted, where there is none), up to the
// matrix's Jobs at once: every scenario starts from the same pristine
// kernel, and what one does to the kernel touches no other.
func (r *cellRun) boot(ctx context.Context, k *kbuild.Kernel) (report.Cell, []report.ScenarioResult) {
	pending, results := r.runnable()
	start := time.Now()
	if len(pending) > 0 {
		r.snapshot(ctx, k)
	}
	r.phases.SnapshotMS = time.Since(start).Milliseconds()
	start = time.Now()
	out := make([]report.ScenarioResult, len(pending))
	// wg is every scenario; own those that wait for no other cell.
	var wg, own sync.WaitGroup
	waiting := 0
	for i, sc := range pending {
		deferred := r.deferred[sc.Name]
		wg.Add(1)
		if deferred {
			waiting++
		} else {
			own.Add(1)
		}
		go func() {
			defer wg.Done()
			if !deferred {
				defer own.Done()
			} else {
				// The other cell's kernel first; the VM slot only after.
				if err := r.finishModules(ctx, k, sc); err != nil {
					if ctx.Err() != nil {
						out[i] = r.interrupted(sc)
						return
					}
					out[i] = r.bootError(sc, err.Error(), filepath.Join(r.out, sc.Name))
					out[i].ConsoleLog, out[i].EventLog = "", ""
					return
				}
			}
			if !r.m.acquireVM(ctx) {
				out[i] = r.interrupted(sc)
				return
			}
			defer r.m.releaseVM()
			out[i] = r.runScenario(ctx, k, sc)
		}()
	}
	if waiting > 0 {
		// The cell's own verdicts are known before its row is: say them.
		own.Wait()
		var done []report.ScenarioResult
		for i, sc := range pending {
			if !r.deferred[sc.Name] {
				done = append(done, out[i])
			}
		}
		r.stage(fmt.Sprintf("%d scenario(s) done (%s); %d wait for another cell's kernel", len(done), report.Tally(done), waiting))
	}
	wg.Wait()
	r.phases.ScenariosMS = time.Since(start).Milliseconds()
	return r.cellReport(""), append(results, out...)
}

func (r *cellRun) interrupted(sc *scenario.Scenario) report.ScenarioResult {
	return report.ScenarioResult{
		Kernel: r.u.src.Version, Cell: r.u.cell.Name, Scenario: sc.Name,
		Verdict: verdict.Error, Reason: "run interrupted before this scenario ran",
	}
}

func (r *cellRun) cellReport(errText string) report.Cell {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := report.Cell{Kernel: r.u.src.Version, Cell: r.u.cell.Name, Boots: r.boots, Restores: r.restores, Error: errText, Reports: r.looseReports,
		Cmdline: r.u.cell.Cmdline(r.m.base)}
	if r.snap != nil {
		c.SnapshotKey, c.SnapshotCached = r.snap.Meta.Key, r.snap.Cached
	}
	c.SnapshotNote, c.BootConsoleLog = r.snapNote, r.bootConsole
	c.Config, c.BuildLog = r.config, r.buildLog
	phases := r.phases
	c.Phases = &phases
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

// runScenario runs one scenario in a VM of its own: restored from the
// cell's snapshot, or booted when there is none or it fails to restore.
func (r *cellRun) runScenario(ctx context.Context, k *kbuild.Kernel, sc *scenario.Scenario) report.ScenarioResult {
	prefix := filepath.Join(r.out, sc.Name)
	if err := os.MkdirAll(r.out, 0o755); err != nil {
		return r.bootError(sc, err.Error(), prefix)
	}
	plan, kos, steps := r.plan(sc)
	opts := append(r.machine(k),
		vm.WithConsoleLog(prefix+".console.log"),
		vm.WithEventLog(prefix+".events.jsonl"),
		vm.WithTimeout(r.m.cfg.BootTimeout+time.Duration(steps)*2*time.Second+settles(plan)*r.m.cfg.Settle),
		// The agent is silent through a settle window, an oops in it too.
		vm.WithStallAfterOops(15*time.Second+r.m.cfg.Settle),
		vm.WithWork(func(w io.Writer) error { return protocol.WriteWork(w, plan, kos) }),
	)
	if cp, ok := r.m.cfg.Progress.(ConsoleProgress); ok {
		opts = append(opts, vm.WithConsoleHandler(func(line string) { cp.Console(r.u.src.Version, r.u.cell.Name, line) }))
	}
	if snap := r.currentSnapshot(); snap != nil {
		res, err := vm.Boot(ctx, append(opts, snap.RestoreOptions()...)...)
		if err == nil && res != nil && !vm.RestoreFailed(res.Err) {
			r.count(&r.restores)
			return r.judge(sc, res, prefix, "restore")
		}
		if err == nil {
			err = res.Err
		}
		if !vm.RestoreFailed(err) {
			return r.bootError(sc, err.Error(), prefix)
		}
		r.snapshotFailed(snap, err)
		keepFailedRestore(prefix)
	}
	r.count(&r.boots)
	res, err := vm.Boot(ctx, append(opts, vm.WithInitramfs(r.base.Path))...)
	if err != nil {
		return r.bootError(sc, err.Error(), prefix)
	}
	return r.judge(sc, res, prefix, "boot")
}

// keepFailedRestore moves a failed restore's logs aside, so the boot that
// follows does not overwrite what QEMU said.
func keepFailedRestore(prefix string) {
	for _, ext := range []string{".console.log", ".events.jsonl"} {
		_ = os.Rename(prefix+ext, prefix+".restore-failed"+ext)
	}
}

// plan is the agent's plan for one scenario, with the .ko files it needs
// (path in the work → host path) and its number of steps.
func (r *cellRun) plan(sc *scenario.Scenario) (protocol.Plan, map[string]string, int) {
	p := sc.Plan()
	placeModules(sc.Name, p.Steps)
	kos := map[string]string{}
	for mod, ko := range r.kos[sc.Name] {
		kos[protocol.ModuleFile(sc.Name+"/"+mod)] = ko
	}
	r.mu.Lock()
	index := r.indexes[sc.Name] // a deferred scenario's depmod may be writing
	r.mu.Unlock()
	for name, p := range index {
		kos[protocol.IndexFile(name)] = p
	}
	plan := protocol.Plan{Cell: r.u.cell.Name, Scenarios: []protocol.Scenario{p}, SettleMS: int(r.m.cfg.Settle.Milliseconds())}
	return plan, kos, planSteps(p.Steps) // stress.go
}

func (r *cellRun) bootError(sc *scenario.Scenario, reason, prefix string) report.ScenarioResult {
	return report.ScenarioResult{
		Kernel: r.u.src.Version, Cell: r.u.cell.Name, Scenario: sc.Name,
		Verdict: verdict.Error, Reason: reason,
		ConsoleLog: prefix + ".console.log", EventLog: prefix + ".events.jsonl",
	}
}

// settles counts the top-level loads and unloads of a plan: each may wait
// the settle window after it (on the host's clock too, without icount).
func settles(p protocol.Plan) time.Duration {
	var n time.Duration
	for _, sc := range p.Scenarios {
		for _, st := range sc.Steps {
			if st.Action == protocol.ActionLoad || st.Action == protocol.ActionUnload {
				n++
			}
		}
	}
	return n
}
