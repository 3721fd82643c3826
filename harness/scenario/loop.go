package scenario

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"modmatrix.dev/modmatrix/harness/kernel"
	"modmatrix.dev/modmatrix/harness/kreport/kinds"
	"modmatrix.dev/modmatrix/harness/protocol"
)

// MaxRepeat bounds a loop's count: the agent streams one event per
// iteration and the host keeps them all.
const MaxRepeat = 100000

// Loop is a sequence of steps the guest runs Count times in a row, every
// inner step's expectations applying to every iteration.
type Loop struct {
	Line  int
	Count int
	Steps []Step
}

// IsLoop tells a repeat or concurrent step from a plain one.
func (st Step) IsLoop() bool { return len(st.Loops) > 0 }

// FlatSteps is every step of the scenario, a loop's inner steps (once) in
// place of the loop: what the scenario loads, whatever the repeats.
func (s *Scenario) FlatSteps() []Step {
	var out []Step
	for _, st := range s.Steps {
		if !st.IsLoop() {
			out = append(out, st)
			continue
		}
		for _, l := range st.Loops {
			out = append(out, l.Steps...)
		}
	}
	return out
}

// Repeated is the scenario with its whole step sequence run n times in one
// boot (modmatrix run --repeat N): a repeat step over its steps. A
// scenario that already loops, or whose steps cannot be repeated (see
// RepeatableSteps), or that leaves the kernel of lookup otherwise than it
// found it (see LeavesClean) comes back unchanged with the reason: its
// second iteration would start from another state than its first.
func (s *Scenario) Repeated(n int, lookup func(string) string) (*Scenario, string) {
	if n <= 1 {
		return s, ""
	}
	if why := RepeatableSteps(s.Steps); why != "" {
		return s, why
	}
	if why := s.LeavesClean(lookup); why != "" {
		return s, why
	}
	out := *s
	out.Steps = []Step{{Line: s.Steps[0].Line, Action: protocol.ActionRepeat,
		Loops: []Loop{{Line: s.Steps[0].Line, Count: n, Steps: s.Steps}}}}
	return &out, ""
}

// RepeatableSteps says why a step sequence cannot go in a loop ("" when it
// can): a loop's steps must not loop themselves, be built for another
// kernel, or expect a hang or KUnit results.
func RepeatableSteps(steps []Step) string {
	for _, st := range steps {
		switch {
		case st.IsLoop():
			return fmt.Sprintf("line %d: %s already loops", st.Line, st.Action)
		case st.BuiltFor != nil:
			return fmt.Sprintf("line %d: %s loads a module built for another kernel", st.Line, st.Describe())
		case st.Action == protocol.ActionModprobe:
			return fmt.Sprintf("line %d: %s: a loop keeps errnos, not modprobe's exit status", st.Line, st.Describe())
		}
		for _, e := range st.Expect {
			ends := slices.IndexFunc(e.Reports, func(r ReportExpect) bool { return endsBoot(r.Kind) })
			switch {
			case e.Hung != nil && *e.Hung:
				return fmt.Sprintf("line %d: %s expects a hang", e.Line, st.Describe())
			case len(e.KUnit) > 0:
				return fmt.Sprintf("line %d: %s expects KUnit results", e.Line, st.Describe())
			case ends >= 0:
				return fmt.Sprintf("line %d: %s expects a %s, which ends the boot", e.Line, st.Describe(), e.Reports[ends].Kind)
			case slices.ContainsFunc(e.Reports, func(r ReportExpect) bool { return r.Kind == kinds.Leftover }):
				return fmt.Sprintf("line %d: %s expects a leftover: loops keep no resource ledger", e.Line, st.Describe())
			}
		}
	}
	return ""
}

// endsBoot: a report of kind k kills its task or hangs it.
func endsBoot(k kinds.Kind) bool {
	return k == kinds.Hang || k.Crash()
}

// loopStep parses a step whose action is repeat or concurrent; ok is false
// for any other step.
//
//   - repeat: 200
//     steps: [...]
//   - concurrent:
//   - {repeat: 50, steps: [...]}
//   - {repeat: 50, steps: [...]}
func (p *parser) loopStep(n *yaml.Node) (st Step, ok bool) {
	n = deref(n)
	isRepeat, isConcurrent := loopKeys(n)
	if !isRepeat && !isConcurrent {
		return Step{}, false
	}
	st = Step{Line: n.Line}
	if isRepeat && isConcurrent {
		p.errorf(n, "step has two actions: repeat and concurrent")
		return st, true
	}
	if isRepeat {
		st.Action = protocol.ActionRepeat
		st.Loops = []Loop{p.loop(n, false)}
		return st, true
	}
	st.Action = protocol.ActionConcurrent
	for _, f := range p.fields(n, "concurrent step", "concurrent") {
		items := p.seq(f.val, "concurrent")
		if len(items) < 2 {
			p.errorf(f.val, "concurrent needs at least two loops, each {repeat: N, steps: [...]}")
		}
		for _, item := range items {
			st.Loops = append(st.Loops, p.loop(item, true))
		}
	}
	p.independent(st)
	return st, true
}

// loopKeys tells whether a step mapping has a repeat or concurrent key.
func loopKeys(n *yaml.Node) (repeat, concurrent bool) {
	if n.Kind != yaml.MappingNode {
		return false, false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch n.Content[i].Value {
		case string(protocol.ActionRepeat):
			repeat = true
		case string(protocol.ActionConcurrent):
			concurrent = true
		}
	}
	return repeat, concurrent
}

