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
		Short: "Measure kernel build, cache hit, initramfs and boot time per cell against a bare floor",
		Long: `Measure, per kernel × cell, the kernel build (or that it was cached), a cache
hit, packing the initramfs, and the median of --runs boots of the cell
(scenario hello unless --scenarios says otherwise) against the floor: the
same kernel booting an init that reboots at once. Prints a table and
judges nothing.` + exitHelp(
			"the table is printed",
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
			if len(mf.scen) == 0 {
				// One boot of a clean scenario: what the floor compares with.
				mf.scen = []string{"hello"}
			}
			m, err := mf.open(cmd, matrix.WithAccel(a), matrix.WithOut(out))
			if err != nil {
				return err
			}
			return m.Bench(cmd.Context(), os.Stdout, runs)
		},
	}
	mf.register(cmd)
	accel.register(cmd)
	cmd.Flags().IntVar(&runs, "runs", 5, "boots per median")
	cmd.Flags().StringVar(&out, "out", "modmatrix-out", "output folder (bench/ inside it)")
	return cmd
}
