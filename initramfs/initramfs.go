// Package initramfs builds the guest's root file system: one archive with
// u-root's init and the agent, the same for every boot and snapshot (the
// agent gets its plan and modules over a virtio-serial port once it runs).
// The shell's image adds a second archive; the kernel unpacks concatenated
// cpio archives in order.
package initramfs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/u-root/mkuimage/uimage"
	"github.com/u-root/u-root/pkg/ldd"
	"github.com/u-root/uio/llog"

	"modmatrix.dev/modmatrix/harness/protocol"
)

const (
	initPkg  = "github.com/u-root/u-root/cmds/core/init"
	agentPkg = "modmatrix.dev/modmatrix/cmd/modagent"
	floorPkg = "modmatrix.dev/modmatrix/initramfs/floorinit"
)

// Base is the shared part of every guest image.
type Base struct {
	// Path is the base cpio archive.
	Path string
	dir  string
	// mods make it, for WithBootModules.
	mods []uimage.Modifier
}

// BuildBase packs u-root's init and the agent with mkuimage: the copies
// this binary carries, or (a checkout's build) compiled with plain `go
// build` in the module at repoDir (a gobusybox build would cost ~10 s every
// time). The agent runs as uinit, not as PID 1, so an oops that kills it
// does not panic the kernel.
func BuildBase(ctx context.Context, repoDir, outDir string) (*Base, error) {
	bins := map[string]string{
		progInit:  filepath.Join(outDir, "init"),
		progAgent: filepath.Join(outDir, "modagent"),
	}
	for name, out := range bins {
		if err := guestProgram(ctx, repoDir, name, out); err != nil {
			return nil, err
		}
	}
	modprobe, err := modprobeFiles()
	if err != nil {
		return nil, fmt.Errorf("base initramfs: %w", err)
	}
	base := &Base{Path: filepath.Join(outDir, "base.cpio"), dir: outDir, mods: []uimage.Modifier{
		uimage.WithFiles(bins[progInit]+":bin/init", bins[progAgent]+":bin/modagent"),
		uimage.WithFiles(modprobe...),
		uimage.WithInit("/bin/init"),
		uimage.WithUinit("/bin/modagent"),
	}}
	if err := create(outDir, base.Path, base.mods...); err != nil {
		return nil, fmt.Errorf("base initramfs: %w", err)
	}
	return base, nil
}

// WithBootModules is the base image plus the .ko files kos, which the
// agent loads in this order before it opens its ports (a distribution
// kernel's modular virtio drivers), written into dir.
func (b *Base) WithBootModules(kos []string, dir string) (*Base, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var files []string
	for i, ko := range kos {
		files = append(files, fmt.Sprintf("%s:%s/%03d-%s", ko, strings.TrimPrefix(protocol.BootModuleDir, "/"), i, filepath.Base(ko)))
	}
	img := &Base{Path: filepath.Join(dir, "boot-modules.cpio"), dir: dir, mods: append(slices.Clone(b.mods), uimage.WithFiles(files...))}
	if err := create(dir, img.Path, img.mods...); err != nil {
		return nil, fmt.Errorf("initramfs with boot modules: %w", err)
	}
	return img, nil
}

// modprobeFiles are the host's kmod as the guest's /sbin/modprobe (kmod
// acts on the name it is run by) and the shared libraries it needs, at the
// paths its dynamic linker looks in: u-root's modprobe knows neither
// modules.alias nor -r nor the "-q --" the kernel's request_module passes,
// and Debian builds no static kmod.
func modprobeFiles() ([]string, error) {
	kmod, err := HostKmod()
	if err != nil {
		return nil, err
	}
	return hostProgramFiles(map[string]string{protocol.ModprobePath: kmod})
}

// hostProgramFiles packs host programs (guest path: host path) with the
// shared libraries they need, at the paths the dynamic linker looks in,
// sorted: ldd.List's order is a map's, and the shell image's key hashes
// them in order.
func hostProgramFiles(progs map[string]string) ([]string, error) {
	var files []string
	libs := map[string]bool{}
	for guest, host := range progs {
		files = append(files, host+":"+strings.TrimPrefix(guest, "/"))
		l, err := ldd.List(host)
		if err != nil {
			return nil, fmt.Errorf("%s's libraries: %w", filepath.Base(host), err)
		}
		for _, lib := range l {
			libs[lib] = true
		}
	}
	for lib := range libs {
		// Debian's /lib is a link to /usr/lib; the guest has the file
		// where the linker asks for it.
		real, err := filepath.EvalSymlinks(lib)
		if err != nil {
			return nil, fmt.Errorf("shared library %s: %w", lib, err)
		}
		files = append(files, real+":"+strings.TrimPrefix(lib, "/"))
	}
	slices.Sort(files)
	return files, nil
}

// HostKmod is the host's kmod program (Debian's kmod package), which is
// modprobe and depmod by the name it is run as.
func HostKmod() (string, error) {
	found, err := exec.LookPath("kmod")
	if err != nil {
		return "", errors.New("no kmod: install it (`apt-get install kmod`, or `make deps` in a checkout)")
	}
	return filepath.EvalSymlinks(found)
}

// BuildFloor writes an initramfs whose /init reboots at once: the floor a
// boot's wall time is measured against.
func BuildFloor(ctx context.Context, repoDir, outDir string) (string, error) {
	bin := filepath.Join(outDir, "floorinit")
	if err := guestProgram(ctx, repoDir, progFloor, bin); err != nil {
		return "", err
	}
	out := filepath.Join(outDir, "floor.cpio")
	if err := create(outDir, out, uimage.WithFiles(bin+":init")); err != nil {
		return "", fmt.Errorf("floor initramfs: %w", err)
	}
	return out, nil
}

// goBuild builds the static guest binary of pkg in the module at repoDir.
func goBuild(ctx context.Context, repoDir, pkg, out string) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	// Stripped: the kernel unpacks every byte of the initramfs under TCG.
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
	cmd.Dir = repoDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if text, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, text)
	}
	return nil
}

func create(tmp, out string, mods ...uimage.Modifier) error {
	var log bytes.Buffer
	mods = append(mods, uimage.WithSkipLDD(), uimage.WithCPIOOutput(out), uimage.WithTempDir(tmp))
	if err := uimage.Create(llog.New(slog.LevelInfo, llog.WritePrintf(&log)), mods...); err != nil {
		return fmt.Errorf("%w\n%s", err, log.String())
	}
	return nil
}
