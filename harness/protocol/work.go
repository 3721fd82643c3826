package protocol

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// CommandChannel is the virtio-serial port the host sends the agent its
// work on. The work reaches an agent that is already up (in a guest booted
// a moment ago or restored from a cell's snapshot), so one guest image and
// one snapshot serve every scenario and every edit of a module.
const CommandChannel = "modmatrix-cmd"

// WorkDir is where the agent unpacks its work: plan.json and ko/.
const WorkDir = "/modmatrix"

const planEntry = "plan.json"

// ShellBanner is the file of a shell session's work that the guest prints
// before its first prompt.
const ShellBanner = "banner"

// WriteWork sends a plan and its files (path under WorkDir, such as
// "ko/hello/hello.ko" → file on the host) as one tar stream: the plan
// first, then the files in name order.
func WriteWork(w io.Writer, plan Plan, files map[string]string) error {
	tw := tar.NewWriter(w)
	b, err := json.Marshal(plan)
	if err != nil {
		return err
	}
	if err := writeEntry(tw, planEntry, b); err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		b, err := os.ReadFile(files[name])
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := writeEntry(tw, name, b); err != nil {
			return err
		}
	}
	return tw.Close()
}

// ModuleFile is where WriteWork puts module (a path under ModuleDir,
// without .ko) in the work.
func ModuleFile(module string) string { return path.Join("ko", module+".ko") }

// IndexFile is where WriteWork puts a file of depmod's index (modules.dep,
// …) in the work: ModuleDir, which the agent makes /lib/modules/RELEASE.
func IndexFile(name string) string { return path.Join("ko", name) }

func writeEntry(tw *tar.Writer, name string, b []byte) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	_, err := tw.Write(b)
	return err
}

// ReadWork unpacks a WriteWork stream into dir and returns its plan. It
// reads up to the archive's end marker, not to EOF: the port stays open.
func ReadWork(r io.Reader, dir string) (Plan, error) {
	var plan Plan
	tr := tar.NewReader(r)
	first := true
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return plan, fmt.Errorf("work: %w", err)
		}
		name := path.Clean(h.Name)
		if h.Typeflag != tar.TypeReg || strings.HasPrefix(name, "../") || path.IsAbs(name) {
			return plan, fmt.Errorf("work: unexpected entry %q", h.Name)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return plan, fmt.Errorf("work: %s: %w", name, err)
		}
		if first {
			if name != planEntry {
				return plan, fmt.Errorf("work: first entry is %q, not %s", name, planEntry)
			}
			if err := json.Unmarshal(b, &plan); err != nil {
				return plan, fmt.Errorf("work: %s: %w", planEntry, err)
			}
			first = false
		}
		out := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return plan, err
		}
		if err := os.WriteFile(out, b, 0o644); err != nil {
			return plan, err
		}
	}
	if first {
		return plan, errors.New("work: empty stream (no plan)")
	}
	return plan, nil
}
