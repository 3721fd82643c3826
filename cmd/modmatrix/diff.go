package main

import (
	"os"

	"github.com/spf13/cobra"

	"modmatrix.dev/modmatrix/harness/report"
)

func diffCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "diff BASE NEW",
		Short: "List every scenario × cell whose verdict or observations changed; exit 1 on a regression",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			base, err := report.Read(args[0])
			if err != nil {
				return err
			}
			cand, err := report.Read(args[1])
			if err != nil {
				return err
			}
			return printDiff(base, cand, args[1])
		},
	}
}

// printDiff prints and saves the changes from base to cand; a regression
// is errFailed (exit 1), fixes alone are not.
func printDiff(base, cand *report.Results, candPath string) error {
	changes := report.Diff(base, cand, report.SameKernels(base, cand))
	if err := report.WriteDiff(os.Stdout, changes); err != nil {
		return err
	}
	if fi, err := os.Stat(candPath); err == nil && fi.IsDir() {
		if err := report.WriteDiffJSON(candPath, changes); err != nil {
			return err
		}
		// The page of the candidate gets a section with the changes.
		cand.Diff = changes
		if err := cand.Write(candPath); err != nil {
			return err
		}
	}
	if report.Regressed(changes) {
		return errFailed
	}
	return nil
}
