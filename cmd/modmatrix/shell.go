package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"modmatrix.dev/modmatrix/harness/matrix"
	"modmatrix.dev/modmatrix/harness/modfile"
	"modmatrix.dev/modmatrix/harness/progress"
	"modmatrix.dev/modmatrix/harness/protocol"
	"modmatrix.dev/modmatrix/harness/snapshot"
	"modmatrix.dev/modmatrix/harness/vm"
	"modmatrix.dev/modmatrix/initramfs"
	"modmatrix.dev/modmatrix/internal/cacheentry"
)

// shellFlags are shell's flags: the matrix flags run takes (narrowed to
// the one kernel and cell shell boots), --accel, and shell's own --memory.
type shellFlags struct {
	// cmd names the command in refusals ("shell boots one cell").
	cmd    string
	mf     matrixFlags
	accel  accelFlag
	memory int
}

func shellCmd() *cobra.Command {
	f := shellFlags{cmd: "shell boots"}
	return f.command()
}

func (f *shellFlags) command() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "shell --cell NAME",
		Short: "Boot one cell with its modules and give you a shell on its console",
		Long: `Boot one cell's kernel (built or taken from the cache) with a u-root shell
on the serial console and the modules in /modmatrix/ko: the scenarios'
modules, or the folders given with --module, built against that kernel.
kmod's modprobe (over a depmod index of the packed modules), insmod, rmmod
(-f too), lsmod and modinfo are there, with dmesg, cat, ls, grep, head and
tail. poweroff ends the
session; so does Ctrl-A X (QEMU's console escape).

The kernel and cell flags are run's, for one kernel built from source and
one cell: --kernels or --kernel-src, --cell NAME or --cells NAME (or the
only --cell NAME=FRAGMENT), --kconfig, --kconfigs, --modules, --module,
--scenario, --scenarios, --cache, --repo, --accel. A prebuilt --kernel, or
more than one kernel or cell, is refused before anything is built.` + exitHelp(
			"the session ended: poweroff or exit in the guest, or Ctrl-A X",
			"",
			"bad flag or input, missing tool, a build that failed, QEMU failing, or the terminal gone (SIGHUP)",
			"interrupted (SIGINT, SIGTERM; Ctrl-C itself goes to the guest)"),
		Example: `  modmatrix shell --cell unload
  modmatrix shell --cell debug --module ./mydriver
  modmatrix shell --kernels 6.1 --cell mine=./my.config --scenarios hello`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.run(cmd)
		},
	}
	f.register(cmd)
	return cmd
}

func (f *shellFlags) register(cmd *cobra.Command) {
	f.mf.register(cmd)
	f.accel.register(cmd)
	fl := cmd.Flags()
	fl.IntVar(&f.memory, "memory", 256, fmt.Sprintf("guest memory in MiB (%d or more)", minShellMemory))
	// The shared flags, as shell reads them.
	fl.Lookup("cell").Usage = "the cell to boot: NAME in kconfigs/ (e.g. unload), or a cell of your own, NAME=FRAGMENT[,FRAGMENT...] over base.config (booted when it is the only one named); repeatable"
	fl.Lookup("cells").Usage = "the cell to boot (one; the same as --cell NAME)"
	fl.Lookup("kernel").Usage = "a Debian linux-source series (6.12: the same as --kernels 6.12); prebuilt kernels are refused, shell boots kernels built from source"
	fl.Lookup("kernels").Usage = "the Debian linux-source series to boot (one: 6.12 or 6.1)"
	fl.Lookup("scenarios").Usage = "scenarios whose modules to pack (default: all; with --module, names of its folders)"
	fl.Lookup("module").Usage = "out-of-tree module folder (its own Kbuild or Makefile) to build and pack instead of the scenarios' modules; repeatable"
	fl.Lookup("cache").Usage = "cache folder for kernel sources, builds, modules and the shell image"
}

