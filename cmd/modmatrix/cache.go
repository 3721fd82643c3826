package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"modmatrix.dev/modmatrix/harness/cachedir"
	"modmatrix.dev/modmatrix/harness/kbuild"
	"modmatrix.dev/modmatrix/internal/cacheentry"
)

func cacheCmd() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "cache",
		Short: "Check and trim the cache of kernel builds, module builds and snapshots",
		Long: "The cache (--cache, default $XDG_CACHE_HOME/modmatrix) holds unpacked kernel sources, resolved\n" +
			"configs, kernel and module builds, unpacked distribution kernels, guest snapshots and shell\n" +
			"images. Every run checks what it takes from it and\n" +
			"rebuilds a damaged entry; `cache verify` checks all of it, `cache prune` removes what was not\n" +
			"used lately." +
			exitHelp("done (verify: every entry is whole)", "verify: some entry is damaged", "bad flag, or the cache cannot be read or written", ""),
		Example: "  modmatrix cache verify\n  modmatrix cache prune --older-than 30d --keep-latest 12",
	}
	cmd.PersistentFlags().StringVar(&dir, "cache", kbuild.DefaultCacheDir(), "cache folder")
	cmd.AddCommand(cacheVerifyCmd(&dir), cachePruneCmd(&dir))
	return cmd
}

func cacheVerifyCmd(dir *string) *cobra.Command {
	return &cobra.Command{
		Use:   "verify",
		Short: "Check every cache entry as a run's hit checks it",
		Long: "Checks every entry of the cache as a run would before using it (resolved configs, kernel trees,\n" +
			"module builds, unpacked distribution kernels, shell images and snapshots, with their guest image,\n" +
			"against the sizes and digests their manifests recorded) and lists the damaged ones; a run\n" +
			"rebuilds (or fetches again) those it needs. Entries an older modmatrix wrote without sums pass." +
			exitHelp("every entry is whole", "some entry is damaged", "the cache cannot be read", ""),
		Example: "  modmatrix cache verify\n  modmatrix cache verify --cache /var/cache/modmatrix",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			entries, err := cachedir.Verify(*dir)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			var damaged int
			var total int64
			for _, e := range entries {
				total += e.Size
				if e.Problem != "" {
					damaged++
					fmt.Fprintf(out, "damaged %-8s %s: %s\n", e.Kind, e.Path, e.Problem)
				}
			}
			fmt.Fprintf(out, "%d entries, %s; %d damaged\n", len(entries), humanize.IBytes(uint64(total)), damaged)
			if damaged > 0 {
				return errFailed
			}
			return nil
		},
	}
}

func cachePruneCmd(dir *string) *cobra.Command {
	var olderThan string
	var p cachedir.Policy
	cmd := &cobra.Command{
		Use:   "prune",
		Short: "Remove cache entries not used lately",
		Long: "Removes the entries no run has used for --older-than, and of each kind (kernel, module build,\n" +
			"snapshot, shell image, …) all but the --keep-latest most recently used; a kernel's module builds\n" +
			"go with it. Unpacked kernel sources go by age only. An entry a run is building stays (its lock is\n" +
			"held); prune while no run uses the cache, or with --older-than longer than any run. It also removes\n" +
			"what killed runs left (temporaries, half-built kernel stages), as every run does when it starts." +
			exitHelp("pruned (or nothing to prune)", "", "bad flag, or the cache cannot be read or written", ""),
		Example: "  modmatrix cache prune --older-than 30d\n  modmatrix cache prune --keep-latest 12 --dry-run",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if olderThan != "" {
				d, err := parseAge(olderThan)
				if err != nil {
					return fmt.Errorf("--older-than %q: %w", olderThan, err)
				}
				p.OlderThan = d
			}
			if p.KeepLatest < 0 {
				return fmt.Errorf("--keep-latest %d: want a count of 1 or more", p.KeepLatest)
			}
			if p.OlderThan == 0 && p.KeepLatest == 0 {
				return fmt.Errorf("say what to prune: --older-than, --keep-latest or both")
			}
			removed, err := cachedir.Prune(*dir, p, time.Now())
			out := cmd.OutOrStdout()
			verb := "removed"
			if p.DryRun {
				verb = "would remove"
			}
			var total int64
			for _, e := range removed {
				total += e.Size
				fmt.Fprintf(out, "%s %-8s %s (%s, last used %s)\n", verb, e.Kind, e.Path, humanize.IBytes(uint64(e.Size)), humanize.Time(e.Used))
			}
			fmt.Fprintf(out, "%s %d entries, %s\n", verb, len(removed), humanize.IBytes(uint64(total)))
			if err == nil && !p.DryRun {
				if swept := cacheentry.SweepDead(*dir); len(swept) > 0 {
					fmt.Fprintf(out, "removed %d leftover(s) of runs that were killed: %s\n", len(swept), strings.Join(swept, ", "))
				}
			}
			return err
		},
	}
	cmd.Flags().StringVar(&olderThan, "older-than", "", "remove entries not used for this long: a Go duration (72h) or days (30d)")
	cmd.Flags().IntVar(&p.KeepLatest, "keep-latest", 0, "of each kind, keep only the N most recently used entries")
	cmd.Flags().BoolVar(&p.DryRun, "dry-run", false, "only say what would be removed")
	return cmd
}

// parseAge reads a duration, with d for days ("30d") besides Go's units.
func parseAge(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("want a positive number of days such as 30d")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("want a positive duration such as 72h or 30d")
	}
	return d, nil
}
