package distro

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"modmatrix.dev/modmatrix/internal/cacheentry"
)

// pinName is the file naming the entry an exact spec resolved to.
func pinName(dir string, s Spec) string { return filepath.Join(dir, "spec-"+pathSafe(s.Text)) }

// pin records which entry s resolved to.
func pin(dir string, s Spec, entry string) error {
	return cacheentry.Replace(pinName(dir, s), func(w io.Writer) error {
		_, err := io.WriteString(w, filepath.Base(entry)+"\n")
		return err
	})
}

// loadPinned is the complete entry an exact spec resolved to before.
func loadPinned(dir string, s Spec) (*Kernel, error) {
	data, err := os.ReadFile(pinName(dir, s))
	if err != nil {
		return nil, err
	}
	name := strings.TrimSpace(string(data))
	if name == "" || strings.ContainsAny(name, "/") {
		return nil, fmt.Errorf("%s: not an entry name", pinName(dir, s))
	}
	k, err := load(s, filepath.Join(dir, name))
	if err != nil {
		return nil, err
	}
	k.Kernel.Cached = true
	return k, nil
}
