package progress

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"modmatrix.dev/modmatrix/harness/report"
)

// IsTerminal reports whether f is a terminal (a live view makes sense).
func IsTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// Live redraws a status block in a terminal: how many cells are done,
// running and left, and each running cell's stage with its elapsed time.
// Finished cells get a permanent line above the block.
type Live struct {
	mu    sync.Mutex
	w     io.Writer
	units map[string]*state
	began time.Time
	drawn int // lines of the block on screen
	// unpacking is what each kernel source being unpacked has got to.
	unpacking map[string]string
	stop      chan struct{}
	done      chan struct{}
	closed    sync.Once
}

// NewLive starts redrawing on w until Close.
func NewLive(w io.Writer) *Live {
	l := &Live{w: w, units: map[string]*state{}, began: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-t.C:
				l.mu.Lock()
				l.redraw()
				l.mu.Unlock()
			}
		}
	}()
	return l
}

// Close stops redrawing and leaves the last block on screen.
func (l *Live) Close() {
	l.closed.Do(func() {
		close(l.stop)
		<-l.done
		l.mu.Lock()
		l.redraw()
		l.mu.Unlock()
	})
}

// Stage records a unit's stage; "queued" units count as left.
func (l *Live) Stage(kernel, cell, stage string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	key := kernel + " " + cell
	s, ok := l.units[key]
	if !ok {
		s = &state{}
		l.units[key] = s
	}
	if stage != "queued" && s.unitStart.IsZero() {
		s.unitStart = time.Now()
	}
	s.stage, s.stageStart = stage, time.Now()
	l.redraw()
}

// Unpacking shows a kernel source's unpacking in the block until it ends.
func (l *Live) Unpacking(series, tarball string, read, total int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.unpacking == nil {
		l.unpacking = map[string]string{}
	}
	key := "linux-source-" + series
	if read >= total {
		delete(l.unpacking, key)
	} else {
		l.unpacking[key] = unpackingLine(tarball, read, total)
	}
	l.redraw()
}

// CellDone prints the finished cell above the block.
func (l *Live) CellDone(c report.Cell, results []report.ScenarioResult) {
	l.mu.Lock()
	defer l.mu.Unlock()
	key := c.Kernel + " " + c.Cell
	s, ok := l.units[key]
	if !ok {
		s = &state{unitStart: time.Now()}
		l.units[key] = s
	}
	s.done = true
	l.clear()
	fmt.Fprintf(l.w, "%-22s %s in %s, %s\n", key, verdictCounts(results), clock(time.Since(s.unitStart)), vms(c))
	l.redraw()
}

func (l *Live) clear() {
	for range l.drawn {
		fmt.Fprint(l.w, "\x1b[1A\x1b[2K")
	}
	l.drawn = 0
}

func (l *Live) redraw() {
	l.clear()
	var running []string
	done, left := 0, 0
	for k, s := range l.units {
		switch {
		case s.done:
			done++
		case s.stage == "queued":
			left++
		default:
			running = append(running, k)
		}
	}
	sort.Strings(running)
	fmt.Fprintf(l.w, "[%s] %d done, %d running, %d left\n", clock(time.Since(l.began)), done, len(running), left)
	l.drawn = 1
	sources := make([]string, 0, len(l.unpacking))
	for k := range l.unpacking {
		sources = append(sources, k)
	}
	sort.Strings(sources)
	for _, k := range sources {
		fmt.Fprintf(l.w, "  %-22s %s\n", k, l.unpacking[k])
		l.drawn++
	}
	for _, k := range running {
		s := l.units[k]
		fmt.Fprintf(l.w, "  %-22s %s (%s)\n", k, s.stage, clock(time.Since(s.stageStart)))
		l.drawn++
	}
}

func verdictCounts(results []report.ScenarioResult) string {
	counts := map[string]int{}
	for _, r := range results {
		counts[string(r.Verdict)]++
	}
	var parts []string
	for v, n := range counts {
		parts = append(parts, fmt.Sprintf("%d %s", n, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}
