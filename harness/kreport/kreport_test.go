package kreport

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// want is one expected report: the header block of a testdata file.
type want struct {
	Kind      Kind
	Title     string
	Signature string // the title when the header has none
	Modules   []string
	Corrupted bool
}

// corpusCase is a testdata file: header lines ("KIND: …", "TITLE: …",
// "SIGNATURE: …", "MODULES: a b", "CORRUPTED: Y|N", blocks separated by "---", or
// "REPORTS: 0"; "INPUT: kmsg" for a body of JSON strings, one kmsg record
// a line; "#" comments), a blank line, then the raw log.
type corpusCase struct {
	kmsg  bool
	wants []want
	body  []byte
}

func readCase(t *testing.T, path string) corpusCase {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	header, body, ok := bytes.Cut(data, []byte("\n\n"))
	require.True(t, ok, "%s: no blank line after the header", path)
	c := corpusCase{body: body}
	var cur *want
	reports := -1
	for n, line := range strings.Split(string(header), "\n") {
		where := path + ":" + strconv.Itoa(n+1)
		if strings.HasPrefix(line, "#") {
			continue
		}
		if line == "---" {
			cur = nil
			continue
		}
		key, value, ok := strings.Cut(line, ":")
		require.True(t, ok, "%s: not a header line: %q", where, line)
		value = strings.TrimSpace(value)
		switch key {
		case "INPUT":
			require.Equal(t, "kmsg", value, where)
			c.kmsg = true
			continue
		case "REPORTS":
			reports, err = strconv.Atoi(value)
			require.NoError(t, err, where)
			continue
		}
		if cur == nil {
			c.wants = append(c.wants, want{})
			cur = &c.wants[len(c.wants)-1]
		}
		switch key {
		case "KIND":
			cur.Kind = Kind(value)
		case "TITLE":
			cur.Title = value
		case "SIGNATURE":
			cur.Signature = value
		case "MODULES":
			cur.Modules = strings.Fields(value)
		case "CORRUPTED":
			require.Contains(t, []string{"Y", "N"}, value, where)
			cur.Corrupted = value == "Y"
		default:
			require.Failf(t, "unknown header", "%s: %q", where, key)
		}
	}
	for i := range c.wants {
		if c.wants[i].Signature == "" {
			c.wants[i].Signature = c.wants[i].Title
		}
	}
	if reports >= 0 {
		require.Len(t, c.wants, reports, "%s: REPORTS disagrees with the blocks", path)
	}
	require.True(t, reports >= 0 || len(c.wants) > 0, "%s: no expectations", path)
	return c
}

func (c corpusCase) parse(t *testing.T) []Report {
	if !c.kmsg {
		return ParseConsole(c.body)
	}
	var records []string
	for _, line := range strings.Split(strings.TrimSpace(string(c.body)), "\n") {
		var rec string
		require.NoError(t, json.Unmarshal([]byte(line), &rec), "kmsg record %q", line)
		records = append(records, rec)
	}
	return ParseLines(records)
}

