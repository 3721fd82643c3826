package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"modmatrix.dev/modmatrix/harness/kconfig"
	"modmatrix.dev/modmatrix/harness/ksrc"
	"modmatrix.dev/modmatrix/harness/matrix"
)

// warmUpEnv makes the test binary the warm-up instead of the tests.
const warmUpEnv = "MODMATRIX_E2E_WARM_UP"

// startWarmUp starts this binary again, at the lowest priority but one, as
// the warm-up: it builds every default cell's kernel and module folders of
// both sources into the shared cache while the tests run. The tests ask
// for kernels one at a time, one source after the other, and mostly boot
// one guest at a time on a core; on a cold machine the other core would
// idle while 6.1's kernels wait for the last tests. A test that needs a
// kernel the warm-up is building waits on the cache's lock and takes the
// entry, as two runs do. The returned func stops it (it must not outlive
// the tests) and, when they failed, says where its log is.
func startWarmUp() func(failed bool) {
	if testing.Short() || len(missingTools()) > 0 {
		return func(bool) {}
	}
	log, err := os.CreateTemp("", "modmatrix-e2e-warm-up-*.log")
	if err != nil {
		fmt.Fprintf(os.Stderr, "warm-up not started: %v\n", err)
		return func(bool) {}
	}
	cmd := exec.Command("nice", "-n", "15", os.Args[0])
	cmd.Env = append(os.Environ(), warmUpEnv+"=1")
	cmd.Stdout, cmd.Stderr = log, log
	// Its own process group, so that stopping it reaches its makes; and
	// killed with this process if the test binary dies first (go test's
	// -timeout).
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

// warmUp is the warm-up process: each source's cells one after the other
// (kbuild builds one tree at a time per source anyway), the sources side
// by side. unload goes first: the cheap cells (force-unload,
// modprobe-path) are a few objects away from it. Failures are only
// logged: the test that needs the kernel reports them.
func warmUp() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	out, err := os.MkdirTemp("", "modmatrix-e2e-warm-up-")
	if err != nil {
		fmt.Println(err)
		return 1
	}
	defer os.RemoveAll(out)
	kernels := []string{"6.12"}
	if _, err := os.Stat("/usr/src/linux-source-6.1.tar.xz"); err == nil {
		kernels = append(kernels, "6.1")
	}
	m, err := matrix.New(ctx, matrix.WithRepo(checkout()), matrix.WithCache(cacheDir()),
		matrix.WithOut(out), matrix.WithKernels(kernels...))
	if err != nil {
		fmt.Println(err)
		return 1
	}
	cells := slices.Clone(m.Cells())
	slices.SortStableFunc(cells, func(a, b kconfig.Cell) int {
		switch {
		case a.Name == b.Name:
			return 0
		case a.Name == "unload":
			return -1
		case b.Name == "unload":
			return 1
		}
		return 0
	})
	start := time.Now()
	var wg sync.WaitGroup
	for _, src := range m.Sources() {
		wg.Add(1)
		go func(src *ksrc.Source) {
			defer wg.Done()
			for _, c := range cells {
				if ctx.Err() != nil {
					return
				}
				dir, err := os.MkdirTemp(out, c.Name+"-")
				if err == nil {
					_, err = m.PrepareCell(ctx, src, c.Name, dir)
				}
				fmt.Printf("[%s] %s %s: %v\n", time.Since(start).Round(time.Second), src.Version, c.Name, err)
			}
		}(src)
	}
	wg.Wait()
	return 0
}
