package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"modmatrix.dev/modmatrix/harness/report"
)

// outputFlags are the other forms a run's results can be written in, for
// tools that read neither results.json nor junit.xml: kernel CI tooling
// reads KTAP, a CI job's page shows Markdown, GitHub puts annotations on
// the lines they name.
type outputFlags struct {
	ktap, summaryMD string
	annotate        bool
}

// register adds the flags; annotations are on by default where annotate
// says (run's on GitHub Actions; merge's and report's would repeat them).
func (o *outputFlags) register(cmd *cobra.Command, annotate bool) {
	cmd.Flags().BoolVar(&o.annotate, "github-annotations", annotate, "print a GitHub Actions error annotation per scenario that did not pass, at its scenario file's line (the first "+fmt.Sprint(report.GitHubAnnotationLimit)+", then how many more)")
	cmd.Flags().StringVar(&o.ktap, "ktap", "", "also write the matrix as KTAP version 1 to `FILE`: a suite per kernel × cell, a test per scenario, KUnit cases nested under theirs")
	cmd.Flags().StringVar(&o.summaryMD, "summary-md", "", "also write the matrix as Markdown to `FILE` (appended to when FILE is $GITHUB_STEP_SUMMARY, as GitHub Actions wants)")
}

// check refuses, before any work, a file that could not be written at the
// end: its folder is made now (it may be inside --out) and written to.
func (o *outputFlags) check() error {
	for _, f := range []struct{ flag, path string }{{"--ktap", o.ktap}, {"--summary-md", o.summaryMD}} {
		if f.path == "" {
			continue
		}
		if fi, err := os.Stat(f.path); err == nil && fi.IsDir() {
			return fmt.Errorf("%s %s: a folder; name a file", f.flag, f.path)
		}
		if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
			return fmt.Errorf("%s %s: %w", f.flag, f.path, err)
		}
		probe, err := os.CreateTemp(filepath.Dir(f.path), ".modmatrix-probe-*")
		if err != nil {
			return fmt.Errorf("%s %s: cannot write there: %w", f.flag, f.path, err)
		}
		probe.Close()
		os.Remove(probe.Name())
	}
	return nil
}

// write writes res in the forms asked for.
func (o *outputFlags) write(res *report.Results) error {
	if o.annotate {
		// Paths in annotations are the repository's: the workspace's.
		ws := os.Getenv("GITHUB_WORKSPACE")
		if ws == "" {
			ws, _ = os.Getwd()
		}
		if err := res.WriteGitHubAnnotations(os.Stdout, ws, report.GitHubAnnotationLimit); err != nil {
			return err
		}
	}
	if o.ktap != "" {
		if err := report.ReplaceFile(o.ktap, res.WriteKTAP); err != nil {
			return fmt.Errorf("--ktap: %w", err)
		}
	}
	if o.summaryMD == "" {
		return nil
	}
	if o.summaryMD != os.Getenv("GITHUB_STEP_SUMMARY") {
		if err := report.ReplaceFile(o.summaryMD, res.WriteMarkdown); err != nil {
			return fmt.Errorf("--summary-md: %w", err)
		}
		return nil
	}
	// Every step of a job appends its part to the one summary file.
	f, err := os.OpenFile(o.summaryMD, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("--summary-md: %w", err)
	}
	if err := res.WriteMarkdown(f); err != nil {
		f.Close()
		return fmt.Errorf("--summary-md: %w", err)
	}
	return f.Close()
}
