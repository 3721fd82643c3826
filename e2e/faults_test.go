package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/report"
	"modmatrix.dev/modmatrix/harness/verdict"
)

// TestMissingToolRefused: with QEMU, the compiler, kmod, flex or bison missing
// from PATH, or a kernel series whose source package is not installed,
// run stops before it unpacks or builds anything, exit 2, naming what is
// missing and the package to install.
func TestMissingToolRefused(t *testing.T) {
	requireTools(t)
	bin := modmatrixBin(t)
	tools := []string{"qemu-system-x86_64", "make", "gcc", "ld", "kmod", "flex", "bison", "bc", "tar", "xz", "dpkg-query"}
	for _, c := range []struct {
		missing string // left off PATH
		args    []string
		want    []string
	}{
		{"qemu-system-x86_64", nil, []string{"missing qemu-system-x86_64", "apt-get install qemu-system-x86"}},
		{"gcc", nil, []string{"missing gcc", "apt-get install gcc"}},
		{"kmod", nil, []string{"missing kmod", "apt-get install kmod"}},
		{"flex", nil, []string{"missing flex", "apt-get install flex"}},
		{"bison", nil, []string{"missing bison", "apt-get install bison"}},
		{"", []string{"--kernels", "6.99"}, []string{"/usr/src/linux-source-6.99.tar.xz not found", "apt-get install linux-source-6.99"}},
	} {
		name := c.missing
		if name == "" {
			name = "kernel-source"
		}
		t.Run(name, func(t *testing.T) {
			path := t.TempDir()
			for _, tool := range tools {
				if tool == c.missing {
					continue
				}
				p, err := exec.LookPath(tool)
				require.NoError(t, err)
				require.NoError(t, os.Symlink(p, filepath.Join(path, tool)))
			}
			out, cache := t.TempDir(), t.TempDir()
			args := append([]string{"run", "--cache", cache, "--cells", "unload", "--scenarios", "hello", "--out", out}, c.args...)
			text, code := runCLIEnv(t, []string{"PATH=" + path}, bin, args...)
			assert.Equal(t, 2, code, "%s", text)
			for _, w := range c.want {
				assert.Contains(t, text, w)
			}
			assert.NotContains(t, text, "configure", "nothing was started")
			assert.NoFileExists(t, filepath.Join(out, "results.json"))
			entries, err := os.ReadDir(cache)
			require.NoError(t, err)
			for _, e := range entries {
				sub, _ := os.ReadDir(filepath.Join(cache, e.Name()))
				assert.Empty(t, sub, "nothing unpacked or built in %s", e.Name())
			}
		})
	}
}

// damagedCell is the cell of the tests that damage a cached kernel: the
// unload cell plus a hostname, one object to rebuild from the unload tree,
// so that no other test's kernel is touched. It returns run's flags for
// it, given an --out.
func damagedCell(t *testing.T) func(out string) []string {
	frag := filepath.Join(t.TempDir(), "hostname.config")
	require.NoError(t, os.WriteFile(frag, []byte("CONFIG_DEFAULT_HOSTNAME=\"modmatrix-fault\"\n"), 0o644))
	return func(out string) []string {
		return []string{"run", "--cache", cacheDir(), "--cell", "damaged=kconfigs/unload.config," + frag,
			"--cells", "damaged", "--scenarios", "hello", "--out", out}
	}
}

// runDamagedCell runs the damaged cell to a PASS and returns its results
// and output.
func runDamagedCell(t *testing.T, bin string, args func(string) []string) (*report.Results, string) {
	t.Helper()
	out := t.TempDir()
	text, code := runCLI(t, bin, args(out)...)
	require.Equal(t, 0, code, "%s", text)
	res, err := report.Read(out)
	require.NoError(t, err)
	require.Len(t, res.Results, 1)
	assert.Equal(t, verdict.Pass, res.Results[0].Verdict, res.Results[0].Reason)
	return res, text
}

