package modmatrix

import (
	"io/fs"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGuestSourceComplete: every package of this module that the guest's
// programs import is in Builtin() with all its Go files, so a binary
// built without the programs (go install) can build them from its copy.
func TestGuestSourceComplete(t *testing.T) {
	root, err := filepath.Abs(".")
	require.NoError(t, err)
	cmd := exec.Command("go", "list", "-deps", "-f",
		`{{if .Module}}{{if eq .Module.Path "modmatrix.dev/modmatrix"}}{{.Dir}} {{join .GoFiles " "}}{{end}}{{end}}`,
		"./cmd/modagent", "./initramfs/floorinit", "./initramfs/shellinit", "./initramfs/poweroff")
	cmd.Env = append(cmd.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
	out, err := cmd.Output()
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	require.GreaterOrEqual(t, len(lines), 4)
	for _, line := range lines {
		f := strings.Fields(line)
		rel, err := filepath.Rel(root, f[0])
		require.NoError(t, err)
		for _, name := range f[1:] {
			_, err := fs.Stat(Builtin(), path.Join(filepath.ToSlash(rel), name))
			assert.NoError(t, err, "builtin.go's go:embed lacks %s/%s, which the guest builds", rel, name)
		}
	}
	for _, name := range []string{"go.mod", "go.sum"} {
		_, err := fs.Stat(Builtin(), name)
		assert.NoError(t, err)
	}
}
