// Package progress prints what a run is doing, one line per change, with
// the time the run has spent so far; a long stage (a kernel build) gets a
// reminder line every Interval so a CI log never goes quiet for minutes.
package progress

import (
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"modmatrix.dev/modmatrix/harness/report"
)

// Interval is how often a unit still in the same stage is reported again.
const Interval = 30 * time.Second

type state struct {
	stage      string
	stageStart time.Time
	unitStart  time.Time
	done       bool
}

// Lines prints progress as lines.
type Lines struct {
	mu    sync.Mutex
	w     io.Writer
	units map[string]*state
	began time.Time
	stop  chan struct{}
	once  sync.Once
	// unpacked is the last tenth reported per tarball.
	unpacked map[string]int64
}

// New prints to w until Close.
func New(w io.Writer) *Lines {
	l := &Lines{w: w, units: map[string]*state{}, began: time.Now(), stop: make(chan struct{})}
	go l.remind()
	return l
}

// Close stops the reminders.
func (l *Lines) Close() { l.once.Do(func() { close(l.stop) }) }

// Stage reports a unit entering a stage.
func (l *Lines) Stage(kernel, cell, stage string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	key := kernel + " " + cell
	now := time.Now()
	s, ok := l.units[key]
	if !ok {
		s = &state{unitStart: now}
		l.units[key] = s
	}
	s.stage, s.stageStart = stage, now
	fmt.Fprintf(l.w, "[%s] %-22s %s\n", clock(time.Since(l.began)), key, stage)
}

// Unpacking prints a line per tenth of a kernel source tarball unpacked.
func (l *Lines) Unpacking(series, tarball string, read, total int64) {
	tenth := read * 10 / total
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.unpacked == nil {
		l.unpacked = map[string]int64{}
	}
	if last, ok := l.unpacked[tarball]; ok && last == tenth {
		return
	}
	l.unpacked[tarball] = tenth
	fmt.Fprintf(l.w, "[%s] linux-source-%-9s %s\n", clock(time.Since(l.began)), series, unpackingLine(tarball, read, total))
}

func unpackingLine(tarball string, read, total int64) string {
	return fmt.Sprintf("unpacking %s: %d%% of %d MB", tarball, read*100/total, total>>20)
}

// Verbose prints progress and every guest console line.
type Verbose struct{ *Lines }

// Console prints one guest console line, prefixed with its unit.
func (v Verbose) Console(kernel, cell, line string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	fmt.Fprintf(v.w, "%s %s | %s\n", kernel, cell, line)
}

// CellDone reports a finished unit with its verdict counts.
func (l *Lines) CellDone(c report.Cell, results []report.ScenarioResult) {
	l.mu.Lock()
	defer l.mu.Unlock()
	key := c.Kernel + " " + c.Cell
	took := ""
	if s, ok := l.units[key]; ok {
		s.done = true
		took = " in " + clock(time.Since(s.unitStart))
	}
	counts := map[string]int{}
	for _, r := range results {
		counts[string(r.Verdict)]++
	}
	verdicts := make([]string, 0, len(counts))
	for v, n := range counts {
		verdicts = append(verdicts, fmt.Sprintf("%d %s", n, v))
	}
	sort.Strings(verdicts)
	fmt.Fprintf(l.w, "[%s] %-22s done%s: %s, %v\n", clock(time.Since(l.began)), key, took, vms(c), verdicts)
}

func (l *Lines) remind() {
	t := time.NewTicker(Interval)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		l.mu.Lock()
		keys := make([]string, 0, len(l.units))
		for k := range l.units {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if s := l.units[k]; !s.done && time.Since(s.stageStart) >= Interval {
				fmt.Fprintf(l.w, "[%s] %-22s %s (%s so far)\n", clock(time.Since(l.began)), k, s.stage, clock(time.Since(s.stageStart)))
			}
		}
		l.mu.Unlock()
	}
}

func clock(d time.Duration) string {
	d = d.Round(time.Second)
	return fmt.Sprintf("%d:%02d", int(d.Minutes()), int(d.Seconds())%60)
}

// vms says how a cell's scenarios got their VMs: "0 boot(s), 20 restore(s)".
func vms(c report.Cell) string {
	s := fmt.Sprintf("%d boot(s), %d restore(s)", c.Boots, c.Restores)
	if c.SnapshotNote != "" {
		s += " (" + c.SnapshotNote + ")"
	}
	return s
}