// run checks the flags, builds (or finds) the kernel, the modules and the
// image, and boots them with the console on this terminal.
func (f *shellFlags) run(cmd *cobra.Command) error {
	cell, err := f.narrow()
	if err != nil {
		return err
	}
	// Less than this and the guest dies of out-of-memory before its shell.
	if err := atLeast("--memory", f.memory, minShellMemory); err != nil {
		return err
	}
	a, err := f.accel.parse()
	if err != nil {
		return err
	}
	repo, err := f.mf.repoDir(cmd.Context())
	if err != nil {
		return err
	}
	f.mf.repo = repo
	opts, err := f.mf.options(cmd.Context())
	if err != nil {
		return err
	}
	// A closed terminal ends the session like Ctrl-C ends a run.
	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGHUP)
	defer stop()
	s := shellSession{repo: repo, cache: f.mf.cache, cell: cell, log: os.Stderr}
	boot, cleanup, err := s.prepare(ctx, opts)
	defer cleanup()
	if err != nil {
		return err
	}
	return s.run(ctx, boot, vm.WithAccel(a), vm.WithMemory(f.memory))
}

// minShellMemory is the least guest memory (MiB) shell boots with: the
// kernel and the unpacked image need most of it.
const minShellMemory = 64

// seriesRE is a Debian linux-source series, what shell's --kernel took
// before --kernel named prebuilt kernels too.
var seriesRE = regexp.MustCompile(`^[0-9]+\.[0-9]+$`)

// narrow narrows the matrix flags to what a session boots, one kernel
// built from source and one cell, and names that cell. It refuses, naming
// the flag, what shell cannot boot; it reads no file, so a mistake costs
// nothing.
func (f *shellFlags) narrow() (cell string, err error) {
	if err := f.oneKernel(); err != nil {
		return "", err
	}
	return f.oneCell()
}

// oneKernel takes --kernel SERIES as --kernels SERIES, and refuses a
// prebuilt kernel (its cell is no fragment of kconfigs/) or more than one.
func (f *shellFlags) oneKernel() error {
	mf := &f.mf
	var series []string
	for _, k := range mf.prebuilt {
		if !seriesRE.MatchString(k) {
			return fmt.Errorf("--kernel %s: %s a kernel built from source, a series (--kernel 6.12 or --kernels 6.12) or --kernel-src DIR, not a prebuilt one", k, f.cmd)
		}
		series = append(series, k)
	}
	flag := "--kernels"
	if len(series) > 0 {
		if mf.kernelsFlag.Changed {
			return fmt.Errorf("--kernel %s and --kernels %s: name the series once", strings.Join(series, ","), strings.Join(mf.kernels, ","))
		}
		mf.kernels, mf.prebuilt, flag = series, nil, "--kernel"
	}
	// --kernel-src replaces the series, as in run.
	if mf.kernelSrc == "" && len(mf.kernels) != 1 {
		return fmt.Errorf("%s %s: %s one kernel, name one series", flag, strings.Join(mf.kernels, ","), f.cmd)
	}
	return nil
}

// oneCell takes --cell NAME as --cells NAME and --cell NAME=FRAGMENT as a
// cell to add, as in run, and names the one cell to boot: the one named,
// else the one added.
func (f *shellFlags) oneCell() (string, error) {
	mf := &f.mf
	var names, specs, added []string
	names = append(names, mf.cells...)
	for _, c := range mf.cellSpecs {
		if name, _, ok := strings.Cut(c, "="); ok {
			specs, added = append(specs, c), append(added, name)
		} else {
			names = append(names, c)
		}
	}
	names = slices.Compact(slices.Sorted(slices.Values(names)))
	switch {
	case len(names) == 0 && len(added) == 1:
		names = added
	case len(names) == 0 && len(added) > 1:
		return "", fmt.Errorf("--cell adds %s: %s one cell, name it with --cells NAME", strings.Join(added, ", "), f.cmd)
	case len(names) == 0:
		return "", fmt.Errorf("--cell: %s one cell: name it (a fragment in kconfigs/, e.g. --cell unload)", f.cmd)
	case len(names) > 1:
		return "", fmt.Errorf("--cell/--cells name %s: %s one cell, name one", strings.Join(names, ", "), f.cmd)
	}
	mf.cells, mf.cellSpecs = names, specs
	return names[0], nil
}

// shellSession is one `modmatrix shell`: what to build, and where it says so.
type shellSession struct {
	repo, cache, cell string
	log               io.Writer
}

