package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteMarkdown(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, ktapResults().WriteMarkdown(&b))
	out := b.String()
	for _, want := range []string{
		"### modmatrix: 1 HANG, 1 CRASH, 1 FAIL, 1 SKIP, 1 PASS on 3 cell(s)\n",
		"| scenario | 6.1.158<br>debug | 6.12.117<br>kunit | 6.12.117<br>unload |\n|---|---|---|---|\n",
		"| kunit-example | – | ❌ FAIL | ⏭️ SKIP |\n",
		"| hang-init | – | – | ⏳ HANG |\n",
		"- **6.1.158 debug**: kernel build: make exited 2\n",
		"- **kunit-example** on 6.12.117 kunit: FAIL step 1: kunit s.crashy: expected PASS, observed CRASH\n",
		"- **panic-init** on 6.12.117 unload: CRASH step 1: Kernel panic - not syncing: VFS: Unable to mount root fs\n",
	} {
		assert.Contains(t, out, want)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "| ") {
			assert.Equal(t, 4, strings.Count(line, " |"), "every row has every column: %q", line)
		}
	}
}
