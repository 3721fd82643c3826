package main

import (
	"os"

	"github.com/spf13/cobra"

	"modmatrix.dev/modmatrix/harness/report"
)

func mergeCmd() *cobra.Command {
	var out string
	var outputs outputFlags
	cmd := &cobra.Command{
		Use:   "merge DIR...",
		Short: "Combine shard outputs (results.json) of one matrix into one",
		Long: `Combine the results.json of the shards of one matrix (the output folders of
modmatrix run --shard I/N, or the files) into --out/results.json, with
its junit.xml and index.html, and print the table.` + exitHelp(
			"merged, and every scenario passed (or was skipped) on every cell",
			"merged, and some cell did not pass",
			"an output unreadable or from another matrix, a kernel × cell in two shards, or --out not writable",
			""),
		Example: `  modmatrix merge shard-1 shard-2 shard-3 shard-4 --out merged
  modmatrix merge out-*/results.json --summary-md "$GITHUB_STEP_SUMMARY"`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, dirs []string) error {
			if err := outputs.check(); err != nil {
				return err
			}
			var parts []*report.Results
			for _, d := range dirs {
				r, err := report.Read(d)
				if err != nil {
					return err
				}
				parts = append(parts, r)
			}
			merged, err := report.Merge(parts)
			if err != nil {
				return err
			}
			if err := merged.Write(out); err != nil {
				return err
			}
			if err := outputs.write(merged); err != nil {
				return err
			}
			if err := merged.WriteTable(os.Stdout); err != nil {
				return err
			}
			if !merged.AllPassed() {
				return errFailed
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "modmatrix-merged", "output folder for the merged results.json")
	outputs.register(cmd, false)
	return cmd
}
