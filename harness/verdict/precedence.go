package verdict

import "slices"

// precedence ranks the verdicts, the one that wins first: a scenario that
// earns several (a step hung, another printed an oops, a third differed
// from its expectation) gets the first of them in this list, with the
// reason of the first problem found for it. A guest that hung or crashed
// never gets a kinder verdict, and nothing that went wrong is a PASS.
var precedence = []Verdict{Hang, Crash, Error, Fail, Skip, Pass}

// Known tells whether v is one of the verdicts modmatrix gives.
func Known(v Verdict) bool { return slices.Contains(precedence, v) }

// rank is v's place in precedence, lower winning.
func rank(v Verdict) int { return slices.Index(precedence, v) }

// Worst is the verdict that wins among vs (PASS for none).
func Worst(vs ...Verdict) Verdict {
	w := Pass
	for _, v := range vs {
		if rank(v) < rank(w) {
			w = v
		}
	}
	return w
}

// outcome gathers the verdicts a scenario earns, each with the reason of
// the first problem that earned it.
type outcome struct {
	reasons map[Verdict]string
	order   []Verdict
}

// add records that v is earned for reason; a reason for a verdict already
// earned is kept only if it came first.
func (o *outcome) add(v Verdict, reason string) {
	if o.reasons == nil {
		o.reasons = map[Verdict]string{}
	}
	if _, ok := o.reasons[v]; ok {
		return
	}
	o.reasons[v] = reason
	o.order = append(o.order, v)
}

// addIf is add where the reason says whether v was earned at all.
func (o *outcome) addIf(v Verdict, reason string) {
	if reason != "" {
		o.add(v, reason)
	}
}

// verdict is the winning verdict and its reason (PASS, "" when nothing
// was earned).
func (o *outcome) verdict() (Verdict, string) {
	w := Worst(o.order...)
	return w, o.reasons[w]
}

// All lists every verdict, the one that wins first.
func All() []Verdict { return slices.Clone(precedence) }
