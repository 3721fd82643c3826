package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"modmatrix.dev/modmatrix/harness/matrix"
	"modmatrix.dev/modmatrix/harness/report"
)

func matrixCmd() *cobra.Command {
	var (
		mf     matrixFlags
		format string
		shards int
	)
	cmd := &cobra.Command{
		Use:   "matrix",
		Short: "Print the matrix for a CI engine (GitHub Actions strategy.matrix JSON)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "github" {
				return fmt.Errorf("unknown format %q (want github)", format)
			}
			m, err := mf.open(cmd)
			if err != nil {
				return err
			}
			var include []map[string]string
			if shards > 0 {
				for i := 1; i <= shards; i++ {
					include = append(include, map[string]string{"shard": matrix.Shard{Index: i, Total: shards}.String()})
				}
			} else {
				for _, u := range m.Units() {
					include = append(include, map[string]string{"kernel": u.Series, "cell": u.Cell})
				}
			}
			return json.NewEncoder(os.Stdout).Encode(map[string]any{"include": include})
		},
	}
	mf.register(cmd)
	cmd.Flags().StringVar(&format, "format", "github", "output format: github")
	cmd.Flags().IntVar(&shards, "shards", 0, "one entry per shard of N (default: one entry per kernel × cell)")
	return cmd
}

func mergeCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "merge DIR...",
		Short: "Combine shard outputs (results.json) of one matrix into one",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, dirs []string) error {
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
	return cmd
}

func reportCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "report OUT",
		Short: "Regenerate junit.xml and index.html (and the table) from OUT/results.json",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := report.Read(args[0])
			if err != nil {
				return err
			}
			if err := r.WriteJUnit(args[0]); err != nil {
				return err
			}
			if err := r.WriteHTML(args[0]); err != nil {
				return err
			}
			return r.WriteTable(os.Stdout)
		},
	}
}

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
