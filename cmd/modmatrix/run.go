package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"modmatrix.dev/modmatrix/harness/matrix"
	"modmatrix.dev/modmatrix/harness/progress"
	"modmatrix.dev/modmatrix/harness/report"
)

// runFlags are run's flags: the matrix's, and how to run and report it.
type runFlags struct {
	mf         matrixFlags
	out        string
	accel      accelFlag
	jobs       int
	timeout    time.Duration
	shard      string
	shardTotal int
	baseline   string
	base       *report.Results // --baseline's, read first
	quiet      bool
	verbose    bool
	repeat     int
	noSnapshot bool
	noIcount   bool
	settle     time.Duration
	outputs    outputFlags
	bisectExit bool
}

func runCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Build, boot and judge every scenario on every cell",
		Long: `Build (or take from the cache) the kernel of every kernel × cell, build the
scenarios' modules against it, boot it in QEMU with the agent, and judge
every scenario on every cell. Prints the table; writes results.json,
junit.xml and index.html to --out, and the matrix as KTAP (--ktap) or
Markdown (--summary-md) where asked. With --bisect-exit it exits as git
bisect run wants instead (see below).` + exitHelp(
			"every scenario passed (or was skipped) on every cell, and no regression since --baseline",
			"some cell did not pass (FAIL, ERROR, HANG or CRASH, a kernel or module build that failed, or nothing ran), or --baseline found a regression",
			"the harness could not run: bad flag or input, missing tool, a failure before any result",
			"interrupted (SIGINT, SIGTERM): the results so far are written, no QEMU is left") + `

With --bisect-exit (one kernel × cell), as git bisect run reads them:
  0    good: every scenario passed (or was skipped)
  1    bad: a scenario failed, hung or crashed the kernel
  125  skip this commit: the kernel or modules did not build, it did not
       boot, or a scenario could not be judged (ERROR)
  128  stop the bisect: bad input or a missing tool, no commit to blame`,
		Example: `  modmatrix run
  modmatrix run --kernels 6.12,6.1 --cells unload,debug --scenarios hello
  modmatrix run --module ./mydriver --cell kasan=kconfigs/unload.config,kasan.config --cells kasan
  modmatrix run --module ./mydriver --kernel debian-cloud-6.12
  modmatrix run --shard 2/4 --out shard-2 --baseline last-run/
  modmatrix run --ktap matrix.ktap --summary-md "$GITHUB_STEP_SUMMARY"
  git bisect run modmatrix run --kernel-src . --cells unload --scenarios noexit --bisect-exit`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.run(cmd)
		},
	}
	f.register(cmd)
	return cmd
}

func (f *runFlags) register(cmd *cobra.Command) {
	f.mf.register(cmd)
	cmd.Flags().StringVar(&f.out, "out", "modmatrix-out", "output folder for results.json and logs")
	f.accel.register(cmd)
	cmd.Flags().IntVarP(&f.jobs, "jobs", "j", runtime.NumCPU(), "VMs to run at once")
	cmd.Flags().DurationVar(&f.timeout, "boot-timeout", 60*time.Second, "base timeout of one boot (grows by 2 s per step)")
	cmd.Flags().StringVar(&f.shard, "shard", "", "run shard I/N of the kernel × cell units (default: from MODMATRIX_SHARD, GitLab's CI_NODE_INDEX/CI_NODE_TOTAL or JOB_COMPLETION_INDEX)")
	cmd.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "no progress lines, only the table")
	cmd.Flags().BoolVarP(&f.verbose, "verbose", "v", false, "also stream every guest console line")
	cmd.Flags().StringVar(&f.baseline, "baseline", "", "compare with an earlier run's output folder (or results.json): exit 1 on a regression")
	cmd.Flags().IntVar(&f.shardTotal, "shard-total", 0, "N for a Kubernetes indexed Job's JOB_COMPLETION_INDEX")
	cmd.Flags().BoolVar(&f.noSnapshot, "no-snapshot", false, "boot every scenario instead of restoring it from its cell's snapshot (to debug the snapshot itself)")
	cmd.Flags().BoolVar(&f.noIcount, "no-icount", false, "run TCG guests on the host's clock; by default they count instructions and skip idle waits (kmemleak's 5 s, watchdogs) in no wall time")
	cmd.Flags().DurationVar(&f.settle, "settle", matrix.DefaultSettle, "guest time to wait after every unload and failed load, so that a timer or work item the module left armed fires inside that step (0: no wait)")
	f.outputs.register(cmd, os.Getenv("GITHUB_ACTIONS") == "true")
	cmd.Flags().BoolVar(&f.bisectExit, "bisect-exit", false, "exit as git bisect run wants, for one kernel × cell: 0 good (every scenario passed), 1 bad (one failed, hung or crashed), 125 skip (the kernel or modules did not build or boot, or a scenario could not be judged), 128 stop (bad input, a missing tool)")
	cmd.Flags().IntVar(&f.repeat, "repeat", 1, "run each scenario's steps N times in one VM, timing each load and unload; a scenario that leaves the kernel dirty on a cell runs once there, with a note")
}

// run builds, boots and judges the matrix with progress on stderr, then
// prints the table.
func (f *runFlags) run(cmd *cobra.Command) error {
	err := f.runMatrix(cmd)
	var failed *exitError
	if f.bisectExit && err != nil && !errors.As(err, &failed) && cmd.Context().Err() == nil {
		// The harness could not run: no commit is to blame, so git
		// bisect run stops instead of marking this one bad.
		return &exitError{code: bisectAbort, err: err}
	}
	return err
}

