package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"modmatrix.dev/modmatrix/harness/verdict"
)

func explainCmd() *cobra.Command {
	f := shellFlags{cmd: "explain resolves against"}
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "explain SCENARIO --cell NAME",
		Short: "Print what each step of a scenario is expected to do on one cell",
		Long: `Resolve a scenario against one cell's kernel configuration, as a run
judges it there, and print each step's concrete expectations: which
expect blocks' when: held on the cell's resolved .config, and what they
check. The .config comes from the cache, or is resolved in seconds
(tinyconfig, merge, olddefconfig); no kernel is built and nothing boots.

The kernel and cell flags are run's, narrowed to one kernel and one cell
as for shell.` + exitHelp(
			"explained",
			"",
			"bad flag or input (an unknown scenario or cell, a bad fragment), or a missing tool",
			"interrupted (SIGINT, SIGTERM)"),
		Example: `  modmatrix explain noexit --cell force-unload
  modmatrix explain hello --cell unload-off --kernels 6.1
  modmatrix explain mydriver --module ./mydriver --cell debug --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cell, err := f.narrow()
			if err != nil {
				return err
			}
			m, err := f.mf.open(cmd)
			if err != nil {
				return err
			}
			src := m.Sources()[0]
			exp, err := m.Explain(cmd.Context(), src, cell, args[0])
			if err != nil {
				return err
			}
			steps := verdict.Explain(exp)
			if asJSON {
				enc := json.NewEncoder(os.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(steps)
			}
			fmt.Printf("%s on %s %s (%s)\n", exp.Scenario.Name, src.Version, cell, exp.Scenario.File)
			for _, st := range steps {
				fmt.Printf("step %d: %s (line %d)\n", st.Index+1, st.Step, st.Line)
				if len(st.Expected) == 0 {
					fmt.Println("  nothing checked: no expect block applies on this cell")
					continue
				}
				for _, e := range st.Expected {
					fmt.Printf("  %s\n", e)
				}
				fmt.Printf("  (from the expect block%s at line %s)\n", plural(len(st.Blocks)), joinInts(st.Blocks))
			}
			return nil
		},
	}
	f.mf.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the explanation as JSON")
	cmd.Flags().Lookup("cell").Usage = "the cell: NAME in kconfigs/ (e.g. unload), or a cell of your own, NAME=FRAGMENT[,FRAGMENT...] over base.config"
	return cmd
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}
