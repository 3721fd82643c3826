package distro

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"modmatrix.dev/modmatrix/harness/kconfig"
	"modmatrix.dev/modmatrix/harness/modbuild"
)

// bootModules are the .ko files of a kernel package's modules dir that
// the guest must load before the agent can report: the modules of
// kconfig.GuestModules the .config builds as modules (Debian's 6.1 cloud
// kernel has VIRTIO_PCI=m and VIRTIO_CONSOLE=m), each after the modules
// its modinfo depends on, every module once. None where they are built in.
func bootModules(cfg kconfig.Config, modulesDir string) ([]string, error) {
	var wanted []string
	for _, sym := range kconfig.GuestBuiltIn {
		if name, ok := kconfig.GuestModules[sym]; ok && cfg.Value(sym) == "m" {
			wanted = append(wanted, name)
		}
	}
	if len(wanted) == 0 || modulesDir == "" {
		return nil, nil
	}
	index, err := moduleFiles(modulesDir)
	if err != nil {
		return nil, err
	}
	var order []string
	state := map[string]int{} // 1 visiting, 2 placed
	var place func(name, neededBy string) error
	place = func(name, neededBy string) error {
		switch state[name] {
		case 2:
			return nil
		case 1:
			return fmt.Errorf("%s: modules depend on each other in a circle through %s", modulesDir, name)
		}
		ko, ok := index[name]
		switch {
		case ok && !strings.HasSuffix(ko, ".ko"):
			return fmt.Errorf("%s: %s is packaged compressed (%s), and only uncompressed modules are loaded before the agent (%s needs it)", modulesDir, name, filepath.Base(ko), neededBy)
		case !ok:
			return fmt.Errorf("%s: no %s.ko (%s needs it to boot the agent)", modulesDir, name, neededBy)
		}
		state[name] = 1
		deps, err := modbuild.Depends(ko)
		if err != nil {
			return err
		}
		for _, d := range deps {
			if err := place(d, name); err != nil {
				return err
			}
		}
		state[name] = 2
		order = append(order, ko)
		return nil
	}
	for _, name := range wanted {
		if err := place(name, "the guest"); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// moduleFiles indexes the .ko files under dir, compressed or not, by
// module name (dashes as underscores, as the kernel names them).
func moduleFiles(dir string) (map[string]string, error) {
	index := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		for _, ext := range []string{".ko", ".ko.xz", ".ko.zst", ".ko.gz"} {
			if !d.IsDir() && strings.HasSuffix(p, ext) {
				name := modbuild.ModuleName(strings.TrimSuffix(p, ext) + ".ko")
				if _, have := index[name]; !have || ext == ".ko" {
					index[name] = p
				}
			}
		}
		return nil
	})
	return index, err
}
