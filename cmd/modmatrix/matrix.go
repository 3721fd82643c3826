package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"modmatrix.dev/modmatrix/harness/matrix"
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
		Long: `Print the kernel × cell units the flags select (or --shards N shards of them)
as a CI engine's matrix, for one job per entry, each running
modmatrix run --shard I/N (or --kernels and --cells); modmatrix merge
combines their outputs. Inputs are checked as by list; nothing is built.` + exitHelp(
			"the matrix is printed",
			"",
			"bad flag or input (an unknown --format, a scenario file, a cell or kernel)",
			"interrupted (SIGINT, SIGTERM)"),
		Example: `  modmatrix matrix --format github
  modmatrix matrix --format github --shards 4 --kernels 6.12,6.1`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "github" {
				return fmt.Errorf("unknown format %q (want github)", format)
			}
			if err := atLeast("--shards", shards, 0); err != nil {
				return err
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