func (f *runFlags) runMatrix(cmd *cobra.Command) error {
	if f.bisectExit {
		// One kernel × cell, checked before anything is unpacked.
		one := shellFlags{mf: f.mf, cmd: "--bisect-exit judges"}
		if _, err := one.narrow(); err != nil {
			return err
		}
		f.mf = one.mf
	}
	opts, err := f.options(cmd.Context())
	if err != nil {
		return err
	}
	if err := atLeast("--repeat", f.repeat, 1); err != nil {
		return err
	}
	if err := f.outputs.check(); err != nil {
		return err
	}
	// An earlier run to compare with must be readable before this one
	// costs anything.
	if f.baseline != "" {
		if f.base, err = report.Read(f.baseline); err != nil {
			return fmt.Errorf("--baseline: %w", err)
		}
	}
	p, stopProgress := newProgress(f.quiet, f.verbose)
	defer stopProgress()
	opts = append(opts, matrix.WithProgress(p), matrix.WithRepeat(f.repeat))
	m, err := matrix.New(cmd.Context(), append(opts, matrix.WithPreflight())...)
	if err != nil {
		return err
	}
	if n := len(m.Units()); f.bisectExit && n != 1 {
		return fmt.Errorf("--bisect-exit judges one kernel × cell, and this run has %d: narrow it with --cells NAME (and one kernel)", n)
	}
	res, runErr := m.Run(cmd.Context())
	// The progress view ends before the table: a live block redrawn
	// after it would overwrite its last lines.
	stopProgress()
	if res == nil {
		return runErr
	}
	return f.printResults(res, runErr)
}

// options are the matrix the flags describe, run where --out, --accel,
// --jobs, --boot-timeout and --shard say.
func (f *runFlags) options(ctx context.Context) ([]matrix.Option, error) {
	a, err := f.accel.parse()
	if err != nil {
		return nil, err
	}
	if err := atLeast("-j/--jobs", f.jobs, 1); err != nil {
		return nil, err
	}
	opts, err := f.mf.options(ctx)
	if err != nil {
		return nil, err
	}
	if f.settle < 0 {
		return nil, fmt.Errorf("--settle %s: a wait cannot be negative (0 turns it off)", f.settle)
	}
	sh, err := shardOption(f.shard, f.shardTotal)
	if err != nil {
		return nil, err
	}
	opts = append(opts, matrix.WithOut(f.out), matrix.WithAccel(a), matrix.WithJobs(f.jobs),
		matrix.WithBootTimeout(f.timeout), matrix.WithNoSnapshot(f.noSnapshot), matrix.WithNoIcount(f.noIcount),
		matrix.WithSettle(f.settle))
	if sh != nil {
		opts = append(opts, matrix.WithShard(*sh))
	}
	return opts, nil
}

// newProgress is a live view in a terminal; plain lines in CI logs and with
// -v (the console stream would tear a redrawn block apart). stop ends it.
func newProgress(quiet, verbose bool) (p matrix.Progress, stop func()) {
	switch {
	case quiet:
		return matrix.Quiet, func() {}
	case verbose:
		lines := progress.New(os.Stderr)
		return progress.Verbose{Lines: lines}, lines.Close
	case progress.IsTerminal(os.Stderr):
		live := progress.NewLive(os.Stderr)
		return live, live.Close
	default:
		lines := progress.New(os.Stderr)
		return lines, lines.Close
	}
}

// printResults prints the table and where results.json is, then the
// changes since --baseline. A run that failed (runErr), a cell that did not
// pass or a regression is the error.
func (f *runFlags) printResults(res *report.Results, runErr error) error {
	// Partial results too: an interrupted run's KTAP says what ran.
	if err := f.outputs.write(res); err != nil {
		return err
	}
	fmt.Println()
	if err := res.WriteTable(os.Stdout); err != nil {
		return err
	}
	abs, _ := filepath.Abs(f.out)
	fmt.Printf("\n%s\nresults: %s\n", res.Summary(), filepath.Join(abs, "results.json"))
	if n := len(res.Swept); n > 0 {
		fmt.Printf("removed %d leftover(s) of runs that were killed (results.json lists them)\n", n)
	}
	if runErr != nil {
		return runErr
	}
	if f.bisectExit {
		answer, why := res.Bisect()
		code := bisectExit[answer]
		fmt.Printf("\nbisect: %s (exit %d)\n", why, code)
		if code == bisectGood {
			return nil
		}
		return &exitError{code: code, err: errors.New(why)}
	}
	if f.base != nil {
		fmt.Printf("\nchanges since %s:\n", f.baseline)
		if err := printDiff(f.base, res, abs); err != nil {
			return err
		}
	}
	if !res.AllPassed() {
		return errFailed
	}
	return nil
}

// shardOption is --shard, else what the CI engine's environment says.
func shardOption(flag string, total int) (*matrix.Shard, error) {
	if flag != "" {
		s, err := matrix.ParseShard(flag)
		return &s, err
	}
	s, ok, err := matrix.ShardFromEnv(matrix.OSEnv, total)
	if !ok || err != nil {
		return nil, err
	}
	return &s, nil
}
