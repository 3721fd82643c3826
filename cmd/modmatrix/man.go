package main

import (
	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// manCmd writes a man page per command (make install puts them in
// PREFIX/share/man/man1). Hidden: it is for packaging, not for users.
func manCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "man DIR",
		Short:  "Write a man page per command into DIR",
		Hidden: true,
		Long: `Write modmatrix.1 and one page per command (modmatrix-run.1, …) into DIR,
from the same text as --help. make install runs it.` + exitHelp(
			"written", "", "DIR cannot be written", ""),
		Example: `  modmatrix man /usr/local/share/man/man1`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			root.DisableAutoGenTag = true // reproducible pages: no date
			return doc.GenManTree(root, &doc.GenManHeader{Title: "MODMATRIX", Section: "1", Source: "modmatrix"}, args[0])
		},
	}
}
