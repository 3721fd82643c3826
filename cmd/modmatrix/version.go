package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"modmatrix.dev/modmatrix/initramfs"
)

// version and commit are set by make build (-ldflags -X); a plain go build
// reports the module's version and VCS stamp, where Go recorded them.
var (
	version = ""
	commit  = ""
)

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print modmatrix's version, commit and guest programs",
		Long: `Print the version and commit modmatrix was built from, and the digest of
the guest programs it carries (the agent, u-root's init, the shell's
commands): two binaries with the same digest boot the same guest
programs, and so share snapshots. A binary built without make build
builds its guest programs with Go, from a checkout or the source it
carries, and says so.` + exitHelp(
			"printed", "", "an argument was given", ""),
		Example: `  modmatrix version`,
		Args:    cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			v, c := buildStamp()
			guest := initramfs.GuestID()
			if guest == "" {
				guest = "built with Go from its source on each run (not make build)"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "modmatrix %s\ncommit %s\nguest %s\n%s %s/%s\n", v, c, guest, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		},
	}
}

// buildStamp is the version and commit: make build's, else what Go
// recorded in the binary, else "unknown".
func buildStamp() (v, c string) {
	v, c = version, commit
	if info, ok := debug.ReadBuildInfo(); ok {
		if v == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && c == "" {
				c = s.Value
			}
		}
	}
	if v == "" {
		v = "unknown"
	}
	if c == "" {
		c = "unknown"
	}
	return v, c
}