// TestDamagedKernelRebuilt: a cached kernel damaged after it was written
// (a vmlinux truncated by a full disk during a copy, a truncated
// Module.symvers) is found by its manifest on the hit, said so, rebuilt in
// place, and its cell passes. (A removed file: TestKilledBuild.)
func TestDamagedKernelRebuilt(t *testing.T) {
	requireTools(t)
	bin := modmatrixBin(t)
	args := damagedCell(t)
	res, _ := runDamagedCell(t, bin, args)
	entry := filepath.Join(cacheDir(), "kernels", res.Cells[0].KernelKey)
	for _, file := range []string{"vmlinux", "Module.symvers"} {
		t.Run(file, func(t *testing.T) {
			p := filepath.Join(entry, file)
			before, err := os.Stat(p)
			require.NoError(t, err)
			require.NoError(t, os.Truncate(p, before.Size()/2))
			res, text := runDamagedCell(t, bin, args)
			assert.Contains(t, text, "damaged: "+file+" has ")
			assert.False(t, res.Cells[0].KernelCached, "rebuilt, not taken as it was")
			after, err := os.Stat(p)
			require.NoError(t, err)
			assert.Equal(t, before.Size(), after.Size(), "the entry is whole again")
		})
	}
}

// TestCacheVerifyPrune: cache verify and cache prune on real entries (a
// kernel, its hello build and its cell's snapshot, linked into a cache of
// the test's own so that nothing another test uses is touched).
func TestCacheVerifyPrune(t *testing.T) {
	requireTools(t)
	bin := modmatrixBin(t)
	out := t.TempDir()
	text, code := runCLI(t, bin, "run", "-q", "--cache", cacheDir(), "--cells", "unload", "--scenarios", "hello", "--out", out)
	require.Equal(t, 0, code, "%s", text)
	res, err := report.Read(out)
	require.NoError(t, err)
	cell := res.Cells[0]

	own := t.TempDir()
	link := func(rel string) string {
		matches, err := filepath.Glob(filepath.Join(cacheDir(), rel))
		require.NoError(t, err)
		require.NotEmpty(t, matches, rel)
		// Of several (hello's module builds of other tests' copies), the
		// one the run just used: a hit marks it used.
		sort.Slice(matches, func(i, j int) bool { return modTime(t, matches[i]).After(modTime(t, matches[j])) })
		rel, err = filepath.Rel(cacheDir(), matches[0])
		require.NoError(t, err)
		dst := filepath.Join(own, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(dst), 0o755))
		// Hard links: a file the test damages is replaced, not written.
		require.NoError(t, exec.Command("cp", "-al", matches[0], dst).Run())
		return dst
	}
	kernel := link(filepath.Join("kernels", cell.KernelKey))
	hello := link(filepath.Join("modules", cell.KernelKey, "hello-*"))
	snap := link(filepath.Join("snapshots", cell.SnapshotKey))

	text, code = runCLI(t, bin, "cache", "verify", "--cache", own)
	assert.Equal(t, 0, code, "%s", text)
	assert.Contains(t, text, "3 entries")
	assert.Contains(t, text, "0 damaged")

	// A truncated vmstate and a removed .ko are found, each named.
	vmstate := filepath.Join(snap, "vmstate")
	b, err := os.ReadFile(vmstate)
	require.NoError(t, err)
	require.NoError(t, os.Remove(vmstate))
	require.NoError(t, os.WriteFile(vmstate, b[:len(b)/2], 0o644))
	require.NoError(t, os.Remove(filepath.Join(hello, "hello.ko")))
	text, code = runCLI(t, bin, "cache", "verify", "--cache", own)
	assert.Equal(t, 1, code, "%s", text)
	assert.Contains(t, text, "damaged snapshot")
	assert.Contains(t, text, "damaged modules")
	assert.Contains(t, text, "hello.ko is missing")
	assert.Contains(t, text, "2 damaged")

	// Unused for 40 days: pruned, the kernel's module builds with it.
	old := time.Now().Add(-40 * 24 * time.Hour)
	for _, p := range []string{kernel, snap} {
		require.NoError(t, os.Chtimes(p, old, old))
	}
	text, code = runCLI(t, bin, "cache", "prune", "--cache", own, "--older-than", "30d")
	assert.Equal(t, 0, code, "%s", text)
	assert.Contains(t, text, "removed 3 entries")
	assert.NoDirExists(t, kernel)
	assert.NoDirExists(t, hello)
	assert.NoDirExists(t, snap)
	assert.FileExists(t, filepath.Join(cacheDir(), "kernels", cell.KernelKey, "vmlinux"), "the run's own cache is untouched")
}

