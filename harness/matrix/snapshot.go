package matrix

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"modmatrix.dev/modmatrix/harness/kbuild"
	"modmatrix.dev/modmatrix/harness/protocol"
	"modmatrix.dev/modmatrix/harness/snapshot"
	"modmatrix.dev/modmatrix/harness/verdict"
	"modmatrix.dev/modmatrix/harness/vm"
)

// machine is the QEMU machine every VM of the cell runs on, the snapshot
// boot and the restores alike: a snapshot restores into no other.
func (r *cellRun) machine(k *kbuild.Kernel) []vm.Option {
	kernel, pvh := k.BootImage()
	return []vm.Option{
		vm.WithKernel(kernel, pvh),
		vm.WithAccel(r.m.cfg.Accel),
		vm.WithIcount(!r.m.cfg.NoIcount),
		// The cell's boot parameters: part of the command line the
		// snapshot is keyed by.
		vm.WithAppend(r.u.cell.Cmdline(r.m.base)...),
	}
}

// snapshot finds or makes the cell's snapshot (one boot, in a VM slot of
// its own). Without one, every scenario boots; the cell says why.
func (r *cellRun) snapshot(ctx context.Context, k *kbuild.Kernel) {
	// No scenario VM runs yet: snapNote needs no lock until the end.
	if r.m.cfg.NoSnapshot {
		r.snapNote = snapshot.ErrDisabled.Error()
		return
	}
	if !r.m.acquireVM(ctx) {
		return
	}
	defer r.m.releaseVM()
	r.stage("snapshot")
	snap, err := snapshot.Get(ctx, r.m.cfg.CacheDir, k.Key, r.base.Path,
		append(r.machine(k), vm.WithTimeout(r.m.cfg.BootTimeout))...)
	if err != nil {
		r.snapNote = fmt.Sprintf("no snapshot, every scenario boots: %v", err)
		r.stage(r.snapNote)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.snap = snap
	// The kernel's boot messages, beside the scenarios' consoles.
	if b, err := os.ReadFile(snap.BootConsole()); err == nil {
		bootLog := filepath.Join(r.out, "boot.console.log")
		if os.MkdirAll(r.out, 0o755) == nil && os.WriteFile(bootLog, b, 0o644) == nil {
			r.bootConsole = bootLog
		}
	}
	if !snap.Cached {
		r.boots++ // the snapshot's own boot
	}
	// The boot's kernel log is judged once for the cell, not once for
	// each scenario restored after it.
	r.addLooseLocked(verdict.BootReports([]protocol.Event{snap.Meta.Ready}))
}

// addLoose adds reports outside any step to the cell's, each once: every
// VM of a cell that booted prints the same boot log, and a leak from
// before the snapshot shows in every restore's scan.
func (r *cellRun) addLoose(reps []verdict.Report) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.addLooseLocked(reps)
}

func (r *cellRun) addLooseLocked(reps []verdict.Report) {
	for _, rep := range reps {
		if !slices.ContainsFunc(r.looseReports, func(o verdict.Report) bool {
			return o.Kind == rep.Kind && o.Title == rep.Title && slices.Equal(o.Modules, rep.Modules)
		}) {
			r.looseReports = append(r.looseReports, rep)
		}
	}
}

func (r *cellRun) currentSnapshot() *snapshot.Snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.snap
}

// snapshotFailed drops a snapshot that would not restore (the scenario
// and the rest of the cell boot instead) and removes it from the cache, so
// the next run makes it again.
func (r *cellRun) snapshotFailed(snap *snapshot.Snapshot, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.snap != snap {
		return // another scenario saw it first
	}
	r.snap = nil
	r.snapNote = fmt.Sprintf("the snapshot failed to restore, the rest of the cell boots: %v", err)
	r.stage(r.snapNote)
	_ = snap.Discard()
}

func (r *cellRun) count(n *int) {
	r.mu.Lock()
	*n++
	r.mu.Unlock()
}

// acquireVM waits for one of the matrix's Jobs VM slots; false when ctx
// ended first.
func (m *Matrix) acquireVM(ctx context.Context) bool {
	select {
	case m.vmSlots <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (m *Matrix) releaseVM() { <-m.vmSlots }
