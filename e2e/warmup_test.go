package e2e

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"syscall"
	"testing"
	"time"

	"modmatrix.dev/modmatrix/harness/kconfig"
	"modmatrix.dev/modmatrix/harness/matrix"
)

// warmUpEnv makes the test binary the warm-up instead of the tests.
const warmUpEnv = "MODMATRIX_E2E_WARM_UP"

// startWarmUp starts this binary again, at nice 15, as the warm-up: it
// builds the kernels and module folders of the cells the tests run on 6.1
// (laterCells) into the shared cache while the tests run. The tests ask
// for kernels one at a time and reach 6.1 last (TestKUnitModule,
// TestSeedScenarios), mostly booting one guest at a time meanwhile: on a
// cold machine a core would idle while 6.1's four full builds wait. 6.12 is left to the
// tests: its kernels are the first ones they need (at full priority, not
// behind a niced build holding the source's one build stage), and the
// fault tests kill and damage 6.12 builds and watch its stage. A test that
// needs a kernel the warm-up is building waits on the cache's lock and
// takes the entry, as a second run would. The returned func stops it (it
// must not outlive the tests) and, when they failed, says where its log
// is. With -run (a few tests picked by hand) there is no warm-up.
func startWarmUp() func(failed bool) {
	if testing.Short() || picked() || len(missingTools()) > 0 {
		return func(bool) {}
	}
	if !laterSourceInstalled() {
		return func(bool) {} // the tests that need it say so
	}
	log, err := os.CreateTemp("", "modmatrix-e2e-warm-up-*.log")
	if err != nil {
		fmt.Fprintf(os.Stderr, "warm-up not started: %v\n", err)
		return func(bool) {}
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(os.Stderr, "warm-up not started: %v\n", err)
		return func(bool) {}
	}
	cmd := exec.Command("nice", "-n", "15", self)
	cmd.Env = append(os.Environ(), warmUpEnv+"=1")
	cmd.Stdout, cmd.Stderr = log, log
	// Its own process group, so that a signal to the tests' group (^C)
	// does not reach it before the tests stop it; SIGTERM if the test
	// binary dies first (go test's -timeout), which cancels its builds
	// (kmake stops each make's own group). Pdeathsig follows the thread
	// that forked, which holds here: nothing in this binary locks an OS
	// thread.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "warm-up not started: %v\n", err)
		return func(bool) {}
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	return func(failed bool) {
		select {
		case <-done:
		default:
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-done
			}
		}
		log.Close()
		if failed {
			fmt.Fprintf(os.Stderr, "the kernel warm-up's log is %s\n", log.Name())
		} else {
			os.Remove(log.Name())
		}
	}
}

// picked tells whether -run chose the tests to run.
func picked() bool {
	f := flag.Lookup("test.run")
	return f != nil && f.Value.String() != ""
}

// warmUp is the warm-up process: 6.1's cells one after the other (kbuild
// builds one tree at a time per source anyway), unload first: the cheap
// cells (force-unload, modprobe-path) are a few objects away from it.
// Failures are only logged: the test that needs the kernel reports them.
func warmUp() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	out, err := os.MkdirTemp("", "modmatrix-e2e-warm-up-")
	if err != nil {
		fmt.Println(err)
		return 1
	}
	defer os.RemoveAll(out)
	m, err := matrix.New(ctx, matrix.WithRepo(checkout()), matrix.WithCache(cacheDir()),
		matrix.WithOut(out), matrix.WithKernels(laterKernel))
	if err != nil {
		fmt.Println(err)
		return 1
	}
	cells := slices.DeleteFunc(slices.Clone(m.Cells()), func(c kconfig.Cell) bool { return c.Name == notOnLaterKernels })
	if i := slices.IndexFunc(cells, func(c kconfig.Cell) bool { return c.Name == "unload" }); i > 0 {
		unload := cells[i] // before Delete shifts the rest over it
		cells = append([]kconfig.Cell{unload}, slices.Delete(cells, i, i+1)...)
	}
	start := time.Now()
	for _, src := range m.Sources() {
		for _, c := range cells {
			if ctx.Err() != nil {
				return 0
			}
			dir, err := os.MkdirTemp(out, c.Name+"-")
			if err == nil {
				_, err = m.PrepareCell(ctx, src, c.Name, dir)
			}
			fmt.Printf("[%s] %s %s: %v\n", time.Since(start).Round(time.Second), src.Version, c.Name, err)
		}
	}
	return 0
}
