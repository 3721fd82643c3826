package main

import (
	"os"

	"github.com/spf13/cobra"

	"modmatrix.dev/modmatrix/harness/report"
)

func reportCmd() *cobra.Command {
	var outputs outputFlags
	cmd := &cobra.Command{
		Use:   "report OUT",
		Short: "Regenerate junit.xml and index.html (and the table) from OUT/results.json",
		Long: `Regenerate OUT/junit.xml and OUT/index.html from OUT/results.json, and print
the table, for instance after an upgrade of modmatrix or an edit of the
results; --ktap and --summary-md write its other forms. It judges
nothing: the verdicts do not change the exit status.` + exitHelp(
			"regenerated (whatever the verdicts)",
			"",
			"OUT/results.json unreadable, or OUT not writable",
			""),
		Example: `  modmatrix report modmatrix-out
  modmatrix report modmatrix-out --ktap matrix.ktap --summary-md summary.md`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := outputs.check(); err != nil {
				return err
			}
			r, err := report.Read(args[0])
			if err != nil {
				return err
			}
			if err := outputs.write(r); err != nil {
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
	outputs.register(cmd, false)
	return cmd
}
