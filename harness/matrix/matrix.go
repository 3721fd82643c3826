// Package matrix schedules a matrix: which kernel source × Kconfig cell
// units run, in what order, on which kernel (built or found), with which
// modules; each cell's snapshot (package snapshot) and one VM per
// scenario restored from it; it collects what each VM returns and hands
// it to package verdict, which decides.
package matrix

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"modmatrix.dev/modmatrix/harness/distro"
	"modmatrix.dev/modmatrix/harness/kbuild"
	"modmatrix.dev/modmatrix/harness/kconfig"
	"modmatrix.dev/modmatrix/harness/ksrc"
	"modmatrix.dev/modmatrix/harness/modbuild"
	"modmatrix.dev/modmatrix/harness/protocol"
	"modmatrix.dev/modmatrix/harness/report"
	"modmatrix.dev/modmatrix/harness/scenario"
	"modmatrix.dev/modmatrix/harness/vm"
	"modmatrix.dev/modmatrix/initramfs"
	"modmatrix.dev/modmatrix/internal/cacheentry"
)

// Config is a run's settings; build it with Options.
type Config struct {
	RepoDir    string
	KconfigDir string
	ModulesDir string
	CacheDir   string
	OutDir     string
	// Kernels are Debian linux-source series ("6.12"); KernelSrc, when set,
	// replaces them with one kernel tree.
	Kernels   []string
	KernelSrc string
	Cells     []string
	Scenarios []string
	Accel     vm.Accel
	Jobs      int
	// BootTimeout bounds one boot; it grows with the steps it runs.
	BootTimeout time.Duration
	Progress    Progress
	// Shard, when set, runs only its part of the kernel × cell units.
	Shard *Shard
	// ModuleDirs are the user's module folders (replacing ModulesDir's
	// scenarios); ScenarioFile drives the one folder instead of its own file.
	ModuleDirs   []string
	ScenarioFile string
	// Fragments merge into every cell; CellSpecs add cells (NAME=FRAG,...).
	Fragments []string
	CellSpecs []string
	// Prebuilt are prebuilt kernels (--kernel), each run as one cell.
	Prebuilt []string
	// Repeat, above 1, runs each scenario's steps that many times in one
	// boot (see WithRepeat).
	Repeat int
	// NoSnapshot boots every scenario instead of restoring it from its
	// cell's snapshot; NoIcount runs TCG guests on the host's clock.
	NoSnapshot bool
	NoIcount   bool
	// Settle is the guest's wait after every unload and failed load, for
	// what a module left armed to fire inside that step (WithSettle).
	Settle time.Duration
	// Preflight refuses a run whose tools are missing before anything is
	// unpacked or built (WithPreflight).
	Preflight bool
}

// Option configures a run.
type Option func(*Config)

// WithRepo sets the modmatrix checkout (agent source, kconfigs/, modules/).
func WithRepo(dir string) Option {
	return func(c *Config) {
		c.RepoDir, c.KconfigDir, c.ModulesDir = dir, filepath.Join(dir, "kconfigs"), filepath.Join(dir, "modules")
	}
}

// WithModulesDir reads scenarios from dir instead of REPO/modules.
func WithModulesDir(dir string) Option { return func(c *Config) { c.ModulesDir = dir } }

// WithKconfigDir reads cells from dir instead of REPO/kconfigs.
func WithKconfigDir(dir string) Option { return func(c *Config) { c.KconfigDir = dir } }

// WithCache sets the cache folder.
func WithCache(dir string) Option { return func(c *Config) { c.CacheDir = dir } }

// WithOut sets the output folder.
func WithOut(dir string) Option { return func(c *Config) { c.OutDir = dir } }

// WithKernels selects Debian linux-source series.
func WithKernels(series ...string) Option { return func(c *Config) { c.Kernels = series } }

// WithKernelSrc uses one kernel tree instead of Debian's sources.
func WithKernelSrc(dir string) Option { return func(c *Config) { c.KernelSrc = dir } }

