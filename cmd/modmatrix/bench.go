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
