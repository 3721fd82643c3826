package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestHelp checks that every command's help has examples and says what
// its exit statuses mean, 0 and 2 at least.
func TestHelp(t *testing.T) {
	cmds := rootCmd().Commands()
	assert.Len(t, cmds, 9)
	for _, cmd := range cmds {
		t.Run(cmd.Name(), func(t *testing.T) {
			assert.NotEmpty(t, cmd.Example)
			assert.Contains(t, cmd.Long, "\n\nExit status:\n  0    ")
			assert.Contains(t, cmd.Long, "\n  2    ")
		})
	}
}
