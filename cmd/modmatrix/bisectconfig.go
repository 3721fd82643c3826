package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"modmatrix.dev/modmatrix/harness/bisect"
	"modmatrix.dev/modmatrix/harness/kconfig"
	"modmatrix.dev/modmatrix/harness/matrix"
	"modmatrix.dev/modmatrix/harness/progress"
	"modmatrix.dev/modmatrix/harness/report"
)

// bisectConfigFlags are bisect-config's: the matrix's flags (one kernel,
// one scenario), the two configurations, what bad means, how to boot.
type bisectConfigFlags struct {
	one       shellFlags
	good, bad string
	badIf     string
	out       string
	accel     accelFlag
	timeout   time.Duration
	settle    time.Duration
	quiet     bool
}

func bisectConfigCmd() *cobra.Command {
	f := bisectConfigFlags{one: shellFlags{cmd: "bisect-config bisects on"}}
	cmd := &cobra.Command{
		Use:   "bisect-config --good CONFIG --bad CONFIG [--scenario NAME]",
		Short: "Find the Kconfig symbols whose change from a good configuration to a bad one flips a scenario",
		Long: `Given one scenario and two configurations of one kernel source, a good
one and a bad one (each a cell's name, a fragment or a whole .config, over
base.config), find a minimal set of Kconfig symbols whose change from good
to bad makes the scenario bad: its verdict differs from good's (--bad-if
verdict), or any observation diff compares does (--bad-if observation),
or one of those named (--bad-if errno,kmsg: errno, proc_modules, taint,
kmsg, reports, kunit).

The search is delta debugging (ddmin) over the symbols whose resolved
values differ. Each probe is good's .config with some of them set as bad
has them, resolved with olddefconfig; Kconfig may undo a change whose
dependency is not in it, and the probe then counts as what it resolved
to (known without a build when an earlier probe had that config). Every
probe's kernel is built incrementally from the nearest cached tree and
booted through its snapshot. A probe that does not build or boot is
skipped, not counted as bad. Each judged probe is kept in the cache, so a
repeated bisect builds and boots nothing.

Progress goes to stderr; the culprit symbols, with their good and bad
values, to stdout; OUT/bisect.json has every probe, and OUT/NAME/ each
probe's run.` + exitHelp(
			"found: the culprit symbols are printed",
			"nothing to bisect: good is not good, bad is not bad, or both resolve to the same .config",
			"bad flag or input (an unknown cell, a fragment line, a scenario), a missing tool, a failure of the harness",
			"interrupted (SIGINT, SIGTERM): bisect.json has the probes so far, no QEMU is left"),
		Example: `  modmatrix bisect-config --scenario noexit --good unload --bad force-unload
  modmatrix bisect-config --module ./mydriver --good unload --bad distro.config
  modmatrix bisect-config --scenario noexit --good last-release.config --bad this-release.config --bad-if observation`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return f.run(cmd) },
	}
	f.one.mf.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&f.good, "good", "", "the good configuration: a cell's name, or a fragment or whole .config file merged over base.config (a path with a / or a name ending in .config)")
	fl.StringVar(&f.bad, "bad", "", "the bad configuration, as --good")
	fl.StringVar(&f.badIf, "bad-if", "verdict", "what makes a probe bad, against good's result: verdict (the scenario's verdict differs), observation (the verdict or any observation diff compares), or the verdict or the named ones of "+strings.Join(report.Observations, ",")+" (comma-separated)")
	fl.StringVar(&f.out, "out", "modmatrix-bisect", "output folder for bisect.json and each probe's run")
	f.accel.register(cmd)
	fl.DurationVar(&f.timeout, "boot-timeout", 60*time.Second, "base timeout of one boot (grows by 2 s per step)")
	fl.DurationVar(&f.settle, "settle", matrix.DefaultSettle, "guest time to wait after every unload and failed load (as run's)")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress lines")
	// --scenario names the scenario here (run's --scenario FILE, for the
	// one --module folder, is taken when it names a file).
	fl.Lookup("scenario").Usage = "the scenario to bisect, by name (built-in, or a --module folder's); or a scenario file for the one --module folder, as in run"
	return cmd
}

// bisectFile is bisect.json.
type bisectFile struct {
	Scenario string `json:"scenario"`
	Kernel   string `json:"kernel"`
	Good     string `json:"good"`
	Bad      string `json:"bad"`
	BadIf    string `json:"bad_if"`
	*bisect.Result
	Built      int    `json:"kernels_built"`
	Booted     int    `json:"boots"`
	FromCache  int    `json:"from_cache"`
	DurationMS int64  `json:"duration_ms"`
	Error      string `json:"error,omitempty"`
}