// shellBoot is what the session boots: the kernel and the shell image,
// and the session's work (banner and modules, path in the work → file).
type shellBoot struct {
	kernel, kernelKey string
	pvh               bool
	image             string
	work              map[string]string
}

// prepare builds (or finds) the cell's kernel, the modules and the image.
// cleanup removes the scratch folder; call it also on error.
func (s *shellSession) prepare(ctx context.Context, opts []matrix.Option) (*shellBoot, func(), error) {
	tmp, err := os.MkdirTemp("", cacheentry.Owned(matrix.ShellTempPrefix))
	if err != nil {
		return nil, func() {}, err
	}
	cleanup := func() { os.RemoveAll(tmp) }
	lines := progress.New(s.log)
	// The reminders stop before the console is handed over.
	defer lines.Close()
	m, err := matrix.New(ctx, append(opts, matrix.WithProgress(lines), matrix.WithOut(tmp), matrix.WithPreflight())...)
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
	b := &shellBoot{image: base.Path, kernelKey: p.Kernel.Key, work: map[string]string{}}
	b.kernel, b.pvh = p.Kernel.BootImage()
	banner := filepath.Join(tmp, "banner")
	if err := os.WriteFile(banner, []byte(shellBanner(p, kos, origin)), 0o644); err != nil {
		return nil, cleanup, err
	}
	b.work[protocol.ShellBanner] = banner
	for mod, ko := range kos {
		b.work[protocol.ModuleFile(mod)] = ko
	}
	if len(kos) > 0 && p.Kernel.Modules() {
		// depmod's index of the flat folder, for modprobe in the shell.
		kmod, err := initramfs.HostKmod()
		if err != nil {
			return nil, cleanup, err
		}
		flat := map[string]string{}
		for mod, ko := range kos {
			flat[mod+".ko"] = ko
		}
		index, err := modfile.Index(ctx, kmod, p.Kernel.Dir, p.Kernel.Release, flat, filepath.Join(tmp, "depmod"))
		if err != nil {
			return nil, cleanup, err
		}
		for name, path := range index {
			b.work[protocol.IndexFile(name)] = path
		}
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
		fmt.Fprintf(&b, "       modprobe %s; modprobe -r %s (kmod's, dependencies first)\n", n, n)
	}
	b.WriteString("leave: poweroff, or Ctrl-A X\n\n")
	return b.String()
}

// run restores the cell's shell snapshot (making it on the first session:
// one boot) with the console on this process's terminal, in raw mode so
// that Ctrl-A X reaches QEMU and Ctrl-C the guest. Without a snapshot it
// boots.
func (s *shellSession) run(ctx context.Context, b *shellBoot, opts ...vm.Option) error {
	machine := append(opts, vm.WithKernel(b.kernel, b.pvh))
	work := vm.WithWork(func(w io.Writer) error { return protocol.WriteWork(w, protocol.Plan{Cell: s.cell}, b.work) })
	snap, err := snapshot.Get(ctx, s.cache, b.kernelKey, b.image, machine...)
	if err != nil {
		fmt.Fprintf(s.log, "no snapshot, booting: %v\n", err)
	}
	restoring := err == nil
	if restoring && !snap.Cached {
		fmt.Fprintf(s.log, "snapshot of the shell saved; the next session starts from it\n")
	}
	fmt.Fprintf(s.log, "in the guest, poweroff ends the session; so does Ctrl-A X\n")
	if fd := int(os.Stdin.Fd()); term.IsTerminal(fd) {
		old, err := term.MakeRaw(fd)
		if err != nil {
			return fmt.Errorf("terminal: %w", err)
		}
		defer term.Restore(fd, old)
	}
	if restoring {
		err := vm.Interactive(ctx, os.Stdin, os.Stdout, append(append(machine, work), snap.RestoreOptions()...)...)
		if !vm.RestoreFailed(err) {
			return err
		}
		_ = snap.Discard()
		fmt.Fprintf(s.log, "\r\nthe snapshot failed to restore, booting: %v\r\n", err)
	}
	return vm.Interactive(ctx, os.Stdin, os.Stdout, append(machine, work, vm.WithInitramfs(b.image))...)
}