// TestCorpus walks testdata/: each file's reports, in order, must have the
// kind, title, signature, modules and corruption its header says.
func TestCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/*")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			c := readCase(t, path)
			reports := c.parse(t)
			var got []want
			for i, r := range reports {
				got = append(got, want{Kind: r.Kind, Title: r.Title, Signature: r.Signature, Modules: r.Modules, Corrupted: r.Corrupted})
				assert.Less(t, r.Start, r.End, "report %d: Start/End", i)
				assert.NotEmpty(t, r.Text, "report %d: Text", i)
				if i > 0 {
					assert.LessOrEqual(t, reports[i-1].End, r.Start, "report %d overlaps the previous one", i)
				}
			}
			for i := range c.wants {
				if len(c.wants[i].Modules) == 0 {
					c.wants[i].Modules = nil
				}
			}
			assert.Equal(t, c.wants, got)
		})
	}
}

func TestParseConsoleExtent(t *testing.T) {
	c := readCase(t, "testdata/oops-6.12-force-unload-close")
	reports := ParseConsole(c.body)
	require.Len(t, reports, 1)
	r := reports[0]
	lines := strings.Split(string(c.body), "\n")
	assert.Contains(t, lines[r.Start], "BUG: unable to handle page fault for address: ffffffffa0004110")
	assert.Contains(t, lines[r.End-1], "---[ end trace 0000000000000000 ]---")
	assert.True(t, strings.HasPrefix(r.Text, "[    1.368050] BUG: unable to handle page fault"))
	assert.True(t, strings.HasSuffix(r.Text, "---[ end trace 0000000000000000 ]---"))
	assert.Contains(t, r.Text, "Oops: Oops: 0000 [#1]")
	assert.NotContains(t, r.Text, "\r")
}

func TestParseConsoleNoiseLeftOut(t *testing.T) {
	c := readCase(t, "testdata/interleaved-noise-6.12")
	reports := ParseConsole(c.body)
	require.Len(t, reports, 1)
	assert.NotContains(t, reports[0].Text, "modagent:")
	assert.NotContains(t, reports[0].Text, "init: ")
	assert.Contains(t, reports[0].Text, "[    1.368050]  ? __x64_sys_close+0x2f/0x63")
}

func TestParseConsolePreamble(t *testing.T) {
	c := readCase(t, "testdata/warning-module-6.12")
	reports := ParseConsole(c.body)
	require.Len(t, reports, 1)
	assert.True(t, strings.HasPrefix(reports[0].Text, "[    1.412055] ------------[ cut here ]------------\n"))
	assert.NotContains(t, reports[0].Text, "warn_init: init done")
}

func TestParseConsoleWithoutTimestamps(t *testing.T) {
	log := "Run /init as init process\r\n" +
		"WARNING: CPU: 0 PID: 1 at lib/foo.c:3 foo_bar.constprop.0+0x5/0x9\r\n" +
		"Modules linked in: a(POE) b_c\r\n" +
		"Call Trace:\r\n" +
		" <TASK>\r\n" +
		" bar+0x1/0x2 [b_c]\r\n" +
		" </TASK>\r\n" +
		"---[ end trace 0000000000000000 ]---\r\n" +
		"after\r\n"
	reports := ParseConsole([]byte(log))
	require.Len(t, reports, 1)
	r := reports[0]
	assert.Equal(t, KindWarning, r.Kind)
	assert.Equal(t, "WARNING in foo_bar", r.Title)
	assert.Equal(t, []string{"a", "b_c"}, r.Modules)
	assert.Equal(t, 1, r.Start)
	assert.Equal(t, 8, r.End)
	assert.False(t, r.Corrupted)
}

// The loader's warning as /dev/kmsg hands it over: one record holding two
// lines, the stack dump one record a line (from a 6.12 guest).
var kmsgInitReturn = []string{
	"init_positive: init returns 42",
	"do_init_module: 'init_positive'->init suspiciously returned 42, it should follow 0/-E convention\ndo_init_module: loading module anyway...",
	"CPU: 0 UID: 0 PID: 20 Comm: uinit Tainted: G           O       6.12.117 #1 ",
	"Tainted: [O]=OOT_MODULE",
	"Call Trace:",
	" <TASK>",
	" ? dump_stack_lvl+0x3b/0x45",
	" ? do_init_module+0x92/0x1f7",
	" ? __do_sys_init_module+0xa6/0xc8",
	" ? do_syscall_64+0x49/0xa3",
	" ? entry_SYSCALL_64_after_hwframe+0x4b/0x53",
	" </TASK>",
	"init_positive: exit",
}

func TestParseLines(t *testing.T) {
	reports := ParseLines(kmsgInitReturn)
	require.Len(t, reports, 1)
	r := reports[0]
	assert.Equal(t, KindInitReturn, r.Kind)
	assert.Equal(t, "init returned 42 in init_positive", r.Title)
	assert.Equal(t, []string{"init_positive"}, r.Modules)
	assert.Equal(t, 1, r.Start, "Start indexes records")
	assert.Equal(t, 12, r.End, "End indexes records, exclusive")
	assert.False(t, r.Corrupted)
	assert.True(t, strings.HasPrefix(r.Text, "do_init_module: 'init_positive'->init suspiciously returned 42, it should follow 0/-E convention\ndo_init_module: loading module anyway...\nCPU: 0"))
	assert.True(t, strings.HasSuffix(r.Text, " </TASK>"))
}

func TestParseLinesTruncated(t *testing.T) {
	// The records read before the guest went away.
	reports := ParseLines(kmsgInitReturn[:9])
	require.Len(t, reports, 1)
	assert.True(t, reports[0].Corrupted)
	assert.Equal(t, 9, reports[0].End)
}

func TestParseLinesOopsInOneRecord(t *testing.T) {
	// Whatever way the records are cut, the result is the same: here the
	// whole oops comes as one record, then the panic as another.
	oops := strings.Join([]string{
		"BUG: kernel NULL pointer dereference, address: 0000000000000008",
		"#PF: supervisor read access in kernel mode",
		"Oops: Oops: 0000 [#1]",
		"RIP: 0010:reader_read+0x9/0x20 [reader]",
		"Call Trace:",
		" <TASK>",
		" ? vfs_read+0x9d/0x2c0",
		" </TASK>",
		"Modules linked in: reader(O) [last unloaded: writer(O)]",
		"---[ end trace 0000000000000000 ]---",
	}, "\n")
	reports := ParseLines([]string{"hello", oops, "Kernel panic - not syncing: Fatal exception", "Kernel Offset: disabled"})
	require.Len(t, reports, 2)
	assert.Equal(t, KindNullDeref, reports[0].Kind)
	assert.Equal(t, "BUG: kernel NULL pointer dereference in reader_read", reports[0].Title)
	assert.Equal(t, []string{"reader", "writer"}, reports[0].Modules)
	assert.Equal(t, 1, reports[0].Start)
	assert.Equal(t, 2, reports[0].End)
	assert.Equal(t, KindPanic, reports[1].Kind)
	assert.Equal(t, "kernel panic: Fatal exception", reports[1].Title)
	assert.Equal(t, 2, reports[1].Start)
	assert.Equal(t, 4, reports[1].End)
	assert.False(t, reports[1].Corrupted)
}

func TestSecondDieHeaderStartsAReport(t *testing.T) {
	reports := ParseLines([]string{
		"BUG: unable to handle page fault for address: ffffffffa0004110",
		"Oops: Oops: 0000 [#1]",
		"RIP: 0010:filp_flush+0xc/0x2b",
		"Oops: Oops: 0000 [#2]",
		"RIP: 0010:do_exit+0x10/0x900",
		"---[ end trace 0000000000000000 ]---",
	})
	require.Len(t, reports, 2)
	assert.Equal(t, "BUG: unable to handle page fault in filp_flush", reports[0].Title)
	assert.Equal(t, "Oops in do_exit", reports[1].Title)
	assert.False(t, reports[0].Corrupted, "cut by the next report, not by the end of the log")
	assert.False(t, reports[1].Corrupted, "ended by its end marker")
}

func TestTitleWithoutFunction(t *testing.T) {
	reports := ParseLines([]string{"BUG: unable to handle page fault for address: ffffffffa0004110", "#PF: supervisor read access in kernel mode"})
	require.Len(t, reports, 1)
	assert.Equal(t, "BUG: unable to handle page fault", reports[0].Title)
	assert.True(t, reports[0].Corrupted)
}

func TestSymbolName(t *testing.T) {
	for sym, name := range map[string]string{
		"filp_flush+0xc/0x2b":                  "filp_flush",
		"__mutex_lock.constprop.0+0x2ae/0x4f0": "__mutex_lock",
		"foo.cold+0x1/0x2":                     "foo",
		"0xffffffffa000601a":                   "",
	} {
		assert.Equal(t, name, symbolName(sym), sym)
	}
}

func TestPatternsCompileAndAreComplete(t *testing.T) {
	kinds := map[Kind]bool{}
	for _, p := range patterns {
		kinds[p.kind] = true
		assert.NotEmpty(t, p.template)
		if p.end == endAtClosing {
			assert.NotNil(t, p.closing, p.start.String())
		}
		if strings.Contains(p.template, "{detail}") {
			assert.NotNil(t, p.detail, p.start.String())
		}
	}
	for _, k := range []Kind{KindWarning, KindBUG, KindOops, KindGPF, KindKASAN, KindLeak, KindPanic, KindHang, KindInitReturn, KindNullDeref} {
		assert.True(t, kinds[k], "no pattern for %s", k)
	}
}