func (f *bisectConfigFlags) run(cmd *cobra.Command) error {
	ctx := cmd.Context()
	observe, err := parseBadIf(f.badIf)
	if err != nil {
		return err
	}
	for _, c := range []struct{ flag, v string }{{"--good", f.good}, {"--bad", f.bad}} {
		if c.v == "" {
			return fmt.Errorf("%s: name the %s configuration (a cell, a fragment or a .config)", c.flag, strings.TrimPrefix(c.flag, "--"))
		}
	}
	mf := &f.one.mf
	if err := f.one.oneKernel(); err != nil {
		return err
	}
	// --scenario NAME, where no such file is: the scenario to bisect.
	if s := mf.scenarioFile; s != "" {
		if _, err := os.Stat(s); err != nil && !strings.ContainsAny(s, "/.") {
			mf.scen, mf.scenarioFile = append(mf.scen, s), ""
		}
	}
	if len(mf.scen) > 1 || len(mf.scen) == 0 && len(mf.moduleDirs) != 1 {
		return fmt.Errorf("bisect-config bisects one scenario: name it with --scenario NAME (or give one --module folder)")
	}
	// A side named as a file must be one; the others are cells, selected
	// so that a misspelt one is refused before any source is unpacked.
	mf.cells = nil
	for _, side := range []struct{ flag, v string }{{"--good", f.good}, {"--bad", f.bad}} {
		if !namesFile(side.v) {
			mf.cells = append(mf.cells, side.v)
		} else if _, err := os.Stat(side.v); err != nil {
			return fmt.Errorf("%s: %w", side.flag, err)
		}
	}
	a, err := f.accel.parse()
	if err != nil {
		return err
	}
	if f.settle < 0 {
		return fmt.Errorf("--settle %s: a wait cannot be negative (0 turns it off)", f.settle)
	}
	// Plain lines, also in a terminal: the probes' own lines go between
	// the matrix's, which a redrawn live block would overwrite.
	var say io.Writer = os.Stderr
	var p matrix.Progress = matrix.Quiet
	if f.quiet {
		say = io.Discard
	} else {
		lines := progress.New(os.Stderr)
		defer lines.Close()
		p = lines
	}
	m, err := mf.open(cmd, matrix.WithOut(f.out), matrix.WithAccel(a), matrix.WithBootTimeout(f.timeout),
		matrix.WithSettle(f.settle), matrix.WithJobs(1), matrix.WithPreflight(), matrix.WithProgress(p))
	if err != nil {
		return err
	}
	if n := len(m.Scenarios()); n != 1 {
		var names []string
		for _, sc := range m.Scenarios() {
			names = append(names, sc.Name)
		}
		return fmt.Errorf("bisect-config bisects one scenario, and %d are selected (%s): name one with --scenario", n, strings.Join(names, ", "))
	}
	src, err := m.Source()
	if err != nil {
		return err
	}
	// Both sides resolve, and could run the agent, before anything builds.
	var sides [2][]byte
	for i, spec := range []struct{ flag, v, name string }{{"--good", f.good, "good"}, {"--bad", f.bad, "bad"}} {
		c, err := bisectCell(m, spec.flag, spec.v, spec.name)
		if err != nil {
			return err
		}
		if sides[i], _, err = m.Resolve(ctx, c, false); err != nil {
			return fmt.Errorf("%s %s: %w", spec.flag, spec.v, err)
		}
	}
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return err
	}
	sc := m.Scenarios()[0]
	fmt.Fprintf(say, "bisect-config: %s on linux %s, good %s, bad %s (bad if the %s differs)\n", sc.Name, src.Version, f.good, f.bad, f.badIf)
	runner := &bisect.Runner{M: m, Out: f.out, Store: &bisect.Store{Dir: mf.cache}, Observe: observe}
	start := time.Now()
	res, searchErr := bisect.Search(ctx, sides[0], sides[1], runner, func(pr bisect.Probe) {
		fmt.Fprintln(say, probeLine(pr))
	})
	out := bisectFile{Scenario: sc.Name, Kernel: src.Version, Good: f.good, Bad: f.bad, BadIf: f.badIf, Result: res,
		DurationMS: time.Since(start).Milliseconds()}
	if res != nil {
		_, out.Built, out.Booted = res.Counts()
		for _, pr := range res.Probes {
			if pr.Run.Cached {
				out.FromCache++
			}
		}
	}
	if searchErr != nil {
		out.Error = searchErr.Error()
	}
	if err := writeBisect(filepath.Join(f.out, "bisect.json"), out); err != nil {
		return errors.Join(searchErr, err)
	}
	switch {
	case errors.Is(searchErr, bisect.ErrNotBisectable):
		fmt.Fprintln(os.Stderr, "modmatrix:", searchErr)
		return errFailed
	case searchErr != nil:
		return searchErr
	}
	printCulprit(os.Stdout, out, f.out)
	return nil
}

