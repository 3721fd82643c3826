package vm

import (
	"strings"
	"sync"
	"time"

	"modmatrix.dev/modmatrix/harness/kreport/kinds"
)

// stallWatch kills a VM that stays silent after an oops: the console shows
// the oops, then no agent event arrives for d.
type stallWatch struct {
	d        time.Duration
	mu       sync.Mutex
	oops     time.Time
	lastSign time.Time
}

func newStallWatch(d time.Duration) *stallWatch {
	if d <= 0 {
		return nil
	}
	return &stallWatch{d: d}
}

func (w *stallWatch) console(line string) {
	if w == nil {
		return
	}
	// Console lines carry a "[    1.368050] " timestamp prefix.
	if _, text, ok := strings.Cut(line, "] "); ok {
		line = text
	}
	// A report that may kill a task (kinds.CrashMarkers): after it, the
	// guest may be wedged.
	if kinds.StartsCrash(line) {
		w.mu.Lock()
		if w.oops.IsZero() {
			w.oops, w.lastSign = time.Now(), time.Now()
		}
		w.mu.Unlock()
	}
}

func (w *stallWatch) event() {
	if w == nil {
		return
	}
	w.mu.Lock()
	w.lastSign = time.Now()
	w.mu.Unlock()
}

// watch polls until stop is called; stop reports whether it killed the VM.
func (w *stallWatch) watch(kill func() error) (stop func() bool) {
	if w == nil {
		return func() bool { return false }
	}
	done := make(chan struct{})
	killed := make(chan bool, 1)
	go func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				killed <- false
				return
			case <-t.C:
			}
			w.mu.Lock()
			stalled := !w.oops.IsZero() && time.Since(w.lastSign) > w.d
			w.mu.Unlock()
			if stalled {
				_ = kill()
				<-done
				killed <- true
				return
			}
		}
	}()
	return func() bool {
		close(done)
		return <-killed
	}
}
