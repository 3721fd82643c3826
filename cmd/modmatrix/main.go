// Command modmatrix builds a Linux kernel per Kconfig cell, boots each in
// QEMU with the test modules and an agent, and prints a verdict per
// scenario × cell.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes, documented in the README.
const (
	exitPass        = 0
	exitFail        = 1 // some cell is not PASS
	exitHarness     = 2 // the harness could not run (bad input, missing tool)
	exitInterrupted = 130
)

// rootCmd is modmatrix with every command.
func rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "modmatrix",
		Short:         "Boot real kernels per Kconfig cell and check how they load and unload modules",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(runCmd(), listCmd(), explainCmd(), bisectConfigCmd(), benchCmd(), matrixCmd(), mergeCmd(), reportCmd(), diffCmd(), shellCmd(), cacheCmd(), versionCmd(), manCmd())
	return root
}

// exitHelp is the end of a command's Long help: what each exit status
// the command can return means for it. An empty text leaves the status
// out (a command that judges nothing never returns exitFail; one that
// does not watch the context finishes its work when interrupted).
func exitHelp(pass, fail, harness, interrupted string) string {
	var b strings.Builder
	b.WriteString("\n\nExit status:")
	for _, s := range []struct {
		code int
		text string
	}{{exitPass, pass}, {exitFail, fail}, {exitHarness, harness}, {exitInterrupted, interrupted}} {
		if s.text != "" {
			fmt.Fprintf(&b, "\n  %-4d %s", s.code, s.text)
		}
	}
	return b.String()
}

// errFailed marks a run that worked but found cells that did not pass.
var errFailed = errors.New("some cells did not pass")

func main() {
	// SIGINT/SIGTERM cancel the context: QEMU processes are killed, partial
	// results are written, the cache is left consistent.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	err := rootCmd().ExecuteContext(ctx)
	var coded *exitError
	switch {
	case err == nil:
		os.Exit(exitPass)
	case errors.As(err, &coded):
		fmt.Fprintln(os.Stderr, "modmatrix:", err)
		os.Exit(coded.code)
	case errors.Is(err, errFailed):
		os.Exit(exitFail)
	case ctx.Err() != nil:
		fmt.Fprintln(os.Stderr, "modmatrix: interrupted")
		os.Exit(exitInterrupted)
	default:
		fmt.Fprintln(os.Stderr, "modmatrix:", err)
		os.Exit(exitHarness)
	}
}