// parseBadIf is --bad-if's observations: none for verdict, all for
// observation, else the names given.
func parseBadIf(v string) ([]string, error) {
	switch v {
	case "verdict":
		return nil, nil
	case "observation":
		return report.Observations, nil
	}
	names := strings.Split(v, ",")
	for _, n := range names {
		if !slices.Contains(report.Observations, n) {
			return nil, fmt.Errorf("--bad-if %s: want verdict, observation or some of %s", v, strings.Join(report.Observations, ","))
		}
	}
	return names, nil
}

// namesFile tells a --good or --bad that names a file (a path, or a name
// ending in .config) from a cell's name.
func namesFile(spec string) bool {
	return strings.Contains(spec, "/") || strings.HasSuffix(spec, ".config") || spec == "." || spec == ".."
}

// bisectCell is --good's or --bad's configuration as a cell: a cell of the
// matrix by name, else a fragment or .config file.
func bisectCell(m *matrix.Matrix, flag, spec, name string) (kconfig.Cell, error) {
	if !namesFile(spec) {
		c, ok := m.Cell(spec)
		if !ok {
			return kconfig.Cell{}, fmt.Errorf("%s %s: no such cell", flag, spec)
		}
		return c, nil
	}
	frag, err := kconfig.ParseFragment(spec)
	if err != nil {
		return kconfig.Cell{}, fmt.Errorf("%s: %w", flag, err)
	}
	return kconfig.Cell{Name: name, Description: spec, Fragment: frag}, nil
}

// probeLine is a probe's progress line: what it asks for when it starts,
// its outcome and cost when judged.
func probeLine(p bisect.Probe) string {
	if p.Outcome == "" {
		return fmt.Sprintf("%s: %s", p.Name, symbolList(p.Asked))
	}
	line := fmt.Sprintf("%s: %s (%s)", p.Name, strings.ToUpper(string(p.Outcome)), p.Why)
	switch {
	case p.SameAs != "":
		line += fmt.Sprintf(", resolved to %s's config: no run", p.SameAs)
	case p.Run.Cached:
		line += ", from the cache"
	case p.Run.Built:
		line += fmt.Sprintf(", kernel built, %s", time.Duration(p.Run.DurationMS)*time.Millisecond/time.Second*time.Second)
	}
	if len(p.Asked) != len(p.Resolved) && p.SameAs == "" {
		line += fmt.Sprintf("; resolved: %s", symbolList(p.Resolved))
	}
	return line
}

// symbolList names up to six symbols and counts the rest.
func symbolList(syms []string) string {
	if len(syms) == 0 {
		return "no symbol changed"
	}
	shown := syms[:min(len(syms), 6)]
	s := fmt.Sprintf("%d symbol%s (%s", len(syms), plural(len(syms)), strings.Join(shown, " "))
	if len(syms) > len(shown) {
		s += fmt.Sprintf(" and %d more", len(syms)-len(shown))
	}
	return s + ")"
}

func printCulprit(w io.Writer, b bisectFile, out string) {
	for _, s := range b.Culprit {
		fmt.Fprintf(w, "CONFIG_%s  good: %s  bad: %s\n", s.Name, s.Good, s.Bad)
	}
	if len(b.Followed) > 0 {
		var names []string
		for _, s := range b.Followed {
			names = append(names, s.Name)
		}
		fmt.Fprintf(w, "(Kconfig changed with it: %s)\n", strings.Join(names, " "))
	}
	probes, _, _ := b.Counts()
	fmt.Fprintf(w, "%d of %d differing symbols; %d probes, %d kernels built, %d boots, %d from the cache, %s\n",
		len(b.Culprit), len(b.Differ), probes, b.Built, b.Booted, b.FromCache, (time.Duration(b.DurationMS) * time.Millisecond).Round(time.Second))
	fmt.Fprintf(w, "every probe: %s\n", filepath.Join(out, "bisect.json"))
}

func writeBisect(path string, b bisectFile) error {
	return report.ReplaceFile(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(b)
	})
}
