package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"modmatrix.dev/modmatrix/harness/distro"
	"modmatrix.dev/modmatrix/harness/kbuild"
	"modmatrix.dev/modmatrix/harness/matrix"
	"modmatrix.dev/modmatrix/harness/progress"
	"modmatrix.dev/modmatrix/harness/report"
	"modmatrix.dev/modmatrix/harness/vm"
)

// matrixFlags are the flags every command that builds a matrix shares.
type matrixFlags struct {
	repo, modules, kconfigs, cache, kernelSrc string
	kernels, cells, scen                      []string
	// The user's own: module folders, a scenario file, fragments, cells.
	moduleDirs, fragments, cellSpecs []string
	scenarioFile                     string
	// prebuilt are --kernel kernels; alone, they replace the --kernels default.
	prebuilt    []string
	kernelsFlag *pflag.Flag
}

func (f *matrixFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.repo, "repo", "", "modmatrix checkout with kconfigs/ and modules/ (default: found from the working directory)")
	fl.StringVar(&f.modules, "modules", "", "folder of scenarios, one subfolder each (default: REPO/modules)")
	fl.StringVar(&f.kconfigs, "kconfigs", "", "folder of Kconfig fragments, base.config plus one per cell (default: REPO/kconfigs)")
	fl.StringVar(&f.cache, "cache", kbuild.DefaultCacheDir(), "cache folder for kernel sources, builds and modules")
	fl.StringVar(&f.kernelSrc, "kernel-src", "", "kernel tree to use instead of Debian's linux-source packages")
	fl.StringSliceVar(&f.kernels, "kernels", []string{"6.12"}, "Debian linux-source series to test (e.g. 6.12,6.1)")
	fl.StringSliceVar(&f.cells, "cells", nil, "cells to run (default: every fragment in kconfigs/)")
	fl.StringSliceVar(&f.scen, "scenarios", nil, "scenarios to run (default: every folder in modules/)")
	fl.StringArrayVar(&f.moduleDirs, "module", nil, "your out-of-tree module folder (Kbuild or Makefile) to run instead of modules/; repeatable. Its scenario.yaml drives it, else a default scenario (load, check live, unload, check gone, no kernel report)")
	fl.StringVar(&f.scenarioFile, "scenario", "", "scenario file for the one --module folder, instead of its scenario.yaml")
	fl.StringArrayVar(&f.fragments, "kconfig", nil, "Kconfig fragment merged into every cell, last; repeatable")
	fl.StringArrayVar(&f.cellSpecs, "cell", nil, "add a cell: NAME=FRAGMENT[,FRAGMENT...] over base.config; repeatable")
	fl.StringArrayVar(&f.prebuilt, "kernel", nil, "a prebuilt kernel, run as one cell of its own configuration (alone, instead of --kernels' default); repeatable: "+distro.Syntax)
	f.kernelsFlag = fl.Lookup("kernels")
}

func (f *matrixFlags) options() ([]matrix.Option, error) {
	repo := f.repo
	if repo == "" {
		var err error
		if repo, err = findRepo(); err != nil {
			return nil, err
		}
	}
	opts := []matrix.Option{
		matrix.WithRepo(repo),
		matrix.WithCache(f.cache),
		matrix.WithKernels(f.kernels...),
		matrix.WithKernelSrc(f.kernelSrc),
		matrix.WithCells(f.cells...),
		matrix.WithScenarios(f.scen...),
	}
	if f.modules != "" {
		opts = append(opts, matrix.WithModulesDir(f.modules))
	}
	if f.kconfigs != "" {
		opts = append(opts, matrix.WithKconfigDir(f.kconfigs))
	}
	opts = append(opts, matrix.WithModuleDirs(f.moduleDirs...), matrix.WithScenarioFile(f.scenarioFile),
		matrix.WithFragments(f.fragments...), matrix.WithCellSpecs(f.cellSpecs...))
	if len(f.prebuilt) > 0 {
		opts = append(opts, matrix.WithPrebuilt(f.prebuilt...))
		if !f.kernelsFlag.Changed && f.kernelSrc == "" {
			opts = append(opts, matrix.WithKernels())
		}
	}
	return opts, nil
}

// open loads and validates the matrix the flags describe, plus extra options.
func (f *matrixFlags) open(cmd *cobra.Command, extra ...matrix.Option) (*matrix.Matrix, error) {
	opts, err := f.options()
	if err != nil {
		return nil, err
	}
	return matrix.New(cmd.Context(), append(opts, extra...)...)
}

