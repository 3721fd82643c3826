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
// CI, which installs it (scripts/deps.sh).
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
	r := &Results{SchemaVersion: SchemaVersion, MatrixID: "abc", Started: time.Now()}
	for _, k := range []string{"6.12.117", "6.1.192"} {
		for _, c := range []string{"unload", "unload-off"} {
			r.Cells = append(r.Cells, Cell{Kernel: k, Cell: c, Boots: 1})
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
	assert.NotContains(t, html, "http", "self-contained: nothing fetched from the network")
}
