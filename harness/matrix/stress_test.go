package matrix

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"modmatrix.dev/modmatrix/harness/protocol"
)

func TestPlanSteps(t *testing.T) {
	load := protocol.Step{Action: protocol.ActionLoad}
	assert.Equal(t, 2, planSteps([]protocol.Step{load, load}))
	rep := protocol.Step{Action: protocol.ActionRepeat, Loops: []protocol.Loop{{Count: 200, Steps: []protocol.Step{load, load}}}}
	// 400 inner runs at a quarter step each, plus one step timeout.
	assert.Equal(t, 1+1+15+100, planSteps([]protocol.Step{load, rep}))
}
