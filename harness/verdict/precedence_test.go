package verdict

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestPrecedence is the one table of which verdict wins: each row is the
// verdicts a scenario earned (in the order they were found, with their
// reasons) and the verdict and reason it gets.
func TestPrecedence(t *testing.T) {
	type earned struct {
		v      Verdict
		reason string
	}
	for _, tc := range []struct {
		name   string
		earned []earned
		want   Verdict
		reason string
	}{
		{"nothing wrong", nil, Pass, ""},
		{"a mismatch", []earned{{Pass, ""}, {Fail, "step 2: errno"}}, Fail, "step 2: errno"},
		{"the first mismatch names it", []earned{{Fail, "step 1"}, {Fail, "step 3"}}, Fail, "step 1"},
		{"missing results beat a mismatch", []earned{{Fail, "step 1: errno"}, {Error, "step 3: no result"}}, Error, "step 3: no result"},
		{"an oops beats missing results", []earned{{Error, "step 2: agent"}, {Crash, "step 2: unexpected kernel report"}}, Crash, "step 2: unexpected kernel report"},
		{"a hang beats an oops", []earned{{Crash, "step 1: oops"}, {Hang, "step 2: did not return"}}, Hang, "step 2: did not return"},
		{"SKIP only over PASS", []earned{{Skip, "requires KUNIT"}, {Pass, ""}}, Skip, "requires KUNIT"},
		{"a failure over SKIP", []earned{{Skip, "s"}, {Fail, "f"}}, Fail, "f"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var o outcome
			for _, e := range tc.earned {
				o.add(e.v, e.reason)
			}
			v, reason := o.verdict()
			assert.Equal(t, tc.want, v)
			assert.Equal(t, tc.reason, reason)
		})
	}
}
