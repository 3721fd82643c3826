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

// errFailed marks a run that worked but found cells that did not pass.
var errFailed = errors.New("some cells did not pass")

func main() {
	// SIGINT/SIGTERM cancel the context: QEMU processes are killed, partial
	// results are written, the cache is left consistent.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	root := &cobra.Command{
		Use:           "modmatrix",
		Short:         "Boot real kernels per Kconfig cell and check how they load and unload modules",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(runCmd(), listCmd(), benchCmd(), matrixCmd(), mergeCmd(), reportCmd(), diffCmd(), shellCmd())
	err := root.ExecuteContext(ctx)
	switch {
	case err == nil:
		os.Exit(exitPass)
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
