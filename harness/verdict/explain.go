package verdict

// Explanation is what one step is expected to do on one kernel: the
// conditions of the expect blocks whose when: held there, in the words
// results.json's "expected" uses, and the blocks they came from.
type Explanation struct {
	Index    int      `json:"index"`
	Line     int      `json:"line"`
	Step     string   `json:"step"`
	Expected []string `json:"expected"`
	// Blocks are the lines of the expect blocks that applied; a step
	// with none is only run, not checked.
	Blocks []int `json:"blocks"`
}

// Explain lists the concrete expectations of each step of exp, the
// scenario as resolved for one kernel: a kernel developer's first
// question when a verdict surprises them.
func Explain(exp *Expected) []Explanation {
	var out []Explanation
	for i, es := range exp.Steps {
		x := Explanation{Index: i, Line: es.Line, Step: es.Describe(), Expected: []string{}}
		for _, e := range es.Expect {
			x.Blocks = append(x.Blocks, e.Line)
			for _, c := range checksOf(es.Step, e) {
				x.Expected = append(x.Expected, c.desc)
			}
			for _, want := range e.KUnit {
				x.Expected = append(x.Expected, kunitDesc(want))
			}
		}
		for li, inner := range es.Loops {
			for si, in := range inner {
				for _, e := range in.Expect {
					for _, c := range checksOf(in.Step, e) {
						x.Expected = append(x.Expected, iterationDesc(es.Step, li, es.Loops[li][si].Step, c))
					}
				}
			}
		}
		for _, want := range es.reports() {
			x.Expected = append(x.Expected, reportDesc(want))
		}
		out = append(out, x)
	}
	return out
}
