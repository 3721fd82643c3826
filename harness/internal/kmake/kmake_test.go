package kmake

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunErrorShowsTail(t *testing.T) {
	var log bytes.Buffer
	err := Run(context.Background(), t.TempDir(), &log, "sh", "-c", "for i in $(seq 1 100); do echo line $i; done; echo oops >&2; exit 2")
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, "exit status 2")
	assert.Contains(t, msg, "line 62\n")
	assert.Contains(t, msg, "line 100\noops")
	assert.NotContains(t, msg, "line 61\n", "only the last 40 lines")
	assert.Contains(t, log.String(), "line 1\n", "the log gets everything")
}

type failingLog struct{}

func (failingLog) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

// A log that cannot be written (its disk full) neither fails the command
// nor leaves it blocked on a pipe nobody reads.
func TestRunSurvivesAFailingLog(t *testing.T) {
	err := Run(context.Background(), t.TempDir(), failingLog{}, "sh", "-c", "head -c 1000000 /dev/zero; echo done")
	require.NoError(t, err)
}
