package progress

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"modmatrix.dev/modmatrix/harness/report"
	"modmatrix.dev/modmatrix/harness/verdict"
)

func TestLines(t *testing.T) {
	var b bytes.Buffer
	l := New(&b)
	for read := int64(0); read <= 1000; read += 25 {
		l.Unpacking("6.12", "/usr/src/linux-source-6.12.tar.xz", read, 1000)
	}
	l.Stage("6.12.117", "unload", "build")
	l.CellDone(report.Cell{Kernel: "6.12.117", Cell: "unload", Boots: 1, Restores: 2}, []report.ScenarioResult{{Verdict: verdict.Pass}, {Verdict: verdict.Fail}})
	l.Close()
	out := b.String()
	assert.Contains(t, out, "linux-source-6.12      unpacking /usr/src/linux-source-6.12.tar.xz: 50% of 0 MB")
	assert.Equal(t, 11, strings.Count(out, "unpacking"), "a line per tenth, not per read")
	assert.Contains(t, out, "6.12.117 unload        build")
	assert.Contains(t, out, "done in 0:00: 1 boot(s), 2 restore(s), [1 FAIL 1 PASS]")
	assert.NotContains(t, out, "\x1b[", "plain lines for CI logs")
}

func TestLive(t *testing.T) {
	var b bytes.Buffer
	l := NewLive(&b)
	l.Stage("6.12.117", "unload", "queued")
	l.Stage("6.12.117", "force-unload", "queued")
	l.Unpacking("6.12", "/usr/src/linux-source-6.12.tar.xz", 1<<29, 1<<30)
	assert.Contains(t, b.String(), "  linux-source-6.12      unpacking /usr/src/linux-source-6.12.tar.xz: 50% of 1024 MB")
	l.Unpacking("6.12", "/usr/src/linux-source-6.12.tar.xz", 1<<30, 1<<30)
	l.Stage("6.12.117", "unload", "build (incremental from ab12/force-unload, 1 symbols differ)")
	l.CellDone(report.Cell{Kernel: "6.12.117", Cell: "unload", Boots: 1}, []report.ScenarioResult{{Verdict: verdict.Pass}})
	l.Close()
	out := b.String()
	assert.Contains(t, out, "0 done, 1 running, 1 left")
	assert.Contains(t, out, "  6.12.117 unload        build (incremental")
	assert.Contains(t, out, "6.12.117 unload        1 PASS in ")
	last := out[strings.LastIndex(out, "\x1b[2K")+4:]
	assert.Contains(t, last, "1 done, 0 running, 1 left", "the block ends redrawn with the final counts")
	assert.NotContains(t, last, "unpacking", "an unpacked source leaves the block")
}
