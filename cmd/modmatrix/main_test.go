package main

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHelp checks that the commands are the ones the README's Commands
// block documents, and that every command's help has examples and says
// what its exit statuses mean, 0 and 2 at least.
func TestHelp(t *testing.T) {
	cmds := rootCmd().Commands()
	var names []string
	for _, cmd := range cmds {
		if !cmd.Hidden { // man: for make install, not for users
			names = append(names, cmd.Name())
		}
	}
	assert.ElementsMatch(t, readmeCommands(t), names, "README.md's Commands block and rootCmd")
	for _, cmd := range cmds {
		t.Run(cmd.Name(), func(t *testing.T) {
			assert.NotEmpty(t, cmd.Example)
			assert.Contains(t, cmd.Long, "\n\nExit status:\n  0    ")
			assert.Contains(t, cmd.Long, "\n  2    ")
		})
	}
}

// readmeCommands lists the commands of the README's "## Commands" code
// block: the word after "modmatrix" at the start of a line.
func readmeCommands(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(data), "\n## Commands\n\n```\n")
	require.True(t, ok, "README.md has no Commands code block")
	block, _, ok := strings.Cut(rest, "\n```")
	require.True(t, ok, "README.md's Commands block is not closed")
	var names []string
	for _, line := range strings.Split(block, "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "modmatrix" {
			names = append(names, f[1])
		}
	}
	require.NotEmpty(t, names, "README.md's Commands block names no command")
	return names
}
