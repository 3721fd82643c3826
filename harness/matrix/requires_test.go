package matrix

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/kbuild"
	"modmatrix.dev/modmatrix/harness/kconfig"
	"modmatrix.dev/modmatrix/harness/ksrc"
	"modmatrix.dev/modmatrix/harness/scenario"
	"modmatrix.dev/modmatrix/harness/verdict"
)

// A scenario whose `requires` the kernel does not meet is SKIP with the
// requirement and its file:line; the others run, in order.
func TestRunnable(t *testing.T) {
	hello, err := scenario.Load("../../modules/hello")
	require.NoError(t, err)
	kunit, err := scenario.Load("../../modules/kunit-example")
	require.NoError(t, err)
	cellRun := func(cfg kconfig.Config) *cellRun {
		return &cellRun{
			m:      &Matrix{scenarios: []*scenario.Scenario{kunit, hello}},
			u:      unit{src: &ksrc.Source{Version: "6.12.117"}, cell: kconfig.Cell{Name: "c"}},
			kernel: &kbuild.Kernel{Config: cfg},
		}
	}

	run, skipped := cellRun(kconfig.Config{"MODULES": "y", "KUNIT": "y"}).runnable()
	assert.Equal(t, []*scenario.Scenario{kunit, hello}, run)
	assert.Empty(t, skipped)

	run, skipped = cellRun(kconfig.Config{"MODULES": "y"}).runnable()
	assert.Equal(t, []*scenario.Scenario{hello}, run)
	require.Len(t, skipped, 1)
	assert.Equal(t, "kunit-example", skipped[0].Scenario)
	assert.Equal(t, verdict.Skip, skipped[0].Verdict)
	assert.Equal(t, "the kernel does not meet requires KUNIT (../../modules/kunit-example/scenario.yaml:9)", skipped[0].Reason)
}
