package modbuild

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// ErrNoObjM is returned for a module folder whose Kbuild and Makefile
// have no obj-m line: kbuild would build nothing there.
var ErrNoObjM = errors.New("no obj-m line in Kbuild or Makefile")

var objM = regexp.MustCompile(`^\s*obj-(m|y|\$\([A-Za-z0-9_]+\))\s*[:+]?=\s*(.*)$`)

// KbuildModules lists the .ko files a module folder's Kbuild (else its
// Makefile) builds, from its obj-m lines (obj-y and obj-$(CONFIG_FOO)
// too), in their order, before anything is built: for kernels nothing can
// be built for (MODULES=n), the names are all there is. ModuleName gives
// the kernel's name of each. The error wraps ErrNoObjM.
func KbuildModules(dir string) ([]string, error) {
	for _, name := range []string{"Kbuild", "Makefile"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		var kos []string
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			line := sc.Text()
			// make joins a line ending in a backslash with the next.
			for strings.HasSuffix(line, "\\") && sc.Scan() {
				line = strings.TrimSuffix(line, "\\") + " " + sc.Text()
			}
			m := objM.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			for _, o := range strings.Fields(m[2]) {
				if base, ok := strings.CutSuffix(o, ".o"); ok {
					kos = append(kos, base+".ko")
				}
			}
		}
		if len(kos) > 0 {
			return kos, nil
		}
	}
	return nil, fmt.Errorf("%s: %w", dir, ErrNoObjM)
}
