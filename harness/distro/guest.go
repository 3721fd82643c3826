package distro

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"

	"modmatrix.dev/modmatrix/harness/kconfig"
)

// checkPahole: a kernel with DEBUG_INFO_BTF_MODULES whose headers ship a
// vmlinux makes kbuild run pahole on every module it links.
func checkPahole(headers string, cfg kconfig.Config) error {
	if !cfg.Enabled("DEBUG_INFO_BTF_MODULES") {
		return nil
	}
	if _, err := os.Stat(filepath.Join(headers, "vmlinux")); err != nil {
		return nil // kbuild skips BTF without it
	}
	if _, err := exec.LookPath("pahole"); err != nil {
		return errors.New("modules for this kernel get BTF from pahole, which is missing: apt-get install dwarves (or make deps)")
	}
	return nil
}