func modTime(t *testing.T, p string) time.Time {
	fi, err := os.Stat(p)
	require.NoError(t, err)
	return fi.ModTime()
}

// TestCellWithoutAgentConsole: a user cell whose fragment turns off what
// the agent reports over is refused before its kernel is built, naming the
// symbol and the fragment's line, not left to run into a silent guest.
func TestCellWithoutAgentConsole(t *testing.T) {
	requireTools(t)
	bin := modmatrixBin(t)
	frag := filepath.Join(t.TempDir(), "noconsole.config")
	require.NoError(t, os.WriteFile(frag, []byte("# CONFIG_VIRTIO_CONSOLE is not set\n"), 0o644))
	out := t.TempDir()
	text, code := runCLI(t, bin, "run", "-q", "--cache", cacheDir(), "--cell", "noconsole=kconfigs/unload.config,"+frag,
		"--cells", "noconsole", "--scenarios", "hello", "--out", out)
	assert.Equal(t, 1, code, "%s", text)
	res, err := report.Read(out)
	require.NoError(t, err)
	require.Len(t, res.Results, 1)
	r := res.Results[0]
	assert.Equal(t, verdict.Error, r.Verdict)
	assert.Contains(t, r.Reason, "CONFIG_VIRTIO_CONSOLE=n ("+frag+":1)")
	assert.Empty(t, res.Cells[0].KernelKey, "no kernel was built")
	assert.Zero(t, res.Cells[0].Boots+res.Cells[0].Restores, "nothing booted")
}

// qemuUnder lists the QEMU processes whose command line names dir: a run
// given TMPDIR=dir puts its VMs' sockets there.
func qemuUnder(dir string) []string {
	out, _ := exec.Command("pgrep", "-f", "qemu-system-x86_64.*"+regexp.QuoteMeta(dir)).Output()
	return strings.Fields(string(out))
}

// runFault runs modmatrix with its temporary files in a folder of the
// test's own, and checks what every fault must leave: exit 1, a valid
// results.json with a verdict for each scenario × cell that is not PASS,
// and no QEMU.
func runFault(t *testing.T, bin string, env []string, args ...string) (*report.Results, string) {
	t.Helper()
	tmp, out := t.TempDir(), keptOnFailure(t)
	text, code := runCLIEnv(t, append(env, "TMPDIR="+tmp), bin, append(args, "--cache", cacheDir(), "--out", out)...)
	assert.Equal(t, 1, code, "%s", text)
	assert.Empty(t, qemuUnder(tmp), "no QEMU outlives the run")
	res, err := report.Read(out)
	require.NoError(t, err, "%s", text)
	require.NotEmpty(t, res.Results, "%s", text)
	for _, r := range res.Results {
		assert.NotEqual(t, verdict.Pass, r.Verdict, "%s on %s: %s", r.Scenario, r.Cell, r.Reason)
	}
	return res, text
}

// TestAgentKilled: a module whose init kills the process loading it (the
// agent, which the kernel says nothing about) is a CRASH of that step
// saying the agent died, not a HANG or a pass; u-root's init exits after
// it and the kernel's panic is named as the consequence.
func TestAgentKilled(t *testing.T) {
	requireTools(t)
	res, _ := runFault(t, modmatrixBin(t), nil, "run", "-q", "--module", "e2e/testdata/agent-killed", "--cells", "unload")
	require.Len(t, res.Results, 1)
	r := res.Results[0]
	assert.Equal(t, verdict.Crash, r.Verdict)
	assert.Contains(t, r.Reason, "step 1 (load agent_killed")
	assert.Contains(t, r.Reason, "the agent died")
	assert.Contains(t, r.Reason, "Attempted to kill init!")
}

