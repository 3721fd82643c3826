// Package report holds a run's results (results.json) and renders them:
// the scenario × cell table for the terminal.
package report

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"modmatrix.dev/modmatrix/harness/protocol"
	"modmatrix.dev/modmatrix/harness/verdict"
)

// SchemaVersion is bumped whenever a field of results.json changes meaning
// or disappears; new fields do not bump it. 2: a step's kmsg holds only
// its own records, other tasks' go to kmsg_background. 3: each scenario
// runs in a VM of its own ("boot" per scenario gone; "started" says how
// the VM began). Read also takes versions 1 and 2 (every record in kmsg
// in 1), so older baselines still diff.
const SchemaVersion = 3

// oldestSchemaVersion is the oldest results.json Read accepts.
const oldestSchemaVersion = 1

// Results is results.json.
type Results struct {
	SchemaVersion int `json:"schema_version"`
	// MatrixID identifies the matrix definition (sources, cells, scenario
	// files); Shard is "I/N" for one shard's part of it.
	MatrixID   string    `json:"matrix_id"`
	Shard      string    `json:"shard,omitempty"`
	Started    time.Time `json:"started"`
	DurationMS int64     `json:"duration_ms"`
	Accel      string    `json:"accel"`
	// GuestClock is the clock guest durations (duration_ms, duration_us)
	// were measured on: "icount" (TCG counting instructions, idle time
	// skipped: a guest sleep costs no wall time) or "host" (the guest's
	// clock follows the host's).
	GuestClock string `json:"guest_clock"`
	// Interrupted is true when the run was stopped before every cell finished.
	Interrupted bool `json:"interrupted,omitempty"`
	// Swept lists what runs that died (SIGKILL, a power cut) had left in
	// the cache and the temporary folder, which this run removed first.
	Swept []string `json:"swept,omitempty"`
	// Repeat is run --repeat's count (0 without it).
	Repeat int `json:"repeat,omitempty"`
	// ImageMS is the time the run spent on the guest image every cell
	// shares (the agent, init and tools packed once).
	ImageMS int64 `json:"image_ms,omitempty"`
	// Scenarios describes each scenario of the matrix once.
	Scenarios []ScenarioInfo   `json:"scenarios,omitempty"`
	Cells     []Cell           `json:"cells"`
	Results   []ScenarioResult `json:"results"`
	// Diff holds the changes against a baseline, when one was given.
	Diff []Change `json:"diff,omitempty"`
}

// ScenarioInfo is what a scenario is, whatever cell it ran on.
type ScenarioInfo struct {
	Name string `json:"name"`
	// File is the scenario file the run read (none for the scenario
	// generated for a module folder without one); steps' lines are its.
	File        string `json:"file,omitempty"`
	Description string `json:"description,omitempty"`
}

// Phases is where a cell's wall time went in this run: getting its
// kernel (a build, or a cache hit's check), building its modules, the
// boot its snapshot was taken of, and its scenarios (up to -j VMs at
// once, from the first start to the last end; a scenario's modules built
// for another cell's kernel are finished in this part).
type Phases struct {
	KernelMS    int64 `json:"kernel_ms"`
	ModulesMS   int64 `json:"modules_ms"`
	SnapshotMS  int64 `json:"snapshot_ms"`
	ScenariosMS int64 `json:"scenarios_ms"`
}

// Cell is one kernel version × Kconfig cell.
type Cell struct {
	Kernel string `json:"kernel"`
	Cell   string `json:"cell"`
	// KernelKey is the kernel's cache key; KernelCached whether it was a hit.
	KernelKey     string `json:"kernel_key,omitempty"`
	KernelCached  bool   `json:"kernel_cached"`
	KernelBuildMS int64  `json:"kernel_build_ms"`
	// Boots counts the VMs that booted (the snapshot's boot, scenarios
	// that ran without one); Restores those restored from the snapshot.
	Boots    int `json:"boots"`
	Restores int `json:"restores"`
	// SnapshotKey names the cell's snapshot, SnapshotCached whether it was
	// there already; SnapshotNote says why scenarios booted instead.
	SnapshotKey    string `json:"snapshot_key,omitempty"`
	SnapshotCached bool   `json:"snapshot_cached,omitempty"`
	SnapshotNote   string `json:"snapshot_note,omitempty"`
	// Cmdline are the boot parameters the cell adds to the kernel command
	// line (its fragments' "# cmdline:"), which predicates read as CMDLINE.*.
	Cmdline []string `json:"cmdline,omitempty"`
	// BootConsoleLog is the console of the boot the snapshot was taken of
	// (the kernel's boot messages; a restored scenario's console starts
	// after them).
	BootConsoleLog string `json:"boot_console_log,omitempty"`
	// Config is a copy of the kernel's resolved .config in the output,
	// BuildLog of make's output of the build that made it (none for a
	// kernel cached before modmatrix kept it).
	Config   string  `json:"config,omitempty"`
	BuildLog string  `json:"build_log,omitempty"`
	Phases   *Phases `json:"phases,omitempty"`
	// Error is set when the cell could not run at all (build failure, …).
	Error string `json:"error,omitempty"`
	// Reports are kernel reports no scenario step accounts for, such as a
	// leak in no test module's memory.
	Reports []verdict.Report `json:"reports,omitempty"`
}