// WithCells selects cells by name (all when empty).
func WithCells(names ...string) Option { return func(c *Config) { c.Cells = names } }

// WithScenarios selects scenarios by name (all when empty).
func WithScenarios(names ...string) Option { return func(c *Config) { c.Scenarios = names } }

// WithAccel picks QEMU's accelerator.
func WithAccel(a vm.Accel) Option { return func(c *Config) { c.Accel = a } }

// WithJobs sets how many VMs run at once.
func WithJobs(n int) Option { return func(c *Config) { c.Jobs = n } }

// WithBootTimeout sets the base timeout of one boot.
func WithBootTimeout(d time.Duration) Option { return func(c *Config) { c.BootTimeout = d } }

// WithShard runs one deterministic part of the matrix.
func WithShard(s Shard) Option { return func(c *Config) { c.Shard = &s } }

// WithNoSnapshot boots every scenario instead of restoring its cell's
// snapshot (for debugging the snapshot itself).
func WithNoSnapshot(on bool) Option { return func(c *Config) { c.NoSnapshot = on } }

// WithNoIcount runs TCG guests on the host's clock instead of on
// instruction-counted time that skips the guest's idle waits.
func WithNoIcount(on bool) Option { return func(c *Config) { c.NoIcount = on } }

// DefaultSettle is the wait after an unload or failed load: a module's
// timer or work that fires a second later still lands in that step.
// Under icount an idle guest's wait costs the host almost nothing.
const DefaultSettle = 1500 * time.Millisecond

// WithSettle sets the guest's wait after every unload and failed load
// (0: none), in guest time.
func WithSettle(d time.Duration) Option { return func(c *Config) { c.Settle = d } }

// WithPreflight makes New refuse at once when QEMU, the compiler or a
// kernel build tool is missing, naming the package to install: for the
// commands that boot (run, shell, bench), not for those that only read
// the matrix (list, explain).
func WithPreflight() Option { return func(c *Config) { c.Preflight = true } }

// WithProgress receives progress as the run goes.
func WithProgress(p Progress) Option { return func(c *Config) { c.Progress = p } }

// Progress hears what the run is doing.
type Progress interface {
	// Stage says a unit (kernel × cell) entered a stage.
	Stage(kernel, cell, stage string)
	// CellDone reports a finished unit.
	CellDone(cell report.Cell, results []report.ScenarioResult)
}

// ConsoleProgress also hears every guest console line (modmatrix run -v).
type ConsoleProgress interface {
	Progress
	Console(kernel, cell, line string)
}

// SourceProgress also hears how the unpacking of a Debian kernel source
// goes: the first run on a machine spends half a minute on it.
type SourceProgress interface {
	Progress
	Unpacking(series, tarball string, read, total int64)
}

// Quiet is a Progress that says nothing.
var Quiet Progress = nopProgress{}

type nopProgress struct{}

func (nopProgress) Stage(string, string, string)                  {}
func (nopProgress) CellDone(report.Cell, []report.ScenarioResult) {}

// Matrix is a prepared run: inputs loaded and validated, nothing built yet.
type Matrix struct {
	cfg     Config
	sources []*ksrc.Source
	base    *kconfig.Fragment
	cells   []kconfig.Cell
	// allCells includes the unselected ones a load may be built_for.
	allCells  map[string]kconfig.Cell
	scenarios []*scenario.Scenario
	// folders are all the user's module folders (WithModuleDirs), those
	// --scenarios leaves out too: they are built for their exports.
	folders []*scenario.Scenario
	// cache is shared by every cell, so the compiler is asked its version once.
	cache *kbuild.Cache
	// generated are default scenarios to write into the output folder.
	generated []generated
	// prebuilt are the --kernel kernels (see prebuilt.go).
	prebuilt []*distro.Kernel
	// vmSlots holds one token per VM running (Jobs at most).
	vmSlots chan struct{}
	// image, when set, is the guest image Run uses instead of building
	// one: a bisect's probes (RunCell) share the first one's; probeID is
	// their identity (probeIdentity), computed once.
	image   *initramfs.Base
	probeID string
}

