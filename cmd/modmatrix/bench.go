package main

import (
	"os"

	"github.com/spf13/cobra"

	"modmatrix.dev/modmatrix/harness/matrix"
)

func benchCmd() *cobra.Command {
	var (
		mf    matrixFlags
		accel accelFlag
		runs  int
		out   string
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure a warm matrix's wall time, boots and restores, and each cell's floor boot and cold snapshot",
		Long: `Measure, per kernel × cell, the kernel build (or that it was cached), the
median of --runs floor boots (the same kernel booting an init that reboots
at once) and of --runs cold snapshots (boot to the agent's ready, save).
Then run the whole matrix once to warm it and --runs times more, and print
the median run's wall time, its boots and restores, the restore-to-ready
median and maximum and the scenario VMs' wall median. Judges nothing.` + exitHelp(
			"the figures are printed",
			"",
			"bad flag or input, missing tool, or a build or boot that failed or timed out",
			"interrupted (SIGINT, SIGTERM)"),
		Example: `  modmatrix bench --cells unload
  modmatrix bench --kernels 6.12,6.1 --runs 3 --accel tcg`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := accel.parse()
			if err != nil {
				return err
			}
			if err := atLeast("--runs", runs, 1); err != nil {
				return err
			}
			m, err := mf.open(cmd, matrix.WithAccel(a), matrix.WithOut(out), matrix.WithPreflight())
			if err != nil {
				return err
			}
			return m.Bench(cmd.Context(), os.Stdout, runs)
		},
	}
	mf.register(cmd)
	accel.register(cmd)
	cmd.Flags().IntVar(&runs, "runs", 3, "floor boots, cold snapshots and warm matrix runs per median")
	cmd.Flags().StringVar(&out, "out", "modmatrix-out", "output folder (bench/ inside it)")
	return cmd
}
