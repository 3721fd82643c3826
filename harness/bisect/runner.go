package bisect

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"modmatrix.dev/modmatrix/harness/kconfig"
	"modmatrix.dev/modmatrix/harness/matrix"
	"modmatrix.dev/modmatrix/harness/probecache"
	"modmatrix.dev/modmatrix/harness/report"
	"modmatrix.dev/modmatrix/harness/verdict"
)

// Runner is the Tester of a real bisect: each probe is a cell of the
// matrix's (one kernel source, one scenario), built incrementally from the
// nearest cached tree, booted (a snapshot, then a restore) and judged
// against the good configuration's result.
type Runner struct {
	M *matrix.Matrix
	// Out holds each probe's .config files and run (OUT/probe-3/...).
	Out string
	// Store keeps every judged result; nil keeps none.
	Store *probecache.Store
	// Observe names the observations (report.Observations) that make a
	// probe bad when they differ from good's, as its verdict does.
	Observe []string
	// Cmdline are the boot parameters good's and bad's fragments add
	// ("# cmdline:"), which every probe boots with: the search is over
	// symbols, not boot parameters.
	Cmdline []string

	good *record
}

// record is what a probe's run gave, as the Store keeps it.
type record struct {
	Cell   report.Cell            `json:"cell"`
	Result *report.ScenarioResult `json:"result,omitempty"`
}

// dirName is a probe's folder and cell name: "probe 3" is probe-3.
func dirName(name string) string { return strings.ReplaceAll(name, " ", "-") }

// Resolve writes what the probe asks for as OUT/NAME.asked.config and
// resolves it, taking what olddefconfig keeps of it.
func (r *Runner) Resolve(ctx context.Context, name string, asked []byte) ([]byte, error) {
	c, err := r.cell(name, ".asked.config", asked)
	if err != nil {
		return nil, err
	}
	data, _, err := r.M.Resolve(ctx, c, true)
	return data, err
}

// cell writes a .config into OUT as the fragment of a cell of its own.
func (r *Runner) cell(name, suffix string, config []byte) (kconfig.Cell, error) {
	path := filepath.Join(r.Out, dirName(name)+suffix)
	if err := os.MkdirAll(r.Out, 0o755); err != nil {
		return kconfig.Cell{}, err
	}
	if err := report.ReplaceFile(path, func(w io.Writer) error { _, err := w.Write(config); return err }); err != nil {
		return kconfig.Cell{}, err
	}
	f, err := kconfig.ParseFragmentData(path, config)
	if err != nil {
		return kconfig.Cell{}, err
	}
	f.Cmdline = r.Cmdline
	return kconfig.Cell{Name: dirName(name), Description: "bisect " + name, Fragment: f}, nil
}

// Test runs the matrix's scenario on the resolved config (or takes its
// stored result) and judges it: good is the reference, every other probe
// is bad when it differs from good.
func (r *Runner) Test(ctx context.Context, name string, resolved []byte) (Outcome, string, Run, error) {
	start := time.Now()
	c, err := r.cell(name, ".config", resolved)
	if err != nil {
		return "", "", Run{}, err
	}
	_, kernelKey, err := r.M.Resolve(ctx, c, true)
	if err != nil {
		return "", "", Run{}, err
	}
	out := filepath.Join(r.Out, dirName(name))
	key, err := r.M.ProbeKey(ctx, c, kernelKey, out)
	if err != nil {
		return "", "", Run{}, err
	}
	var run Run
	rec, ok := r.stored(key)
	if ok {
		run.Cached = true
	} else {
		res, err := r.M.RunCell(ctx, c, out)
		if err != nil {
			return "", "", Run{}, err
		}
		if len(res.Cells) != 1 {
			return "", "", Run{}, fmt.Errorf("%s: %d cells ran, want 1", name, len(res.Cells))
		}
		rec = &record{Cell: res.Cells[0]}
		if len(res.Results) == 1 {
			rec.Result = &res.Results[0]
		}
		run.Out = out
		run.Built = !rec.Cell.KernelCached && rec.Cell.KernelKey != ""
		run.Booted = rec.Cell.Boots+rec.Cell.Restores > 0
		if err := r.keep(ctx, key, rec); err != nil {
			return "", "", Run{}, err
		}
	}
	run.DurationMS = time.Since(start).Milliseconds()
	outcome, why := r.judge(name, rec)
	return outcome, why, run, nil
}

func (r *Runner) stored(key string) (*record, bool) {
	if r.Store == nil {
		return nil, false
	}
	data, ok := r.Store.Get(key)
	if !ok {
		return nil, false
	}
	var rec record
	if json.Unmarshal(data, &rec) != nil || rec.Result == nil {
		return nil, false
	}
	return &rec, true
}

// keep stores a judged result; a probe that could not be judged is tried
// again next time (its build may have failed for want of disk).
func (r *Runner) keep(ctx context.Context, key string, rec *record) error {
	if r.Store == nil || rec.Cell.Error != "" || rec.Result == nil || rec.Result.Verdict == verdict.Error {
		return nil
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return r.Store.Put(ctx, key, data)
}

// judge says what the probe's result is: skip when it could not be
// judged; for good, good; for the rest, bad when it differs from good's.
func (r *Runner) judge(name string, rec *record) (Outcome, string) {
	switch {
	case rec.Cell.Error != "":
		return Skip, report.FirstLine(rec.Cell.Error)
	case rec.Result == nil:
		return Skip, "the scenario did not run"
	case rec.Result.Verdict == verdict.Error:
		return Skip, rec.Result.Scenario + ": ERROR " + report.FirstLine(rec.Result.Reason)
	case name == "good" && rec.Result.Verdict == verdict.Skip:
		// Nothing ran to compare with: every other verdict would differ.
		return Skip, rec.Result.Scenario + " skips here: " + report.FirstLine(rec.Result.Reason)
	}
	said := fmt.Sprintf("%s: %s", rec.Result.Scenario, rec.Result.Verdict)
	if rec.Result.Reason != "" {
		said += " " + report.FirstLine(rec.Result.Reason)
	}
	if name == "good" {
		// The reference every other probe is judged against.
		r.good = rec
		return Good, said
	}
	if flips := report.Flipped(*r.good.Result, *rec.Result, r.Observe); len(flips) > 0 {
		return Bad, strings.Join(flips, "; ")
	}
	return Good, said
}