// New loads and validates every input (cells, scenario files, kernel
// sources) so that mistakes surface before any kernel is built.
func New(ctx context.Context, opts ...Option) (*Matrix, error) {
	cfg := Config{
		Kernels:     []string{"6.12"},
		Accel:       vm.AccelAuto,
		Jobs:        runtime.NumCPU(),
		BootTimeout: 60 * time.Second,
		Settle:      DefaultSettle,
		CacheDir:    kbuild.DefaultCacheDir(),
		OutDir:      "modmatrix-out",
		Progress:    nopProgress{},
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.Jobs < 1 {
		cfg.Jobs = 1
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if cfg.Preflight {
		// Kernels are built from source unless prebuilt ones alone were
		// asked for.
		if err := checkTools(len(cfg.Kernels) > 0 || cfg.KernelSrc != ""); err != nil {
			return nil, err
		}
	}
	m := &Matrix{cfg: cfg, cache: kbuild.NewCache(cfg.CacheDir), vmSlots: make(chan struct{}, cfg.Jobs)}
	var err error
	base, all, err := kconfig.LoadCells(cfg.KconfigDir)
	if err != nil {
		return nil, err
	}
	m.base = base
	if all, err = m.userCells(all); err != nil {
		return nil, err
	}
	// --cells may name a command-line cell too.
	if m.cells, err = kconfig.Select(all, cfg.Cells, cfg.KconfigDir); err != nil {
		return nil, err
	}
	m.allCells = map[string]kconfig.Cell{}
	for _, c := range all {
		m.allCells[c.Name] = c
	}
	// Syntax and names first, so a broken file or a misspelt --scenarios
	// costs no source unpacking; the CONFIG symbols are checked once the
	// sources are at hand.
	early, err := m.loadScenarios()
	if err != nil {
		return nil, err
	}
	selected, err := selectScenarios(early, cfg.Scenarios)
	if err != nil {
		return nil, err
	}
	var folders []*scenario.Scenario
	if len(cfg.ModuleDirs) > 0 {
		folders = early
	}
	if err := checkLoadedModules(selected, folders); err != nil {
		return nil, err
	}
	if cfg.KernelSrc != "" {
		src, err := ksrc.Dir(cfg.KernelSrc)
		if err != nil {
			return nil, err
		}
		m.sources = []*ksrc.Source{src}
	} else {
		for _, series := range cfg.Kernels {
			var opts []ksrc.Option
			if sp, ok := cfg.Progress.(SourceProgress); ok {
				opts = append(opts, ksrc.WithUnpacking(func(tarball string, read, total int64) {
					sp.Unpacking(series, tarball, read, total)
				}))
			}
			src, err := ksrc.Debian(ctx, cfg.CacheDir, series, opts...)
			if err != nil {
				return nil, err
			}
			m.sources = append(m.sources, src)
		}
	}
	if err := m.loadPrebuilt(ctx); err != nil {
		return nil, err
	}
	symbols, err := kconfigSymbols(m.sources)
	if err != nil {
		return nil, err
	}
	// Fragments apply to the kernels built from source only.
	if err := m.checkFragmentSymbols(symbols); len(m.sources) > 0 && err != nil {
		return nil, err
	}
	scenarios, err := m.loadScenarios(scenario.WithSymbolChecker(m.knownSymbol(symbols)))
	if err != nil {
		return nil, err
	}
	if m.scenarios, err = selectScenarios(scenarios, cfg.Scenarios); err != nil {
		return nil, err
	}
	if len(cfg.ModuleDirs) > 0 {
		m.folders = scenarios
	}
	if err := m.checkBuiltFor(); err != nil {
		return nil, err
	}
	return m, nil
}

// loadScenarios reads the user's module folders (WithModuleDirs) or else
// every scenario folder of the modules directory.
func (m *Matrix) loadScenarios(opts ...scenario.Option) ([]*scenario.Scenario, error) {
	if len(m.cfg.ModuleDirs) > 0 {
		return m.userScenarios(opts...)
	}
	scs, err := scenario.LoadAll(m.cfg.ModulesDir, opts...)
	if err == nil && len(scs) == 0 {
		return nil, fmt.Errorf("--modules %s: no scenario in it (each is a subfolder with its %s)", m.cfg.ModulesDir, scenario.FileName)
	}
	return scs, err
}

// check refuses options that contradict each other or name something
// twice: mistakes that cost nothing to catch before any source or build.
func (c Config) check() error {
	if c.ScenarioFile != "" && len(c.ModuleDirs) != 1 {
		return fmt.Errorf("--scenario %s needs exactly one --module folder (it has %d)", c.ScenarioFile, len(c.ModuleDirs))
	}
	seen := map[string]bool{}
	for _, n := range c.Scenarios {
		if seen[n] {
			return fmt.Errorf("--scenarios names %s twice", n)
		}
		seen[n] = true
	}
	return nil
}

// checkBuiltFor rejects a load built_for a cell kconfigs/ does not have,
// naming the scenario file and line, before anything is built.
func (m *Matrix) checkBuiltFor() error {
	var errs []error
	for _, sc := range m.scenarios {
		for _, st := range sc.Steps {
			if b := st.BuiltFor; b != nil && b.Cell != "" {
				if _, ok := m.allCells[b.Cell]; !ok {
					errs = append(errs, fmt.Errorf("%s:%d: built_for names cell %q, which %s does not define", sc.File, b.Line, b.Cell, m.cfg.KconfigDir))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// kconfigSymbols is the union of the sources' Kconfig symbols: a predicate
// may name a symbol only one of the kernel versions has.
func kconfigSymbols(sources []*ksrc.Source) (map[string]bool, error) {
	all := map[string]bool{}
	for _, src := range sources {
		syms, err := kconfig.Symbols(src.Dir)
		if err != nil {
			return nil, err
		}
		for s := range syms {
			all[s] = true
		}
	}
	return all, nil
}

func selectScenarios(all []*scenario.Scenario, names []string) ([]*scenario.Scenario, error) {
	if len(names) == 0 {
		return all, nil
	}
	byName := map[string]*scenario.Scenario{}
	var known []string
	for _, s := range all {
		byName[s.Name] = s
		known = append(known, s.Name)
	}
	var out []*scenario.Scenario
	for _, n := range names {
		s, ok := byName[n]
		if !ok {
			return nil, fmt.Errorf("unknown scenario %q (known: %v)", n, known)
		}
		out = append(out, s)
	}
	return out, nil
}

// Cmdline is what cell c adds to its VMs' kernel command line.
func (m *Matrix) Cmdline(c kconfig.Cell) []string { return c.Cmdline(m.base) }

// Cells lists the selected cells; Scenarios the selected scenarios.
func (m *Matrix) Cells() []kconfig.Cell           { return m.cells }
func (m *Matrix) Scenarios() []*scenario.Scenario { return m.scenarios }
func (m *Matrix) Sources() []*ksrc.Source         { return m.sources }

// unit is one kernel source × cell.
type unit struct {
	src  *ksrc.Source
	cell kconfig.Cell
}

// Run builds and boots every unit. It always returns the results gathered so
// far, also when ctx is cancelled; results.json is written before it returns.
func (m *Matrix) Run(ctx context.Context) (*report.Results, error) {
	res := m.newResults()
	res.Swept = sweepDeadRuns(m.cfg.CacheDir)
	out, err := filepath.Abs(m.cfg.OutDir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	if err := m.writeGenerated(); err != nil {
		return nil, err
	}
	imageStart := time.Now()
	base, err := m.guestImage(ctx, out)
	if err != nil {
		return nil, err
	}
	res.ImageMS = time.Since(imageStart).Milliseconds()
	units := m.shardUnits()
	rec := &recorder{res: res, out: out, progress: m.cfg.Progress}
	m.schedule(ctx, units, base, rec)

	res.DurationMS = time.Since(res.Started).Milliseconds()
	res.Interrupted = ctx.Err() != nil
	sortResults(res, units, m.scenarios)
	if err := res.Write(out); err != nil {
		return res, err
	}
	if rec.writeErr != nil {
		return res, rec.writeErr
	}
	if res.Interrupted {
		return res, ctx.Err()
	}
	return res, nil
}

// guestImage is m.image, else the guest image built into out.
func (m *Matrix) guestImage(ctx context.Context, out string) (*initramfs.Base, error) {
	if m.image != nil {
		return m.image, nil
	}
	return initramfs.BuildBase(ctx, m.cfg.RepoDir, filepath.Join(out, "initramfs"))
}

// newResults is results.json's header for this run.
func (m *Matrix) newResults() *report.Results {
	res := &report.Results{
		SchemaVersion: report.SchemaVersion,
		MatrixID:      m.ID(),
		Started:       time.Now(),
		Accel:         string(m.cfg.Accel.Resolve()),
		GuestClock:    m.guestClock(),
	}
	if m.cfg.Repeat > 1 {
		res.Repeat = m.cfg.Repeat
	}
	if m.cfg.Shard != nil {
		res.Shard = m.cfg.Shard.String()
	}
	for _, sc := range m.scenarios {
		info := report.ScenarioInfo{Name: sc.Name, Description: sc.Description}
		if !sc.Generated {
			info.File = sc.File
		}
		res.Scenarios = append(res.Scenarios, info)
	}
	return res
}

// shardUnits are the units this run's shard holds, in matrix order.
func (m *Matrix) shardUnits() []unit {
	var units []unit
	for k, u := range m.units() {
		if m.cfg.Shard == nil || m.cfg.Shard.Holds(k) {
			units = append(units, u)
			m.cfg.Progress.Stage(u.src.Version, u.cell.Name, "queued")
		}
	}
	return units
}

// neededFirst orders the units for building: of each kernel source, the
// cells whose kernel other cells' scenarios load modules built for
// (built_for: {cell: …}) first, since every cell waits for them for its
// last verdicts; the rest as the matrix declares them.
func neededFirst(units []unit, scenarios []*scenario.Scenario) []unit {
	needed := map[string]bool{}
	for _, sc := range scenarios {
		for _, c := range sc.OtherCells() {
			needed[c] = true
		}
	}
	// Within each kernel source: a source's cells still come before the
	// next source's, whose first build is a long one from scratch.
	source := map[*ksrc.Source]int{}
	for _, u := range units {
		if _, ok := source[u.src]; !ok {
			source[u.src] = len(source)
		}
	}
	rank := func(u unit) int {
		if needed[u.cell.Name] {
			return 0
		}
		return 1
	}
	out := slices.Clone(units)
	slices.SortStableFunc(out, func(a, b unit) int {
		return cmp.Or(cmp.Compare(source[a.src], source[b.src]), cmp.Compare(rank(a), rank(b)))
	})
	return out
}

// schedule runs every unit: kernels build one at a time, in order, each
// using every core (and the nearest tree already built); the cells' module
// builds, also one at a time and in order (but for a scenario's modules
// built for another cell's kernel, which its cell's boot finishes while
// its other scenarios run), and the VMs of prepared cells
// (snapshot boots, scenario restores; up to Jobs at once) run alongside. It returns when every unit is recorded (or ctx is done and
// the units started are).
func (m *Matrix) schedule(ctx context.Context, units []unit, base *initramfs.Base, rec *recorder) {
	var wg sync.WaitGroup
	// Module builds go one cell at a time, in order: each uses every core,
	// like a kernel build, and a warm cache (kernels all there) would
	// otherwise start every cell's at once.
	modulesDone := make(chan struct{})
	close(modulesDone)
	for _, u := range neededFirst(units, m.scenarios) {
		if ctx.Err() != nil {
			break
		}
		r := &cellRun{m: m, u: u, out: filepath.Join(rec.out, u.src.Version, u.cell.Name), base: base}
		start := time.Now()
		k, err := r.prepareKernel(ctx)
		r.phases.KernelMS = time.Since(start).Milliseconds()
		if err == nil {
			err = r.guestImage(k)
		}
		if err != nil {
			rec.record(r.failed(err))
			continue
		}
		// The next kernel builds while this one's modules do: a kernel
		// build leaves cores idle in its single-threaded links, configure
		// and modpost, and the module folders of a cell take half a minute.
		prev, done := modulesDone, make(chan struct{})
		modulesDone = done
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-prev
			start := time.Now()
			err := r.prepareModules(ctx, k)
			r.phases.ModulesMS = time.Since(start).Milliseconds()
			close(done)
			if err != nil {
				rec.record(r.failed(err))
				return
			}
			rec.record(r.boot(ctx, k))
		}()
	}
	wg.Wait()
}

// guestClock is what guest durations are measured on (Results.GuestClock).
func (m *Matrix) guestClock() string {
	if !m.cfg.NoIcount && m.cfg.Accel.Resolve() == vm.AccelTCG {
		return "icount"
	}
	return "host"
}

// recorder collects each finished unit into the results, writes the
// partial results.json after each (so a killed run keeps what it did) and
// tells the progress view.
type recorder struct {
	mu       sync.Mutex
	res      *report.Results
	out      string
	progress Progress
	// writeErr is the first failed write of the partial results: a run
	// killed after it would have lost them, which the caller must hear.
	writeErr error
}

func (rec *recorder) record(c report.Cell, rs []report.ScenarioResult) {
	rec.mu.Lock()
	rec.res.Cells = append(rec.res.Cells, c)
	rec.res.Results = append(rec.res.Results, rs...)
	if err := rec.res.Write(rec.out); err != nil && rec.writeErr == nil {
		rec.writeErr = fmt.Errorf("partial results after %s %s: %w", c.Kernel, c.Cell, err)
	}
	rec.mu.Unlock()
	rec.progress.CellDone(c, rs)
}

// sweepDeadRuns removes what killed runs left behind (cache temporaries
// and stages, VM socket folders, shell scratch folders) and lists it.
func sweepDeadRuns(cacheDir string) []string {
	swept := cacheentry.SweepDead(cacheDir)
	for _, prefix := range []string{vm.TempPrefix, ShellTempPrefix} {
		swept = append(swept, cacheentry.SweepTemp(os.TempDir(), prefix)...)
	}
	return swept
}

// ShellTempPrefix names `modmatrix shell`'s scratch folder (with
// cacheentry.Owned), for sweepDeadRuns.
const ShellTempPrefix = "modmatrix-shell"

// checkLoadedModules rejects a load step naming a module that no folder
// builds (its Kbuild's obj-m lines, read before anything is built), naming
// the scenario file and line. A user's folder may load what another
// --module folder builds.
func checkLoadedModules(scenarios, folders []*scenario.Scenario) error {
	built := func(dir string) []string {
		kos, err := modbuild.KbuildModules(dir)
		if err != nil {
			return nil // no obj-m: the build says so, with its own message
		}
		names := make([]string, len(kos))
		for i, ko := range kos {
			names[i] = modbuild.ModuleName(ko)
		}
		return names
	}
	var shared []string
	for _, f := range folders {
		shared = append(shared, built(f.Dir)...)
	}
	var errs []error
	for _, sc := range scenarios {
		own := built(sc.Dir)
		if own == nil {
			continue
		}
		for _, st := range sc.Steps {
			if st.Action != protocol.ActionLoad {
				continue
			}
			name := st.Module
			if st.File != "" {
				name = modbuild.ModuleName(st.File)
			}
			if !slices.Contains(own, name) && !slices.Contains(shared, name) {
				errs = append(errs, fmt.Errorf("%s:%d: load: %s: %s builds no %s.ko (its obj-m: %s)",
					sc.File, st.Line, name, sc.Dir, name, strings.Join(own, ", ")))
			}
		}
	}
	return errors.Join(errs...)
}
