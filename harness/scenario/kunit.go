package scenario

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"modmatrix.dev/modmatrix/harness/kconfig"
	"modmatrix.dev/modmatrix/harness/ktap"
)

// Requirement is a scenario's `requires:` predicate: on a kernel where it
// does not hold the scenario is SKIP, and its modules are not built (a
// KUnit module does not link against a kernel without CONFIG_KUNIT).
type Requirement struct {
	Line int
	Src  string
	Pred kconfig.Predicate
}

// Holds evaluates the requirement for a kernel (see kconfig.Lookup).
func (r *Requirement) Holds(lookup func(sym string) string) bool {
	return r == nil || r.Pred.Eval(lookup)
}

// KUnitExpect is one `kunit:` entry: the case, named "suite.case" (or
// "suite.case.param" for a parameter of a parameterised case), must report
// Status in the step's KTAP.
type KUnitExpect struct {
	Line   int
	Case   string
	Status ktap.Status
}

// kunitStatusWords maps what a scenario file may write to a status.
var kunitStatusWords = map[string]ktap.Status{
	"pass": ktap.Pass, "ok": ktap.Pass,
	"fail": ktap.Fail, "not ok": ktap.Fail,
	"skip":  ktap.Skip,
	"crash": ktap.Crash,
}

// KUnitStatus reads a status as scenario files write it (pass, ok, fail,
// "not ok", skip, crash; any case).
func KUnitStatus(word string) (ktap.Status, bool) {
	s, ok := kunitStatusWords[strings.ToLower(strings.TrimSpace(word))]
	return s, ok
}

func (p *parser) requires(n *yaml.Node) *Requirement {
	src, ok := p.str(n, "requires")
	if !ok {
		return nil
	}
	pred, err := kconfig.ParsePredicate(src)
	if err != nil {
		p.errorf(n, "requires: %v", err)
		return nil
	}
	if p.opts.knownSymbol != nil {
		for _, sym := range pred.Symbols() {
			if sym != kconfig.KernelVersion && !kconfig.IsCmdline(sym) && !p.opts.knownSymbol(sym) {
				p.errorf(n, "unknown Kconfig symbol CONFIG_%s in requires %q", sym, src)
			}
		}
	}
	return &Requirement{Line: n.Line, Src: src, Pred: pred}
}

// kunit reads `kunit: {suite.case: pass, suite.other: fail}`.
func (p *parser) kunit(n *yaml.Node) []KUnitExpect {
	var out []KUnitExpect
	for _, f := range p.fields(n, "kunit") {
		word, ok := p.str(f.val, "kunit "+f.key)
		if !ok {
			continue
		}
		st, known := KUnitStatus(word)
		switch {
		case strings.TrimSpace(f.key) == "":
			p.errorf(f.keyNode, "kunit: empty case name")
		case !known:
			p.errorf(f.val, "kunit %s: unknown status %q: want pass (ok), fail, skip or crash", f.key, word)
		default:
			out = append(out, KUnitExpect{Line: f.keyNode.Line, Case: f.key, Status: st})
		}
	}
	if len(out) == 0 && n.Kind == yaml.MappingNode && len(n.Content) == 0 {
		p.errorf(n, "kunit: no cases")
	}
	return out
}

// Describe names the requirement for a SKIP reason.
func (r *Requirement) Describe(file string) string {
	return fmt.Sprintf("requires %s (%s:%d)", r.Src, file, r.Line)
}
