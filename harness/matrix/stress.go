package matrix

import (
	"fmt"
	"strings"

	"modmatrix.dev/modmatrix/harness/protocol"
)

// planSteps counts a plan's steps for the boot's timeout: a loop step
// counts its inner step runs at a quarter each (a load or unload takes
// milliseconds even under TCG), plus one agent step timeout (30 s).
func planSteps(steps []protocol.Step) int {
	n := 0
	for _, st := range steps {
		n++
		if len(st.Loops) == 0 {
			continue
		}
		runs := 0
		for _, l := range st.Loops {
			runs += l.Count * len(l.Steps)
		}
		n += 15 + runs/4
	}
	return n
}

// WithRepeat runs each scenario's step sequence n times in one VM, as
// one repeat step (timed per load and unload, a failure naming its
// iteration). A scenario that leaves the kernel otherwise than it found it
// on a cell (a module left loaded, a taint, an expected report), that
// already loops or that expects a hang runs once there, with a note
// saying why.
func WithRepeat(n int) Option { return func(c *Config) { c.Repeat = n } }

// applyRepeat turns the cell's scenarios into their --repeat form.
func (r *cellRun) applyRepeat() {
	n := r.m.cfg.Repeat
	if n <= 1 {
		return
	}
	r.notes = map[string]string{}
	lookup := r.lookup()
	for i, sc := range r.own {
		rep, why := sc.Repeated(n, lookup)
		if why != "" {
			r.notes[sc.Name] = fmt.Sprintf("--repeat %d not applied, ran once: %s:%s", n, sc.File, strings.TrimPrefix(why, "line "))
			continue
		}
		r.own[i] = rep
		r.notes[sc.Name] = fmt.Sprintf("--repeat %d: the steps ran %d times in one VM", n, n)
	}
}
