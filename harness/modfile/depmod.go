package modfile

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"modmatrix.dev/modmatrix/internal/cacheentry"
)

// Index runs depmod over a scenario's modules, laid out in dir as
// /lib/modules/RELEASE would be: kos maps a path under it
// ("hello/hello.ko") to the file on the host. tree is the kernel's build
// tree, whose modules.builtin and modules.builtin.modinfo (where it has
// them) tell modprobe what needs no loading. kmod is the host's kmod, run
// as depmod. Index returns the index files, name → path: modules.dep,
// modules.alias, their .bin forms and the rest.
func Index(ctx context.Context, kmod, tree, release string, kos map[string]string, dir string) (map[string]string, error) {
	root := filepath.Join(dir, "lib", "modules", release)
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	for rel, ko := range kos {
		if err := cacheentry.CopyFile(ko, filepath.Join(root, rel)); err != nil {
			return nil, fmt.Errorf("depmod: %w", err)
		}
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	// An out-of-tree folder has no modules.order; depmod warns without one.
	if err := os.WriteFile(filepath.Join(root, "modules.order"), nil, 0o644); err != nil {
		return nil, err
	}
	for _, name := range []string{"modules.builtin", "modules.builtin.modinfo"} {
		if _, err := os.Stat(filepath.Join(tree, name)); err == nil {
			if err := cacheentry.CopyFile(filepath.Join(tree, name), filepath.Join(root, name)); err != nil {
				return nil, fmt.Errorf("depmod: %w", err)
			}
		}
	}
	cmd := exec.CommandContext(ctx, kmod, "-b", dir, release)
	cmd.Args[0] = "depmod" // kmod is what it is called
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("depmod -b %s %s: %w\n%s", dir, release, err, out.String())
	}
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	index := map[string]string{}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "modules.") && !e.IsDir() {
			index[e.Name()] = filepath.Join(root, e.Name())
		}
	}
	if index["modules.dep"] == "" {
		return nil, fmt.Errorf("depmod -b %s %s wrote no modules.dep\n%s", dir, release, out.String())
	}
	return index, nil
}
