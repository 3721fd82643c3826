package agent

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modmatrix.dev/modmatrix/harness/protocol"
)

// oopsWatch is when a poll of kmsg first saw an oops, shared by the steps
// that run at the same time.
type oopsWatch struct{ at atomic.Int64 }

func (w *oopsWatch) see() { w.at.CompareAndSwap(0, time.Now().UnixNano()) }

func (w *oopsWatch) since() time.Time {
	if n := w.at.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// runLoops runs a repeat or concurrent step: each loop in a goroutine of
// its own, every inner step in an OS thread of its own (as runWatched does),
// all in the guest with no round trip to the host. Each finished
// iteration is streamed as an EventIteration; the loops stop at the first
// iteration that hung, died, failed in the agent or printed an oops, so a
// crash at iteration k is reported as k's. The result is the whole step's:
// taint before and after the loops, the total duration, and which
// iteration stopped them (Stopped), as an Error too when the agent failed
// there rather than the kernel printing an oops.
func (a *Agent) runLoops(scenario string, index int, st protocol.Step) (protocol.StepResult, bool) {
	res := protocol.StepResult{Step: st, TaintBefore: a.Sys.Taint(), KmsgSeqStart: a.Kmsg.Next()}
	start := time.Now()
	l := &loopRun{a: a, scenario: scenario, index: index, loops: len(st.Loops), watch: &oopsWatch{}}
	var wg sync.WaitGroup
	for li, loop := range st.Loops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.run(li, loop)
		}()
	}
	wg.Wait()
	res.DurationUS = time.Since(start).Microseconds()
	res.TaintAfter = a.Sys.Taint()
	res.Kmsg = a.Kmsg.ReadAvailable()
	res.KmsgSeqEnd = a.Kmsg.Next()
	if l.loaded {
		a.lastLoad = time.Now()
	}
	res.Stopped, res.Hung, res.Died = l.stopped, l.hung, l.died
	if l.failed || l.hung || l.died {
		// A hang or death in one loop after an oops in another is still
		// the step's end: the host reads Error as its why.
		res.Error = l.stopped
	}
	res.Clocksource = a.Sys.Clocksource()
	return res, l.hung || l.died
}

// loopRun is the state the loops of one step share.
type loopRun struct {
	a        *Agent
	scenario string
	index    int
	loops    int
	watch    *oopsWatch

	stop atomic.Bool
	mu   sync.Mutex // guards the fields below and the event channel
	// stopped names the iteration that stopped the loops and why; failed
	// is set when that was the agent's failure (an inner step's error,
	// hang or death, the event channel), not an oops it saw.
	stopped    string
	failed     bool
	hung, died bool
	loaded     bool
}

func (l *loopRun) run(li int, loop protocol.Loop) {
	for k := 1; k <= loop.Count && !l.stop.Load(); k++ {
		it := protocol.Iteration{Loop: li, Index: k}
		var why string
		failed := false
		for _, st := range loop.Steps {
			res, hung := l.a.runWatched(st, l.watch, nil)
			// The host has the plan: an iteration's results echo only
			// what names the step.
			res.Step = protocol.Step{Action: st.Action, Module: st.Module}
			it.Steps = append(it.Steps, res)
			l.mu.Lock()
			if st.Action == protocol.ActionLoad && res.Errno == "" && res.Error == "" {
				l.loaded = true
			}
			l.hung, l.died = l.hung || res.Hung, l.died || res.Died
			l.mu.Unlock()
			if hung || res.Error != "" {
				why, failed = res.Error, true
				break
			}
			if hasOops(res.Kmsg) {
				why = "the kernel oopsed"
				break
			}
		}
		l.mu.Lock()
		if err := l.a.emit(protocol.Event{Kind: protocol.EventIteration, Scenario: l.scenario, StepIndex: l.index, Iteration: &it}); err != nil {
			why, failed = "event channel: "+err.Error(), true
		}
		if why != "" && l.stopped == "" {
			l.stopped = fmt.Sprintf("iteration %d/%d%s: %s", k, loop.Count, l.loopName(li), why)
			l.failed = failed
		}
		l.mu.Unlock()
		if why != "" {
			l.stop.Store(true)
		}
	}
}

// loopName tells a concurrent step's loops apart in messages.
func (l *loopRun) loopName(li int) string {
	if l.loops < 2 {
		return ""
	}
	return fmt.Sprintf(" of loop %d", li+1)
}

// Clocksource is the kernel's current clocksource ("tsc", "refined-jiffies"),
// "" when sysfs does not say.
func (s System) Clocksource() string {
	b, err := os.ReadFile(s.path("/sys/devices/system/clocksource/clocksource0/current_clocksource"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// loopModules names every module a loop step's loads may have loaded.
func loopModules(st protocol.Step) []string {
	var out []string
	for _, l := range st.Loops {
		for _, in := range l.Steps {
			if in.Action == protocol.ActionLoad && !slices.Contains(out, in.Module) {
				out = append(out, in.Module)
			}
		}
	}
	return out
}
