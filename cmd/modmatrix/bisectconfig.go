package main

import (
	"context"
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
	"modmatrix.dev/modmatrix/harness/probecache"
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
verdict); with --bad-if observation also any observation diff compares,
with --bad-if errno,kmsg also those named (of errno, proc_modules, taint,
kmsg, reports, kunit). Both sides must boot with the same parameters
("# cmdline:"): the probes have them too. A whole .config from elsewhere
counts as what olddefconfig makes of it on this source.

The search is delta debugging (ddmin) over the symbols whose resolved
values differ: first over units of those Kconfig relates (one depends on
or selects another), then over the symbols of the culprit units. Each
probe is good's .config with some of them set as bad
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
	// Cmdline are the boot parameters every probe had (good's and bad's).
	Cmdline []string `json:"cmdline,omitempty"`
	*bisect.Result
	bisect.Counts
	DurationMS int64  `json:"duration_ms"`
	Error      string `json:"error,omitempty"`
}

// side is --good or --bad: its flag, what it names, its probe name.
type side struct{ flag, spec, name string }

func (f *bisectConfigFlags) run(cmd *cobra.Command) error {
	ctx := cmd.Context()
	observe, err := parseBadIf(f.badIf)
	if err != nil {
		return err
	}
	sides := []side{{"--good", f.good, "good"}, {"--bad", f.bad, "bad"}}
	for _, sd := range sides {
		if sd.spec == "" {
			return fmt.Errorf("%s: name the %s configuration (a cell, a fragment or a .config)", sd.flag, sd.name)
		}
	}
	mf := &f.one.mf
	switch {
	case len(mf.fragments) > 0:
		return fmt.Errorf("--kconfig %s: bisect-config compares --good and --bad as they are; merge it into their fragments", strings.Join(mf.fragments, ","))
	case len(mf.cells) > 0:
		return fmt.Errorf("--cells %s: bisect-config runs the cells --good and --bad name (and its probes)", strings.Join(mf.cells, ","))
	}
	if err := f.one.oneKernel(); err != nil {
		return err
	}
	// --scenario NAME: the scenario to bisect, unless it names a file.
	if s := mf.scenarioFile; s != "" && !namesScenarioFile(s) {
		mf.scen, mf.scenarioFile = append(mf.scen, s), ""
	}
	if len(mf.scen) > 1 || len(mf.scen) == 0 && len(mf.moduleDirs) != 1 {
		return fmt.Errorf("bisect-config bisects one scenario: name it with --scenario NAME (or give one --module folder)")
	}
	// A side named as a file must be one; the others are cells, selected
	// so that a misspelt one is refused before any source is unpacked.
	for _, sd := range sides {
		if !namesFile(sd.spec) {
			mf.cells = append(mf.cells, sd.spec)
		} else if _, err := os.Stat(sd.spec); err != nil {
			return fmt.Errorf("%s: %w", sd.flag, err)
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
	var configs [2][]byte
	var cmdlines [2][]string
	base := m.Cmdline(kconfig.Cell{})
	for i, sd := range sides {
		c, config, err := resolveSide(ctx, m, sd, say)
		if err != nil {
			return err
		}
		configs[i], cmdlines[i] = config, m.Cmdline(c)[len(base):]
	}
	if !slices.Equal(cmdlines[0], cmdlines[1]) {
		return fmt.Errorf("--good %s boots with %q and --bad %s with %q: bisect-config bisects Kconfig symbols, so give both the same boot parameters (a cell that only adds \"# cmdline:\" differs in no symbol)",
			f.good, strings.Join(cmdlines[0], " "), f.bad, strings.Join(cmdlines[1], " "))
	}
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return err
	}
	sc := m.Scenarios()[0]
	fmt.Fprintf(say, "bisect-config: %s on linux %s, good %s, bad %s (bad if %s differs)\n", sc.Name, src.Version, f.good, f.bad, badIfText(f.badIf))
	relations, err := kconfig.Relations(src.Dir)
	if err != nil {
		return err
	}
	runner := &bisect.Runner{M: m, Out: f.out, Store: &probecache.Store{Dir: mf.cache}, Observe: observe, Cmdline: cmdlines[0]}
	start := time.Now()
	res, searchErr := bisect.Search(ctx, configs[0], configs[1], runner, bisect.WithRelations(relations),
		bisect.WithProgress(func(pr bisect.Probe) { fmt.Fprintln(say, probeLine(pr)) }))
	out := bisectFile{Scenario: sc.Name, Kernel: src.Version, Good: f.good, Bad: f.bad, BadIf: f.badIf, Cmdline: cmdlines[0],
		Result: res, DurationMS: time.Since(start).Milliseconds()}
	if res != nil {
		out.Counts = res.Counts()
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

// resolveSide is --good's or --bad's cell and resolved .config. A cell is
// resolved as a run's would be (each requested value must survive); a file
// is what olddefconfig makes of it (a distribution's .config holds values
// of another compiler and release), and the lines it changed are counted.
func resolveSide(ctx context.Context, m *matrix.Matrix, sd side, say io.Writer) (kconfig.Cell, []byte, error) {
	if !namesFile(sd.spec) {
		c, ok := m.Cell(sd.spec)
		if !ok {
			return c, nil, fmt.Errorf("%s %s: no such cell", sd.flag, sd.spec)
		}
		config, _, err := m.Resolve(ctx, c, false)
		if err != nil {
			return c, nil, fmt.Errorf("%s %s: %w", sd.flag, sd.spec, err)
		}
		return c, config, nil
	}
	frag, err := kconfig.ParseFragment(sd.spec)
	if err != nil {
		return kconfig.Cell{}, nil, fmt.Errorf("%s: %w", sd.flag, err)
	}
	c := kconfig.Cell{Name: sd.name, Description: sd.spec, Fragment: frag}
	config, _, err := m.Resolve(ctx, c, true)
	if err == nil {
		err = m.CheckGuest(c, config)
	}
	if err != nil {
		return c, nil, fmt.Errorf("%s %s: %w", sd.flag, sd.spec, err)
	}
	resolved, err := kconfig.ParseConfigData(config)
	if err != nil {
		return c, nil, err
	}
	var unmet *kconfig.ValidationError
	if errors.As(kconfig.Validate(resolved, c.Frags(m.Base())...), &unmet) {
		fmt.Fprintf(say, "%s %s: olddefconfig changed %d of the values it asks for (the bisect starts from what it resolved to)\n", sd.flag, sd.spec, len(unmet.Problems))
	}
	return c, config, nil
}

// badIfText is what --bad-if judges by, for the banner.
func badIfText(v string) string {
	switch v {
	case "verdict":
		return "the verdict"
	case "observation":
		return "the verdict or any observation"
	}
	return "the verdict or " + v
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

// namesScenarioFile tells --scenario FILE from --scenario NAME: a path, a
// YAML file's name, or a regular file here.
func namesScenarioFile(s string) bool {
	if strings.Contains(s, "/") || strings.HasSuffix(s, ".yaml") || strings.HasSuffix(s, ".yml") {
		return true
	}
	fi, err := os.Stat(s)
	return err == nil && fi.Mode().IsRegular()
}

// namesFile tells a --good or --bad that names a file (a path, or a name
// ending in .config) from a cell's name.
func namesFile(spec string) bool {
	return strings.Contains(spec, "/") || strings.HasSuffix(spec, ".config") || spec == "." || spec == ".."
}

// probeLine is a probe's progress line: what it asks for when it starts,
// its outcome and cost when judged.
func probeLine(p bisect.Probe) string {
	switch {
	case p.Outcome == "" && p.Name == "good":
		return "good: the reference every probe is judged against"
	case p.Outcome == "":
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
	if !slices.Equal(p.Asked, p.Resolved) && p.SameAs == "" {
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
			names = append(names, fmt.Sprintf("%s %s→%s", s.Name, s.Good, s.Bad))
		}
		fmt.Fprintf(w, "(Kconfig changed with it: %s)\n", strings.Join(names, ", "))
	}
	fmt.Fprintf(w, "%d of %d differing symbols; %d probes, %d kernels built, %d VMs, %d from the cache, %s\n",
		len(b.Culprit), len(b.Differ), b.Tried, b.Built, b.VMs, b.Cached, (time.Duration(b.DurationMS) * time.Millisecond).Round(time.Second))
	if b.Skipped > 0 {
		fmt.Fprintf(w, "%d probe%s could not be judged (bisect.json says why): the culprit is minimal among the probes that could\n", b.Skipped, plural(b.Skipped))
	}
	fmt.Fprintf(w, "every probe: %s\n", filepath.Join(out, "bisect.json"))
}

func writeBisect(path string, b bisectFile) error {
	return report.ReplaceFile(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(b)
	})
}
