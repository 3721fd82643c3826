package report

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/verdict"
)

// chromium finds Debian's Chromium; without it the test skips, except in
// CI, which installs it (scripts/deps.sh --test).
func chromium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: no browser")
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is missing: the page must be checked in a real browser in CI (make test-deps)")
	}
	t.Skip("chromium is missing: install Debian's chromium package (make test-deps) to check index.html in a browser")
	return ""
}

// TestHTMLInChromium renders index.html in headless Chromium, takes a
// screenshot, and checks the DOM it built for every cell of the matrix.
func TestHTMLInChromium(t *testing.T) {
	browser := chromium(t)
	dir := t.TempDir()
	r := &Results{SchemaVersion: SchemaVersion, MatrixID: "abc", Started: time.Now(), ImageMS: 5200,
		Scenarios: []ScenarioInfo{{Name: "hello", Description: "prints on load & unload"}, {Name: "noexit", Description: "Has no exit function. So it cannot be unloaded but by force."}}}
	for _, k := range []string{"6.12.117", "6.1.192"} {
		for _, c := range []string{"unload", "unload-off"} {
			r.Cells = append(r.Cells, Cell{Kernel: k, Cell: c, Boots: 1,
				Config: filepath.Join(dir, k, c, "kernel.config"), BuildLog: filepath.Join(dir, k, c, "kernel-build.log"),
				Phases: &Phases{KernelMS: 260000, ModulesMS: 31000, SnapshotMS: 4000, ScenariosMS: 9000}})
			for _, sc := range []string{"hello", "noexit"} {
				v := verdict.Pass
				if sc == "noexit" && c == "unload-off" {
					v = verdict.Fail
				}
				r.Results = append(r.Results, ScenarioResult{
					Kernel: k, Cell: c, Scenario: sc, Verdict: v, Reason: map[verdict.Verdict]string{verdict.Fail: "step 2: errno: expected EBUSY, observed ENOSYS"}[v],
					ConsoleLog: filepath.Join(dir, k, c, "boot-1.console.log"),
					Steps:      []StepRecord{{Action: "load", Module: sc, Kmsg: []string{"loaded <b>"}}},
				})
				if sc == "hello" && c == "unload" && k == "6.12.117" {
					r.Results[len(r.Results)-1].Steps = append(r.Results[len(r.Results)-1].Steps, stressStep())
				}
			}
		}
	}
	require.NoError(t, r.Write(dir))
	page := "file://" + filepath.Join(dir, "index.html")
	flags := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), "--window-size=1200,800"}

	shot := filepath.Join(dir, "page.png")
	out, err := exec.Command(browser, append(flags, "--screenshot="+shot, page)...).CombinedOutput()
	require.NoError(t, err, "%s", out)
	fi, err := os.Stat(shot)
	require.NoError(t, err)
	assert.Greater(t, fi.Size(), int64(1000), "a screenshot with something on it")

	dom, err := exec.Command(browser, append(flags, "--dump-dom", page)...).Output()
	require.NoError(t, err)
	html := string(dom)
	for _, c := range r.Results {
		assert.Contains(t, html, `data-kernel="`+c.Kernel+`" data-cell="`+c.Cell+`" data-scenario="`+c.Scenario+`" data-verdict="`+string(c.Verdict)+`"`)
	}
	assert.Equal(t, 2, strings.Count(html, `class="verdict fail"`))
	assert.Contains(t, html, `href="6.1.192/unload/boot-1.console.log"`, "console logs linked relative to the page")
	assert.Contains(t, html, "loaded &lt;b&gt;", "kmsg is escaped")
	assert.NotContains(t, strings.ReplaceAll(html, "http://www.w3.org/2000/svg", ""), "http", "self-contained: nothing fetched from the network")

	// The header groups each kernel's cells under it, once.
	assert.Equal(t, 1, strings.Count(html, ">6.1.192</th>"))
	assert.Contains(t, html, `<th class="kernel" colspan="2">6.12.117</th>`)
	assert.Contains(t, html, `href="6.12.117/unload/kernel.config"`)
	assert.Contains(t, html, `href="6.12.117/unload/kernel-build.log"`)
	// Totals for the whole run and per cell; a description per row.
	assert.Contains(t, html, `<span class="t-fail">2 FAIL</span> <span class="t-pass">6 PASS</span>`)
	assert.Contains(t, html, `data-kernel="6.1.192" data-cell="unload-off"><span class="t-fail">1 FAIL</span><span class="t-pass">1 PASS</span></td>`)
	assert.Contains(t, html, `<div class="desc">prints on load &amp; unload</div>`)
	assert.Contains(t, html, `<details class="desc"><summary>Has no exit function.</summary>So it cannot be unloaded but by force.</details>`, "a long one opens past its first sentence")
	// The charts: a bar per cell of where its time went, and the spread
	// of a stress loop's load and unload durations.
	assert.Equal(t, 1, strings.Count(html, `<svg class="chart phases"`))
	assert.Equal(t, 4*4, strings.Count(html, `<rect x=`)-2*20-len(phaseColours), "four phases per cell")
	assert.Equal(t, 2, strings.Count(html, `<svg class="chart stress"`), "one per inner step")
	assert.Contains(t, html, "load hello: 50 iterations")
}

// stressStep is a repeat step of 50 iterations, load then unload, whose
// unloads take two durations.
func stressStep() StepRecord {
	loop := verdict.LoopSummary{Planned: 50, Ran: 50, Timing: []verdict.Timing{
		{Step: "load hello", Count: 50, MedianUS: 1200, MaxUS: 1900}, {Step: "unload hello", Count: 50, MedianUS: 800, MaxUS: 3100}}}
	for i := range 50 {
		unload := int64(800)
		if i%5 == 0 {
			unload = 3000 + int64(i)
		}
		loop.Iterations = append(loop.Iterations, verdict.IterationRow{Index: i, Steps: []verdict.IterationStep{
			{DurationUS: 1100 + int64(i*16)}, {DurationUS: unload}}})
	}
	return StepRecord{Action: "repeat", Kmsg: []string{}, Stress: &verdict.StressSummary{Loops: []verdict.LoopSummary{loop}}}
}
