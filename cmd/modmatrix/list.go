package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func listCmd() *cobra.Command {
	var mf matrixFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List cells and scenarios (validates every scenario file)",
		Long: `List the kernels, cells and scenarios the flags select, as run would take
them: every scenario file and Kconfig fragment is read and checked, and
the kernels are found (a source unpacked, a prebuilt --kernel downloaded
into the cache on first use), but nothing is built.` + exitHelp(
			"listed: every input is valid",
			"",
			"bad flag or input (a scenario file, a fragment, an unknown cell or kernel), or a missing tool",
			"interrupted (SIGINT, SIGTERM)"),
		Example: `  modmatrix list
  modmatrix list --kernels 6.12,6.1 --cells unload,debug
  modmatrix list --module ./mydriver --scenario ./mydriver/stress.yaml`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := mf.open(cmd)
			if err != nil {
				return err
			}
			fmt.Println("kernels:")
			for _, s := range m.Sources() {
				fmt.Printf("  %-10s %s\n", s.Version, s.Dir)
			}
			for _, k := range m.Prebuilt() {
				fmt.Printf("  %-10s %s (cell %s, prebuilt: --kernel %s)\n", k.Kernel.Version, k.Kernel.BzImage, k.Spec.Cell, k.Spec.Text)
			}
			fmt.Println("cells:")
			for _, c := range m.Cells() {
				fmt.Printf("  %-14s %s\n", c.Name, c.Description)
				if args := m.Cmdline(c); len(args) > 0 {
					fmt.Printf("  %-14s boots with %s\n", "", strings.Join(args, " "))
				}
			}
			fmt.Println("scenarios:")
			for _, s := range m.Scenarios() {
				fmt.Printf("  %-14s %s\n", s.Name, firstSentence(s.Description))
			}
			return nil
		},
	}
	mf.register(cmd)
	return cmd
}

// firstSentence keeps list output to one line per scenario.
func firstSentence(s string) string {
	if i := strings.Index(s, ". "); i >= 0 {
		return s[:i+1]
	}
	return s
}
