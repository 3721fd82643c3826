package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"modmatrix.dev/modmatrix/harness/matrix"
	"modmatrix.dev/modmatrix/harness/progress"
	"modmatrix.dev/modmatrix/harness/report"
	"modmatrix.dev/modmatrix/harness/vm"
)

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
