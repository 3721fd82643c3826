package kreport

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/kreport/kinds"
)

// TestPatternsCoverKinds ties the recognisers to package kinds: every kind
// has a pattern, and no pattern makes a kind the list does not have.
func TestPatternsCoverKinds(t *testing.T) {
	have := map[Kind]bool{}
	for _, p := range patterns {
		assert.True(t, p.kind.Known(), "pattern %s: kind %s is not in package kinds", p.start, p.kind)
		have[p.kind] = true
	}
	for _, k := range kinds.Logged() {
		assert.True(t, have[k], "no pattern for %s", k)
	}
}

// markerLines are the corpus case's lines as the cheap watches see them:
// kmsg records' texts (the agent), console lines from their timestamp on,
// without it (the VM's stall watch).
func (c corpusCase) markerLines(t *testing.T) []string {
	var lines []string
	if c.kmsg {
		for _, line := range strings.Split(strings.TrimSpace(string(c.body)), "\n") {
			var rec string
			require.NoError(t, json.Unmarshal([]byte(line), &rec), "kmsg record %q", line)
			lines = append(lines, rec)
		}
		return lines
	}
	for _, l := range strings.Split(string(c.body), "\n") {
		l = strings.TrimRight(l, "\r")
		if loc := timestampRe.FindStringIndex(l); loc != nil {
			l = l[loc[1]:]
		}
		lines = append(lines, l)
	}
	return lines
}

// TestCrashMarkersAgreeWithCorpus ties the markers that the agent and the
// VM watch for (kinds.CrashMarkers) to the classifier, on the real logs of
// testdata/: every report of a kind that kills its task has a line that
// starts with a marker, every line that starts with one lies in a report,
// and kinds.Panicked sees a panic exactly where a PANIC report is.
func TestCrashMarkersAgreeWithCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/*")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	crashes := 0
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			c := readCase(t, path)
			reports := c.parse(t)
			lines := c.markerLines(t)
			panicked := false
			for _, r := range reports {
				panicked = panicked || r.Kind == kinds.Panic
				if !r.Kind.Crash() {
					continue
				}
				crashes++
				marked := false
				for _, l := range lines[r.Start:r.End] {
					marked = marked || kinds.StartsCrash(l)
				}
				assert.True(t, marked, "%s report %q: no line starts with one of %q", r.Kind, r.Title, kinds.CrashMarkers)
			}
			for i, l := range lines {
				if !kinds.StartsCrash(l) {
					continue
				}
				inReport := false
				for _, r := range reports {
					inReport = inReport || r.Start <= i && i < r.End
				}
				assert.True(t, inReport, "line %d %q starts with a crash marker outside any report", i+1, l)
			}
			assert.Equal(t, panicked, kinds.Panicked(strings.Join(lines, "\n")), "kinds.Panicked")
		})
	}
	assert.NotZero(t, crashes, "the corpus has no report of a kind that kills")
}

// dieHeader is the line die() prints for the task it kills (x86
// dumpstack.c: "Oops: %s: %04lx [#%d]", 6.1 without the "Oops: ").
var dieHeader = regexp.MustCompile(`: [0-9a-f]{4} \[#[0-9]+\]`)

// TestCrashKindsDieInCorpus ties the crash column of package kinds to what
// the kernels of testdata/ did: every complete report of a kind that kills
// its task went through die() or panic() or the OOM killer killed a
// process, no report of another kind did,
// and every kind has a complete report there, so each row is pinned by a
// real log.
func TestCrashKindsDieInCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/*")
	require.NoError(t, err)
	seen, died := map[Kind]bool{}, map[Kind]bool{}
	for _, path := range files {
		for _, r := range readCase(t, path).parse(t) {
			if r.Corrupted {
				continue
			}
			killed := dieHeader.MatchString(r.Text) || strings.Contains(r.Text, kinds.PanicMarker+" - not syncing") ||
				strings.Contains(r.Text, "Out of memory: Killed process")
			assert.Equal(t, killed, r.Kind.Crash(), "%s: %s report %q: died %v", path, r.Kind, r.Title, killed)
			seen[r.Kind] = true
			died[r.Kind] = died[r.Kind] || killed
		}
	}
	var killers []Kind
	for _, k := range kinds.Logged() {
		assert.True(t, seen[k], "no complete %s report in testdata/", k)
		if died[k] {
			killers = append(killers, k)
		}
	}
	assert.Equal(t, killers, kinds.Crashes())
}
