package ktap

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/*.want from the parser's output")

// summary is what a .want file holds: the root's status and counts, then
// one line per case: ID, status, and the skip reason or first log line.
func summary(root *Test) string {
	var b strings.Builder
	c := root.Counts
	fmt.Fprintf(&b, "main %s passed=%d failed=%d crashed=%d skipped=%d errors=%d\n",
		root.Status, c.Passed, c.Failed, c.Crashed, c.Skipped, c.Errors)
	for _, cs := range root.Cases() {
		fmt.Fprintf(&b, "%s %s", cs.ID(), cs.Status)
		switch {
		case cs.Reason != "":
			fmt.Fprintf(&b, " # %s", cs.Reason)
		case len(cs.Log) > 0:
			fmt.Fprintf(&b, " # %s", cs.Log[0])
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// TestTestdata parses each testdata/NAME.log, KTAP as a real kernel
// printed it (the kmsg of a step that loaded modules/kunit-example), and
// compares with NAME.want. Adding a case is adding the two files.
func TestTestdata(t *testing.T) {
	logs, err := filepath.Glob("testdata/*.log")
	require.NoError(t, err)
	require.NotEmpty(t, logs)
	for _, log := range logs {
		name := strings.TrimSuffix(filepath.Base(log), ".log")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(log)
			require.NoError(t, err)
			root, found := Parse(Lines(strings.TrimRight(string(raw), "\n")))
			require.True(t, found)
			got := summary(root)
			wantFile := strings.TrimSuffix(log, ".log") + ".want"
			if *update {
				require.NoError(t, os.WriteFile(wantFile, []byte(got), 0o644))
			}
			want, err := os.ReadFile(wantFile)
			require.NoError(t, err)
			assert.Equal(t, string(want), got)
		})
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name   string
		lines  []string
		status Status
		cases  []string // ID=STATUS
		errors int
	}{
		{
			name: "module suite without a top-level header (6.1)",
			lines: []string{
				"    KTAP version 1", "    # Subtest: s", "    1..2",
				"    ok 1 a", "    not ok 2 b", "not ok 1 s",
			},
			status: Fail, cases: []string{"s.a=PASS", "s.b=FAIL"},
		},
		{
			name:   "skip directive with and without a reason",
			lines:  []string{"KTAP version 1", "1..2", "ok 1 a # SKIP no device", "ok 2 - b # SKIP"},
			status: Skip, cases: []string{"a=SKIP", "b=SKIP"},
		},
		{
			name:   "not ok with SKIP is still a skip",
			lines:  []string{"KTAP version 1", "1..1", "not ok 1 a # SKIP why"},
			status: Skip, cases: []string{"a=SKIP"},
		},
		{
			name:   "TAP version 14 and a hyphen before the name",
			lines:  []string{"TAP version 14", "1..1", "ok 1 - a"},
			status: Pass, cases: []string{"a=PASS"},
		},
		{
			name: "results missing from the plan are crashed, and so is the suite",
			lines: []string{
				"KTAP version 1", "1..1", "    KTAP version 1", "    # Subtest: s", "    1..3",
				"    ok 1 a", "    # b: about to die",
			},
			status: Crash, cases: []string{"s.a=PASS", "s.#2=CRASH", "s.#3=CRASH"},
			errors: 3, // two missing results and the suite's missing result line
		},
		{
			name:   "a wrong test number is an error, not a failure",
			lines:  []string{"KTAP version 1", "1..2", "ok 1 a", "ok 3 b"},
			status: Pass, cases: []string{"a=PASS", "b=PASS"}, errors: 1,
		},
		{
			name:   "output after the end of KTAP is ignored",
			lines:  []string{"KTAP version 1", "1..1", "reboot: System halted", "ok 1 a"},
			status: Crash, cases: []string{"#1=CRASH"}, errors: 1,
		},
		{
			name:   "lines before the version line are not KTAP",
			lines:  []string{"not ok 7 unrelated", "KTAP version 1", "1..1", "ok 1 a"},
			status: Pass, cases: []string{"a=PASS"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root, found := Parse(Lines(tc.lines...))
			require.True(t, found)
			assert.Equal(t, tc.status, root.Status)
			var got []string
			for _, c := range root.Cases() {
				got = append(got, c.ID()+"="+string(c.Status))
			}
			assert.Equal(t, tc.cases, got)
			assert.Equal(t, tc.errors, root.Counts.Errors, "%v", allErrors(root))
		})
	}
}

func TestNoKTAP(t *testing.T) {
	root, found := Parse(Lines("hello: loaded", "ok 1 looks like TAP but has no header"))
	assert.False(t, found)
	assert.Equal(t, NoTests, root.Status)
	assert.Empty(t, root.Cases())
}

// A case's duration runs from the previous result (or the plan) to its
// own result line, in kmsg record time.
func TestDurations(t *testing.T) {
	root, _ := Parse([]Line{
		{"    KTAP version 1", 100}, {"    # Subtest: s", 100}, {"    1..2", 110},
		{"    ok 1 a", 150}, {"    # b: slow", 300}, {"    ok 2 b", 400}, {"ok 1 s", 410},
	})
	cases := root.Cases()
	require.Len(t, cases, 2)
	assert.Equal(t, int64(40), cases[0].DurationUS)
	assert.Equal(t, int64(250), cases[1].DurationUS)
	assert.Equal(t, []string{"# b: slow"}, cases[1].Log)
	assert.Equal(t, int64(310), root.Subtests[0].DurationUS, "a suite runs from its header to its result")
}