// TestEventStreamFaults: the agent's event stream garbled, cut off in the
// middle of an event, or gone silent (a host-side fault switch compiled
// only into a -tags faultinject binary) is ERROR for each scenario, with
// the reason naming what the host saw, on a scenario that would pass and
// on one that pins a crash.
func TestEventStreamFaults(t *testing.T) {
	requireTools(t)
	bin := filepath.Join(t.TempDir(), "modmatrix-faults")
	build := exec.Command("go", "build", "-tags", "faultinject", "-o", bin, "./cmd/modmatrix")
	build.Dir = repoRoot(t)
	b, err := build.CombinedOutput()
	require.NoError(t, err, "%s", b)
	for fault, want := range map[string]string{
		"garble":   "corrupt event channel: a line that is not an event",
		"truncate": "truncated event channel: the last event is cut short",
		"silent":   "guest stopped reporting during step 1 (load ",
	} {
		t.Run(fault, func(t *testing.T) {
			res, _ := runFault(t, bin, []string{"MODMATRIX_FAULT=" + fault}, "run", "-q", "--scenarios", "hello,exit-oops", "--cells", "unload")
			require.Len(t, res.Results, 2)
			for _, r := range res.Results {
				// A crash the console proves stands, the stream's state
				// noted on it (a garbled step result can leave exit-oops's
				// oops unexpected at the step it shifted to).
				if r.Verdict == verdict.Crash && fault == "garble" {
					assert.Contains(t, r.Reason, "(and "+want, r.Scenario)
					continue
				}
				assert.Equal(t, verdict.Error, r.Verdict, "%s: %s", r.Scenario, r.Reason)
				assert.Contains(t, r.Reason, want, r.Scenario)
			}
		})
	}
}

// TestKilledBuild: a cached kernel with a file removed (System.map) is a
// miss, rebuilt; modmatrix SIGKILLed during that build leaves no make or
// compiler running (make gets SIGTERM when its parent dies and passes it
// on; no QEMU runs yet: TestShellSignals kills one); what it left in the cache (the half-built stage) is
// removed by the next run; and two runs started together that both need
// the kernel rebuild it once and both pass.
func TestKilledBuild(t *testing.T) {
	requireTools(t)
	bin := modmatrixBin(t)
	args := damagedCell(t)
	res, _ := runDamagedCell(t, bin, args)
	systemMap := filepath.Join(cacheDir(), "kernels", res.Cells[0].KernelKey, "System.map")
	before, err := os.Stat(systemMap)
	require.NoError(t, err)
	require.NoError(t, os.Remove(systemMap))

	start := func() (*exec.Cmd, *bytes.Buffer, string) {
		out := keptOnFailure(t)
		cmd := exec.Command(bin, args(out)...)
		cmd.Dir = repoRoot(t)
		cmd.Env = append(os.Environ(), "TMPDIR="+t.TempDir())
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())
		return cmd, &stderr, out
	}
	killed, stderr, _ := start()
	var stage string
	require.Eventually(t, func() bool {
		for _, p := range processes() {
			if p.comm == "make" && descends(p.pid, killed.Process.Pid) && strings.Contains(p.cmdline, "bzImage") {
				for _, arg := range strings.Fields(p.cmdline) {
					if s, ok := strings.CutPrefix(arg, "O="); ok {
						stage = s
					}
				}
				return stage != ""
			}
		}
		return false
	}, 15*time.Minute, 200*time.Millisecond, "the kernel build never started: %s", stderr)
	time.Sleep(time.Second) // compilers at work
	require.NoError(t, killed.Process.Signal(syscall.SIGKILL))
	_ = killed.Wait()
	assert.Contains(t, stderr.String(), "damaged: System.map is missing; rebuilding")
	// At once, not when the build would have finished anyway (a
	// one-object rebuild takes some 15 s more).
	assert.Eventually(t, func() bool { return len(usersOf(stage)) == 0 }, 3*time.Second, 100*time.Millisecond,
		"processes of the killed build still run: %v", usersOf(stage))
	require.DirExists(t, stage, "the killed build left its stage")

	// Two runs at once: the first to sweep removes the dead stage, one
	// builds, the other waits for it and takes the hit.
	type run struct {
		cmd    *exec.Cmd
		stderr *bytes.Buffer
		out    string
	}
	var runs []run
	for range 2 {
		cmd, stderr, out := start()
		runs = append(runs, run{cmd, stderr, out})
	}
	var swept []string
	built := 0
	for _, r := range runs {
		require.NoError(t, r.cmd.Wait(), "%s", r.stderr)
		res, err := report.Read(r.out)
		require.NoError(t, err)
		require.Len(t, res.Results, 1)
		assert.Equal(t, verdict.Pass, res.Results[0].Verdict, res.Results[0].Reason)
		if !res.Cells[0].KernelCached {
			built++
		}
		swept = append(swept, res.Swept...)
	}
	assert.Equal(t, 1, built, "built once: %s\n%s", runs[0].stderr, runs[1].stderr)
	assert.Contains(t, swept, stage, "the dead run's stage was swept")
	assert.NoDirExists(t, stage, "the stage became the entry")
	temps, _ := filepath.Glob(filepath.Join(cacheDir(), "kernels", ".tmp-"+res.Cells[0].KernelKey+"*"))
	assert.Empty(t, temps)
	after, err := os.Stat(systemMap)
	require.NoError(t, err)
	assert.Equal(t, before.Size(), after.Size(), "the entry is whole again")
}

