package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"modmatrix.dev/modmatrix/harness/kbuild"
	"modmatrix.dev/modmatrix/harness/matrix"
	"modmatrix.dev/modmatrix/harness/progress"
	"modmatrix.dev/modmatrix/harness/protocol"
	"modmatrix.dev/modmatrix/harness/vm"
	"modmatrix.dev/modmatrix/initramfs"
)

func shellCmd() *cobra.Command {
	var (
		repo, modulesDir, kconfigs, cache string
		cell, kernel, accel               string
		moduleDirs, scenarios             []string
		memory                            int
	)
	cmd := &cobra.Command{
		Use:   "shell --cell NAME",
		Short: "Boot one cell with its modules and give you a shell on its console",
		Long: `Boot one cell's kernel (built or taken from the cache) with a u-root shell
on the serial console and the modules in /modmatrix/ko: the scenarios'
modules, or the folders given with --module, built against that kernel.
insmod, rmmod, lsmod, dmesg, cat, ls and grep are there. poweroff ends the
session; so does Ctrl-A X (QEMU's console escape).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := vm.ParseAccel(accel)
			if err != nil {
				return err
			}
			if repo == "" {
				if repo, err = findRepo(); err != nil {
					return err
				}
			}
			// A closed terminal ends the session like Ctrl-C ends a run.
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGHUP)
			defer stop()
			s := shellSession{repo: repo, cache: cache, cell: cell, log: os.Stderr}
			opts := []matrix.Option{
				matrix.WithRepo(repo), matrix.WithCache(cache), matrix.WithKernels(kernel),
				matrix.WithCells(cell),
			}
			if modulesDir != "" {
				opts = append(opts, matrix.WithModulesDir(modulesDir))
			}
			if kconfigs != "" {
				opts = append(opts, matrix.WithKconfigDir(kconfigs))
			}
			if len(moduleDirs) > 0 {
				opts = append(opts, matrix.WithModuleDirs(moduleDirs...))
			} else {
				opts = append(opts, matrix.WithScenarios(scenarios...))
			}
			boot, cleanup, err := s.prepare(ctx, opts)
			defer cleanup()
			if err != nil {
				return err
			}
			return s.run(ctx, boot, vm.WithAccel(a), vm.WithMemory(memory))
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&cell, "cell", "", "cell to boot (a fragment name in kconfigs/, e.g. unload)")
	fl.StringVar(&kernel, "kernel", "6.12", "Debian linux-source series (6.12 or 6.1)")
	fl.StringArrayVar(&moduleDirs, "module", nil, "out-of-tree module folder (its own Kbuild or Makefile) to build and pack instead of the scenarios' modules; repeatable")
	fl.StringSliceVar(&scenarios, "scenarios", nil, "scenarios whose modules to pack (default: all; ignored with --module)")
	fl.StringVar(&repo, "repo", "", "modmatrix checkout with kconfigs/ and modules/ (default: found from the working directory)")
	fl.StringVar(&modulesDir, "modules", "", "folder of scenarios, one subfolder each (default: REPO/modules)")
	fl.StringVar(&kconfigs, "kconfigs", "", "folder of Kconfig fragments (default: REPO/kconfigs)")
	fl.StringVar(&cache, "cache", kbuild.DefaultCacheDir(), "cache folder for kernel sources, builds, modules and the shell image")
	fl.StringVar(&accel, "accel", "auto", "QEMU accelerator: auto (KVM only where it really works), tcg or kvm")
	fl.IntVar(&memory, "memory", 256, "guest memory in MiB")
	_ = cmd.MarkFlagRequired("cell")
	return cmd
}

// shellSession is one `modmatrix shell`: what to build, and where it says so.
type shellSession struct {
	repo, cache, cell string
	log               io.Writer
}

// shellBoot is what the session boots.
type shellBoot struct {
	kernel string
	pvh    bool
	image  string
	banner string
}

// prepare builds (or finds) the cell's kernel, the modules and the image.
// cleanup removes the scratch folder; call it also on error.
func (s *shellSession) prepare(ctx context.Context, opts []matrix.Option) (*shellBoot, func(), error) {
	tmp, err := os.MkdirTemp("", "modmatrix-shell-")
	if err != nil {
		return nil, func() {}, err
	}
	cleanup := func() { os.RemoveAll(tmp) }
	lines := progress.New(s.log)
	// The reminders stop before the console is handed over.
	defer lines.Close()
	m, err := matrix.New(ctx, append(opts, matrix.WithProgress(lines), matrix.WithOut(tmp))...)
	if err != nil {
		return nil, cleanup, err
	}
	src := m.Sources()[0]
	p, err := m.PrepareCell(ctx, src, s.cell, tmp)
	if err != nil {
		return nil, cleanup, err
	}
	kos, origin, err := shellModules(m, p)
	if err != nil {
		return nil, cleanup, err
	}
	lines.Stage(src.Version, s.cell, "shell image")
	base, err := initramfs.BuildShellBase(ctx, s.repo, s.cache)
	if err != nil {
		return nil, cleanup, err
	}
	if !base.Cached {
		lines.Stage(src.Version, s.cell, fmt.Sprintf("shell image built in %s (cached from now on)", base.BuildTime.Round(100e6)))
	}
	b := &shellBoot{image: filepath.Join(tmp, "shell.cpio")}
	b.kernel, b.pvh = p.Kernel.BootImage()
	b.banner = shellBanner(p, kos, origin)
	if err := base.Image(kos, b.banner, b.image); err != nil {
		return nil, cleanup, err
	}
	return b, cleanup, nil
}

// shellModules is every .ko to pack, by module name, with the folder each
// came from. /modmatrix/ko is flat, so a name may come from one folder only.
func shellModules(m *matrix.Matrix, p *matrix.PreparedCell) (kos, origin map[string]string, err error) {
	dirs := map[string]string{}
	for _, sc := range m.Scenarios() {
		dirs[sc.Name] = sc.Dir
	}
	names := make([]string, 0, len(p.Modules))
	for sc := range p.Modules {
		names = append(names, sc)
	}
	sort.Strings(names)
	kos, origin = map[string]string{}, map[string]string{}
	for _, sc := range names {
		for mod, ko := range p.Modules[sc] {
			if prev, ok := origin[mod]; ok {
				return nil, nil, fmt.Errorf("module %s comes from both %s and %s: %s holds one file per name", mod, prev, dirs[sc], protocol.ModuleDir)
			}
			kos[mod], origin[mod] = ko, dirs[sc]
		}
	}
	return kos, origin, nil
}

// shellBanner is what the guest prints before the first prompt.
func shellBanner(p *matrix.PreparedCell, kos, origin map[string]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nmodmatrix shell: linux %s, cell %s", p.Kernel.Release, p.Cell.Name)
	if p.Cell.Description != "" {
		fmt.Fprintf(&b, " (%s)", firstSentence(p.Cell.Description))
	}
	b.WriteString("\n")
	names := make([]string, 0, len(kos))
	for n := range kos {
		names = append(names, n)
	}
	sort.Strings(names)
	switch {
	case !p.Kernel.Modules():
		fmt.Fprintf(&b, "this kernel has no module support (CONFIG_MODULES is not set): %s is empty\n", protocol.ModuleDir)
	case len(names) == 0:
		fmt.Fprintf(&b, "no modules packed: %s is empty\n", protocol.ModuleDir)
	default:
		fmt.Fprintf(&b, "modules in %s:\n", protocol.ModuleDir)
		for _, n := range names {
			fmt.Fprintf(&b, "  %-24s %s\n", n+".ko", origin[n])
		}
		n := names[0]
		if _, ok := kos["hello"]; ok {
			n = "hello"
		}
		fmt.Fprintf(&b, "try:   insmod %s/%s.ko; lsmod; rmmod %s; dmesg | tail\n", protocol.ModuleDir, n, n)
	}
	b.WriteString("leave: poweroff, or Ctrl-A X\n\n")
	return b.String()
}

// run boots with the console on this process's terminal, in raw mode so
// that Ctrl-A X reaches QEMU and Ctrl-C the guest.
func (s *shellSession) run(ctx context.Context, b *shellBoot, opts ...vm.Option) error {
	fmt.Fprintf(s.log, "booting; in the guest, poweroff ends the session; so does Ctrl-A X\n")
	if fd := int(os.Stdin.Fd()); term.IsTerminal(fd) {
		old, err := term.MakeRaw(fd)
		if err != nil {
			return fmt.Errorf("terminal: %w", err)
		}
		defer term.Restore(fd, old)
	}
	return vm.Interactive(ctx, os.Stdin, os.Stdout,
		append(opts, vm.WithKernel(b.kernel, b.pvh), vm.WithInitramfs(b.image))...)
}