// ScenarioResult is one scenario on one cell.
type ScenarioResult struct {
	Kernel   string          `json:"kernel"`
	Cell     string          `json:"cell"`
	Scenario string          `json:"scenario"`
	Verdict  verdict.Verdict `json:"verdict"`
	Reason   string          `json:"reason,omitempty"`
	// DurationMS is the scenario's time in the guest, on the guest's
	// clock (see Results.GuestClock); WallMS its VM's life on the host's.
	DurationMS int64 `json:"duration_ms"`
	WallMS     int64 `json:"wall_ms,omitempty"`
	// ReadyMS is the part of WallMS before the agent had the scenario's
	// work: the restore (or the boot).
	ReadyMS int64 `json:"ready_ms,omitempty"`
	// Started says how the scenario's VM began: "restore" (from the cell's
	// snapshot) or "boot".
	Started string `json:"started,omitempty"`
	// Start is the kernel as the scenario found it: its taint and the
	// modules loaded before its first step.
	Start      *Start       `json:"start,omitempty"`
	Steps      []StepRecord `json:"steps"`
	ConsoleLog string       `json:"console_log,omitempty"`
	EventLog   string       `json:"event_log,omitempty"`
	// KUnit lists each KUnit test case the scenario's steps reported in
	// KTAP, with its status and what the scenario expected of it.
	KUnit []verdict.KUnitCase `json:"kunit,omitempty"`
	// Note says how the run changed the scenario (--repeat), or why not.
	Note string `json:"note,omitempty"`
	// Warnings are what the scenario file leaves unsaid on this cell: a
	// step none of whose expect blocks applies here.
	Warnings []string `json:"warnings,omitempty"`
}

// Start is the kernel's state when a scenario began.
type Start struct {
	Taint   uint64   `json:"taint"`
	Modules []string `json:"modules"`
}

// StepRecord is one step as observed, with what was expected of it.
type StepRecord struct {
	// Line is the step's line in the scenario file.
	Line        int               `json:"line,omitempty"`
	Action      string            `json:"action"`
	Module      string            `json:"module,omitempty"`
	Params      string            `json:"params,omitempty"`
	Flags       []string          `json:"flags,omitempty"`
	Path        string            `json:"path,omitempty"`
	Errno       string            `json:"errno"`
	Error       string            `json:"error,omitempty"`
	TaintBefore uint64            `json:"taint_before"`
	TaintAfter  uint64            `json:"taint_after"`
	ProcModules string            `json:"proc_modules"`
	Sysfs       map[string]string `json:"sysfs,omitempty"`
	Kallsyms    map[string]bool   `json:"kallsyms,omitempty"`
	Files       map[string]bool   `json:"files,omitempty"`
	// Status and Output are a modprobe step's exit status and output.
	Status *int   `json:"status,omitempty"`
	Output string `json:"output,omitempty"`
	// Kmsg are the records the step's own thread (or interrupt context)
	// printed while it ran; KmsgBackground those other tasks printed
	// meanwhile (a late probe, a kworker), which diffs leave out.
	Kmsg           []string           `json:"kmsg"`
	KmsgBackground []string           `json:"kmsg_background,omitempty"`
	DurationUS     int64              `json:"duration_us"`
	Expected       []string           `json:"expected,omitempty"`
	Mismatches     []verdict.Mismatch `json:"mismatches,omitempty"`
	// Reports are the kernel reports (oops, WARNING, …) printed during the step.
	Reports []verdict.Report `json:"reports,omitempty"`
	Hung    bool             `json:"hung,omitempty"`
	Died    bool             `json:"died,omitempty"`
	// Stress sums up a repeat or concurrent step: iterations, timing per
	// inner step, taint drift, the first failing iteration.
	Stress *verdict.StressSummary `json:"stress,omitempty"`
	// Ledger is what the resource ledger did in the step: the baseline
	// before a load, the comparison after an unload or failed load (its
	// leftovers are among Reports, kind LEFTOVER), and what that cost.
	Ledger *protocol.Ledger `json:"ledger,omitempty"`
}

