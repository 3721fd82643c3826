package report

import (
	"fmt"
	"strings"

	"modmatrix.dev/modmatrix/harness/verdict"
)

// Count is how many results got one verdict.
type Count struct {
	Verdict verdict.Verdict
	N       int
}

// Tally counts the verdicts of results, worst first, leaving out those
// no result got.
func Tally(results []ScenarioResult) Tallied {
	n := map[verdict.Verdict]int{}
	for _, r := range results {
		n[r.Verdict]++
	}
	var out Tallied
	for _, v := range verdict.All() {
		if n[v] > 0 {
			out = append(out, Count{v, n[v]})
		}
	}
	return out
}

// Tallied is a Tally.
type Tallied []Count

// String is "1 FAIL, 33 PASS" (or "no results").
func (t Tallied) String() string {
	if len(t) == 0 {
		return "no results"
	}
	parts := make([]string, len(t))
	for i, c := range t {
		parts[i] = fmt.Sprintf("%d %s", c.N, c.Verdict)
	}
	return strings.Join(parts, ", ")
}