// loop reads {repeat: N, steps: [...]}; in a concurrent step repeat may be
// left out (once).
func (p *parser) loop(n *yaml.Node, concurrent bool) Loop {
	l := Loop{Line: n.Line, Count: 1}
	what := "repeat step"
	if concurrent {
		what = "concurrent loop"
	}
	sawCount, sawSteps := false, false
	for _, f := range p.fields(n, what, "repeat", "steps") {
		switch f.key {
		case "repeat":
			sawCount = true
			c, err := strconv.Atoi(f.val.Value)
			if f.val.Kind != yaml.ScalarNode || err != nil || c < 1 || c > MaxRepeat {
				p.errorf(f.val, "repeat must be a count from 1 to %d, not %s", MaxRepeat, describeNode(f.val))
				continue
			}
			l.Count = c
		case "steps":
			sawSteps = true
			items := p.seq(f.val, "steps")
			if len(items) == 0 {
				p.errorf(f.keyNode, "steps is empty")
			}
			for _, item := range items {
				if r, c := loopKeys(item); r || c {
					p.errorf(item, "a loop's steps cannot loop themselves")
					continue
				}
				l.Steps = append(l.Steps, p.innerStep(item, concurrent))
			}
		}
	}
	if !sawCount && !concurrent {
		p.errorf(n, "repeat step needs a count")
	}
	if !sawSteps && deref(n).Kind == yaml.MappingNode {
		p.errorf(n, "%s has no steps", what)
	}
	return l
}

// innerStep is a step of a loop: any plain step, but none that would end
// the loop on purpose or that the guest cannot tell apart between loops
// running at once.
func (p *parser) innerStep(n *yaml.Node, concurrent bool) Step {
	st := p.step(n)
	if why := RepeatableSteps([]Step{st}); why != "" {
		_, msg, _ := strings.Cut(why, ": ")
		p.errorf(n, "a loop cannot repeat this step: %s", msg)
	}
	if !concurrent {
		return st
	}
	if st.Action == protocol.ActionOpen || st.Action == protocol.ActionClose {
		p.errorf(n, "%s cannot run in a concurrent loop: the loops would share the agent's open files", st.Action)
	}
	for _, e := range st.Expect {
		if len(e.Kmsg) > 0 || len(e.KmsgAbsent) > 0 || len(e.Reports) > 0 {
			p.errorAt(e.Line, "kmsg, kmsg_absent and report cannot be expected in a concurrent loop: the kernel log does not say which loop printed a record")
		}
	}
	return st
}

// independent rejects concurrent loops that act on the same module: their
// errnos would depend on the interleaving.
func (p *parser) independent(st Step) {
	owner := map[string]int{}
	for li, l := range st.Loops {
		for _, in := range l.Steps {
			if in.Module == "" {
				continue
			}
			if first, ok := owner[in.Module]; ok && first != li {
				p.errorAt(in.Line, "concurrent loops %d and %d both act on module %s; concurrent loops must be independent", first+1, li+1, in.Module)
				continue
			}
			owner[in.Module] = li
		}
	}
}

// planLoops is the protocol form of a loop step's loops.
func planLoops(loops []Loop) []protocol.Loop {
	var out []protocol.Loop
	for _, l := range loops {
		pl := protocol.Loop{Count: l.Count}
		for _, st := range l.Steps {
			pl.Steps = append(pl.Steps, st.Plan())
		}
		out = append(out, pl)
	}
	return out
}

// describeLoops names a loop step: "repeat 200× [load hello, unload hello]".
func describeLoops(st Step) string {
	var parts []string
	for _, l := range st.Loops {
		var inner []string
		for _, in := range l.Steps {
			inner = append(inner, in.Describe())
		}
		parts = append(parts, fmt.Sprintf("%d× [%s]", l.Count, strings.Join(inner, ", ")))
	}
	return fmt.Sprintf("%s %s", st.Action, strings.Join(parts, " ‖ "))
}

// LeavesClean says, from the scenario's own expectations for kernel lookup,
// why the scenario leaves the kernel in another state than it found it ("":
// it does not): a module it expects loaded and never expects unloaded, a
// taint it expects gained, a kernel report it expects. A load with no
// errno or loaded expectation counts as loaded.
func (s *Scenario) LeavesClean(lookup func(string) string) string {
	loaded := map[string]int{} // module → line of the load that left it
	for _, st := range s.FlatSteps() {
		var errno *string
		var isLoaded *bool
		for _, e := range st.Applicable(lookup) {
			if e.Errno != nil {
				errno = e.Errno
			}
			if e.Loaded != nil {
				isLoaded = e.Loaded
			}
			if gained := e.TaintGained &^ kernel.HarmlessTaint; gained != 0 {
				return fmt.Sprintf("line %d: %s expects taint %s", e.Line, st.Describe(), kernel.TaintString(gained))
			}
			for _, r := range e.Reports {
				if !r.Kind.Benign() {
					return fmt.Sprintf("line %d: %s expects a kernel report %s", r.Line, st.Describe(), r.Kind)
				}
			}
		}
		ok := errno != nil && *errno == ""
		switch st.Action {
		case protocol.ActionLoad:
			if isLoaded != nil && *isLoaded || isLoaded == nil && (errno == nil || ok) {
				loaded[st.Module] = st.Line
			}
		case protocol.ActionUnload:
			if isLoaded != nil && !*isLoaded || isLoaded == nil && ok {
				delete(loaded, st.Module)
			}
		}
	}
	if len(loaded) == 0 {
		return ""
	}
	// The first by name, so the note is the same from run to run.
	m := slices.Min(slices.Collect(maps.Keys(loaded)))
	return fmt.Sprintf("line %d: it leaves module %s loaded", loaded[m], m)
}