// Write saves results.json, junit.xml and index.html atomically in dir.
func (r *Results) Write(dir string) error {
	if err := r.writeJSON(dir); err != nil {
		return err
	}
	if err := r.WriteJUnit(dir); err != nil {
		return err
	}
	return r.WriteHTML(dir)
}

func (r *Results) writeJSON(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return ReplaceFile(filepath.Join(dir, "results.json"), func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}

// ReplaceFile writes path whole or not at all: write fills a temporary
// file beside it, which then takes its place. A reader (a CI job picking
// up results.json while a run goes on) never sees half a file.
func ReplaceFile(path string, write func(io.Writer) error) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// Read loads results.json from a file or an output folder.
func Read(path string) (*Results, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		path = filepath.Join(path, "results.json")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, decodeError(err, len(b)))
	}
	if r.SchemaVersion < oldestSchemaVersion || r.SchemaVersion > SchemaVersion {
		return nil, fmt.Errorf("%s: schema version %d, this modmatrix reads %d to %d", path, r.SchemaVersion, oldestSchemaVersion, SchemaVersion)
	}
	for i, res := range r.Results {
		if !verdict.Known(res.Verdict) {
			return nil, fmt.Errorf("%s: results[%d] (%s on %s %s): unknown verdict %q", path, i, res.Scenario, res.Kernel, res.Cell, res.Verdict)
		}
	}
	return &r, nil
}

// decodeError says where a results.json that does not decode went wrong:
// the byte offset, and the field for a value of the wrong type.
func decodeError(err error, size int) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax) && syntax.Offset >= int64(size):
		return fmt.Errorf("truncated: it ends at byte %d inside a value (a run that was killed while writing it?)", size)
	case errors.As(err, &syntax):
		return fmt.Errorf("byte %d: %w", syntax.Offset, err)
	case errors.As(err, &typ):
		return fmt.Errorf("field %s (byte %d): a JSON %s where %s belongs", typ.Field, typ.Offset, typ.Value, typ.Type)
	}
	return err
}

// Merge combines shard outputs of one matrix into one result, refusing
// inputs from different matrix definitions or covering a cell twice.
func Merge(parts []*Results) (*Results, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("nothing to merge")
	}
	out := &Results{SchemaVersion: SchemaVersion, MatrixID: parts[0].MatrixID, Started: parts[0].Started, Accel: parts[0].Accel}
	seen := map[[2]string]string{}
	described := map[string]bool{}
	for _, p := range parts {
		if p.MatrixID != out.MatrixID {
			return nil, fmt.Errorf("shard %q is of matrix %s, not %s: the inputs come from different matrix definitions", p.Shard, p.MatrixID, out.MatrixID)
		}
		for _, c := range p.Cells {
			key := [2]string{c.Kernel, c.Cell}
			if other, dup := seen[key]; dup {
				return nil, fmt.Errorf("%s %s is in shard %q and shard %q", c.Kernel, c.Cell, other, p.Shard)
			}
			seen[key] = p.Shard
		}
		if p.Started.Before(out.Started) {
			out.Started = p.Started
		}
		out.DurationMS = max(out.DurationMS, p.DurationMS)
		out.ImageMS = max(out.ImageMS, p.ImageMS)
		for _, sc := range p.Scenarios {
			if !described[sc.Name] {
				described[sc.Name] = true
				out.Scenarios = append(out.Scenarios, sc)
			}
		}
		out.Interrupted = out.Interrupted || p.Interrupted
		out.Swept = append(out.Swept, p.Swept...)
		out.Cells = append(out.Cells, p.Cells...)
		out.Results = append(out.Results, p.Results...)
	}
	slices.SortStableFunc(out.Cells, func(a, b Cell) int {
		return cmp.Or(strings.Compare(a.Kernel, b.Kernel), strings.Compare(a.Cell, b.Cell))
	})
	slices.SortStableFunc(out.Results, func(a, b ScenarioResult) int {
		return cmp.Or(strings.Compare(a.Scenario, b.Scenario), strings.Compare(a.Kernel, b.Kernel), strings.Compare(a.Cell, b.Cell))
	})
	return out, nil
}

// AllPassed is true when every scenario on every cell passed (skips count
// as passes) and no cell failed to run.
func (r *Results) AllPassed() bool {
	for _, c := range r.Cells {
		if c.Error != "" {
			return false
		}
	}
	for _, s := range r.Results {
		if s.Verdict != verdict.Pass && s.Verdict != verdict.Skip {
			return false
		}
	}
	return len(r.Results) > 0
}
