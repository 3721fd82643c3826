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
		Long: `Compare two runs (output folders or results.json files): every scenario ×
cell whose verdict or observations (errno, /proc/modules state, taint,
kmsg, kernel reports) changed, as a table. When NEW is a folder, diff also
writes into it: NEW/diff.json, and NEW's results.json and index.html
rewritten with the changes added (a "diff" field and a section); give NEW
as its results.json file to write nothing. Runs on different kernel
versions are matched by cell.` + exitHelp(
			"no regression: nothing changed, or only fixes",
			"a regression: PASS became something else, or an observation changed while both passed",
			"BASE or NEW unreadable, or NEW not writable",
			""),
		Example: `  modmatrix diff last-run modmatrix-out
  modmatrix diff base/results.json new/results.json`,
		Args: cobra.ExactArgs(2),
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