type process struct {
	pid           string
	comm, cmdline string
	cwd           string
}

// processes lists the machine's processes.
func processes() []process {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var out []process
	for _, d := range dirs {
		comm, err := os.ReadFile(filepath.Join(d, "comm"))
		if err != nil {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join(d, "cmdline"))
		cwd, _ := os.Readlink(filepath.Join(d, "cwd"))
		out = append(out, process{pid: filepath.Base(d), comm: strings.TrimSpace(string(comm)),
			cmdline: strings.ReplaceAll(string(cmdline), "\x00", " "), cwd: cwd})
	}
	return out
}

// usersOf lists the processes working in dir or naming it.
func usersOf(dir string) []string {
	var out []string
	for _, p := range processes() {
		if strings.HasPrefix(p.cwd, dir) || strings.Contains(p.cmdline, dir) {
			out = append(out, p.pid+" "+p.comm)
		}
	}
	return out
}

// smallDisk mounts a tmpfs of size at dir for the test: a disk that fills.
func smallDisk(t *testing.T, dir, size string) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("the full-disk tests mount a tmpfs: CI runs them as root")
		}
		t.Skip("the full-disk tests mount a tmpfs, which needs root")
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size))
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
}

// TestDiskFullDuringKernelBuild: a cache on a disk that fills during the
// kernel build (a 12 MB tmpfs; the source tree is the shared cache's, used
// in place with --kernel-src) makes that cell ERROR with the compiler's
// "No space left on device", exit 1, results.json written elsewhere, no
// make left and no kernel entry published.
func TestDiskFullDuringKernelBuild(t *testing.T) {
	requireTools(t)
	bin := modmatrixBin(t)
	srcs, _ := filepath.Glob(filepath.Join(cacheDir(), "src", "linux-source-6.12-*"))
	require.NotEmpty(t, srcs, "an unpacked 6.12 source in the shared cache (the earlier tests unpack it)")
	cache := filepath.Join(t.TempDir(), "cache")
	smallDisk(t, cache, "12m")
	tmp, out := t.TempDir(), keptOnFailure(t)
	text, code := runCLIEnv(t, []string{"TMPDIR=" + tmp}, bin, "run", "-q", "--cache", cache, "--kernel-src", srcs[0],
		"--cells", "unload", "--scenarios", "hello", "--out", out)
	assert.Equal(t, 1, code, "%s", text)
	res, err := report.Read(out)
	require.NoError(t, err, "%s", text)
	require.Len(t, res.Results, 1)
	r := res.Results[0]
	assert.Equal(t, verdict.Error, r.Verdict)
	assert.Contains(t, r.Reason, "No space left on device")
	assert.Empty(t, usersOf(cache), "no make or compiler left")
	assert.Empty(t, qemuUnder(tmp))
	entries, _ := filepath.Glob(filepath.Join(cache, "kernels", "[0-9a-f]*"))
	for _, e := range entries {
		assert.True(t, strings.HasSuffix(e, ".lock"), "no kernel published: %s", e)
	}
}

