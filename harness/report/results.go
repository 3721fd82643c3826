// Package report holds a run's results (results.json) and renders them:
// the scenario × cell table for the terminal.
package report

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"modmatrix.dev/modmatrix/harness/verdict"
)

// SchemaVersion is bumped whenever a field of results.json changes meaning
// or disappears; new fields do not bump it.
const SchemaVersion = 1

// Results is results.json.
type Results struct {
	SchemaVersion int       `json:"schema_version"`
	Started       time.Time `json:"started"`
	DurationMS    int64     `json:"duration_ms"`
	Accel         string    `json:"accel"`
	// Interrupted is true when the run was stopped before every cell finished.
	Interrupted bool             `json:"interrupted,omitempty"`
	Cells       []Cell           `json:"cells"`
	Results     []ScenarioResult `json:"results"`
}

// Cell is one kernel version × Kconfig cell.
type Cell struct {
	Kernel string `json:"kernel"`
	Cell   string `json:"cell"`
	// KernelKey is the kernel's cache key; KernelCached whether it was a hit.
	KernelKey     string `json:"kernel_key,omitempty"`
	KernelCached  bool   `json:"kernel_cached"`
	KernelBuildMS int64  `json:"kernel_build_ms"`
	Boots         int    `json:"boots"`
	// Error is set when the cell could not run at all (build failure, …).
	Error string `json:"error,omitempty"`
	// Reports are kernel reports no scenario step accounts for, such as a
	// leak in no test module's memory.
	Reports []verdict.Report `json:"reports,omitempty"`
}

// ScenarioResult is one scenario on one cell.
type ScenarioResult struct {
	Kernel     string          `json:"kernel"`
	Cell       string          `json:"cell"`
	Scenario   string          `json:"scenario"`
	Verdict    verdict.Verdict `json:"verdict"`
	Reason     string          `json:"reason,omitempty"`
	DurationMS int64           `json:"duration_ms"`
	// Boot is the 1-based boot of the cell that ran the scenario.
	Boot       int          `json:"boot"`
	Steps      []StepRecord `json:"steps"`
	ConsoleLog string       `json:"console_log,omitempty"`
	EventLog   string       `json:"event_log,omitempty"`
}

// StepRecord is one step as observed, with what was expected of it.
type StepRecord struct {
	Action      string             `json:"action"`
	Module      string             `json:"module,omitempty"`
	Params      string             `json:"params,omitempty"`
	Flags       []string           `json:"flags,omitempty"`
	Path        string             `json:"path,omitempty"`
	Errno       string             `json:"errno"`
	Error       string             `json:"error,omitempty"`
	TaintBefore uint64             `json:"taint_before"`
	TaintAfter  uint64             `json:"taint_after"`
	ProcModules string             `json:"proc_modules"`
	Sysfs       map[string]string  `json:"sysfs,omitempty"`
	Kallsyms    map[string]bool    `json:"kallsyms,omitempty"`
	Files       map[string]bool    `json:"files,omitempty"`
	Kmsg        []string           `json:"kmsg"`
	DurationUS  int64              `json:"duration_us"`
	Expected    []string           `json:"expected,omitempty"`
	Mismatches  []verdict.Mismatch `json:"mismatches,omitempty"`
	// Reports are the kernel reports (oops, WARNING, …) printed during the step.
	Reports []verdict.Report `json:"reports,omitempty"`
	Hung    bool             `json:"hung,omitempty"`
	Died    bool             `json:"died,omitempty"`
}

// Write saves results.json atomically in dir.
func (r *Results) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(dir, "results.json")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
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
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if r.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("%s: schema version %d, this modmatrix reads %d", path, r.SchemaVersion, SchemaVersion)
	}
	return &r, nil
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