func runCmd() *cobra.Command {
	var (
		mf         matrixFlags
		out        string
		accel      string
		jobs       int
		timeout    time.Duration
		shard      string
		shardTotal int
		baseline   string
		quiet      bool
		verbose    bool
		repeat     int
	)
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Build, boot and judge every scenario on every cell",
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := vm.ParseAccel(accel)
			if err != nil {
				return err
			}
			opts, err := mf.options()
			if err != nil {
				return err
			}
			sh, err := shardOption(shard, shardTotal)
			if err != nil {
				return err
			}
			// A live view in a terminal; plain lines in CI logs and with -v
			// (the console stream would tear a redrawn block apart).
			var p matrix.Progress
			stopProgress := func() {}
			switch {
			case quiet:
				p = matrix.Quiet
			case verbose:
				lines := progress.New(os.Stderr)
				p, stopProgress = progress.Verbose{Lines: lines}, lines.Close
			case progress.IsTerminal(os.Stderr):
				live := progress.NewLive(os.Stderr)
				p, stopProgress = live, live.Close
			default:
				lines := progress.New(os.Stderr)
				p, stopProgress = lines, lines.Close
			}
			defer stopProgress()
			opts = append(opts, matrix.WithOut(out), matrix.WithAccel(a), matrix.WithJobs(jobs),
				matrix.WithBootTimeout(timeout), matrix.WithProgress(p))
			if sh != nil {
				opts = append(opts, matrix.WithShard(*sh))
			}
			if repeat < 0 {
				return fmt.Errorf("--repeat %d: want a count of 1 or more", repeat)
			}
			opts = append(opts, matrix.WithRepeat(repeat))
			m, err := matrix.New(cmd.Context(), opts...)
			if err != nil {
				return err
			}
			res, runErr := m.Run(cmd.Context())
			// The progress view ends before the table: a live block redrawn
			// after it would overwrite its last lines.
			stopProgress()
			if res == nil {
				return runErr
			}
			fmt.Println()
			if err := res.WriteTable(os.Stdout); err != nil {
				return err
			}
			abs, _ := filepath.Abs(out)
			fmt.Printf("\nresults: %s\n", filepath.Join(abs, "results.json"))
			if runErr != nil {
				return runErr
			}
			if baseline != "" {
				base, err := report.Read(baseline)
				if err != nil {
					return err
				}
				fmt.Printf("\nchanges since %s:\n", baseline)
				if err := printDiff(base, res, abs); err != nil {
					return err
				}
			}
			if !res.AllPassed() {
				return errFailed
			}
			return nil
		},
	}
	mf.register(cmd)
	cmd.Flags().StringVar(&out, "out", "modmatrix-out", "output folder for results.json and logs")
	cmd.Flags().StringVar(&accel, "accel", "auto", "QEMU accelerator: auto (KVM only where it really works), tcg or kvm")
	cmd.Flags().IntVarP(&jobs, "jobs", "j", runtime.NumCPU(), "VMs to run at once")
	cmd.Flags().DurationVar(&timeout, "boot-timeout", 60*time.Second, "base timeout of one boot (grows by 2 s per step)")
	cmd.Flags().StringVar(&shard, "shard", "", "run shard I/N of the kernel × cell units (default: from MODMATRIX_SHARD, GitLab's CI_NODE_INDEX/CI_NODE_TOTAL or JOB_COMPLETION_INDEX)")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress lines, only the table")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "also stream every guest console line")
	cmd.Flags().StringVar(&baseline, "baseline", "", "compare with an earlier run's output folder (or results.json): exit 1 on a regression")
	cmd.Flags().IntVar(&shardTotal, "shard-total", 0, "N for a Kubernetes indexed Job's JOB_COMPLETION_INDEX")
	cmd.Flags().IntVar(&repeat, "repeat", 1, "run each scenario's steps N times in one boot, timing each load and unload; a scenario that leaves the kernel dirty on a cell runs once there, with a note")
	return cmd
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

func listCmd() *cobra.Command {
	var mf matrixFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List cells and scenarios (validates every scenario file)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := mf.open(cmd)
			if err != nil {
				return err
			}
			fmt.Println("kernels:")
			for _, s := range m.Sources() {
				fmt.Printf("  %-10s %s\n", s.Version, s.Dir)
			}
			for _, k := range m.Prebuilt() {
				fmt.Printf("  %-10s %s (cell %s, prebuilt: --kernel %s)\n", k.Kernel.Version, k.Kernel.BzImage, k.Spec.Cell, k.Spec.Text)
			}
			fmt.Println("cells:")
			for _, c := range m.Cells() {
				fmt.Printf("  %-14s %s\n", c.Name, c.Description)
			}
			fmt.Println("scenarios:")
			for _, s := range m.Scenarios() {
				fmt.Printf("  %-14s %s\n", s.Name, firstSentence(s.Description))
			}
			return nil
		},
	}
	mf.register(cmd)
	return cmd
}

// firstSentence keeps list output to one line per scenario.
func firstSentence(s string) string {
	if i := strings.Index(s, ". "); i >= 0 {
		return s[:i+1]
	}
	return s
}

// findRepo walks up from the working directory to the modmatrix checkout.
func findRepo() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil &&
			strings.Contains(string(b), "module modmatrix.dev/modmatrix\n") {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no modmatrix checkout above %s: run from the repository or pass --repo", dir)
		}
	}
}