// TestDiskFullDuringSnapshot: the snapshot cannot be saved (its folder
// is a 1 MB tmpfs; kernels and module builds are the shared cache's, by
// symlink), so the cell's scenarios boot instead: the cell still passes,
// says why, and leaves no partial snapshot.
func TestDiskFullDuringSnapshot(t *testing.T) {
	requireTools(t)
	bin := modmatrixBin(t)
	cache := t.TempDir()
	for _, d := range []string{"src", "configs", "kernels", "modules"} {
		require.NoError(t, os.Symlink(filepath.Join(cacheDir(), d), filepath.Join(cache, d)))
	}
	snaps := filepath.Join(cache, "snapshots")
	smallDisk(t, snaps, "1m")
	tmp, out := t.TempDir(), keptOnFailure(t)
	text, code := runCLIEnv(t, []string{"TMPDIR=" + tmp}, bin, "run", "-q", "--cache", cache,
		"--cells", "unload", "--scenarios", "hello,noexit", "--out", out)
	assert.Equal(t, 0, code, "%s", text)
	res, err := report.Read(out)
	require.NoError(t, err, "%s", text)
	require.Len(t, res.Results, 2)
	for _, r := range res.Results {
		assert.Equal(t, verdict.Pass, r.Verdict, "%s: %s", r.Scenario, r.Reason)
		assert.Equal(t, "boot", r.Started, r.Scenario)
	}
	assert.Contains(t, res.Cells[0].SnapshotNote, "no space left on device")
	left, _ := os.ReadDir(snaps)
	for _, e := range left {
		assert.True(t, strings.HasSuffix(e.Name(), ".lock"), "nothing but locks left: %s", e.Name())
	}
	assert.Empty(t, qemuUnder(tmp))
}

// TestTwoRunsOnAColdCache: two runs started together on a cache that has
// only the kernel source and kernels (linked from the shared cache: a cold
// kernel build is TestKilledBuild's, five minutes from scratch) resolve
// the cell's config once (and the tinyconfig it starts from), save its snapshot once, both build its module
// (a cheap entry the first rename wins) and both pass, leaving no
// temporaries.
func TestTwoRunsOnAColdCache(t *testing.T) {
	requireTools(t)
	bin := modmatrixBin(t)
	cache := t.TempDir()
	for _, d := range []string{"src", "kernels"} {
		require.NoError(t, os.Symlink(filepath.Join(cacheDir(), d), filepath.Join(cache, d)))
	}
	var cmds []*exec.Cmd
	var outs []string
	var logs []*bytes.Buffer
	for range 2 {
		out := keptOnFailure(t)
		cmd := exec.Command(bin, "run", "--cache", cache, "--cells", "unload", "--scenarios", "hello", "--out", out)
		cmd.Dir = repoRoot(t)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())
		cmds, outs, logs = append(cmds, cmd), append(outs, out), append(logs, &stderr)
	}
	snapshotsMade := 0
	for i, cmd := range cmds {
		require.NoError(t, cmd.Wait(), "%s", logs[i])
		res, err := report.Read(outs[i])
		require.NoError(t, err)
		require.Len(t, res.Results, 1)
		assert.Equal(t, verdict.Pass, res.Results[0].Verdict, res.Results[0].Reason)
		assert.True(t, res.Cells[0].KernelCached)
		if !res.Cells[0].SnapshotCached {
			snapshotsMade++
		}
	}
	assert.Equal(t, 1, snapshotsMade, "one run saved the snapshot, the other waited for it:\n%s\n%s", logs[0], logs[1])
	configured := len(regexp.MustCompile(`unload\s+configure`).FindAllString(logs[0].String()+logs[1].String(), -1))
	assert.Equal(t, 1, configured, "the config was resolved once:\n%s\n%s", logs[0], logs[1])
	for _, d := range []string{"configs", "snapshots", "modules"} {
		debris, _ := filepath.Glob(filepath.Join(cache, d, ".tmp-*"))
		more, _ := filepath.Glob(filepath.Join(cache, d, "*", ".tmp-*"))
		assert.Empty(t, append(debris, more...), d)
	}
	entries, _ := filepath.Glob(filepath.Join(cache, "configs", "[0-9a-f]*[0-9a-f]"))
	assert.Len(t, entries, 2, "one resolved config, and the source's tinyconfig: %v", entries)
}
