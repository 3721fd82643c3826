package matrix

import (
	"context"
	"fmt"

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
	}
}

// snapshot finds or makes the cell's snapshot (one boot, in a VM slot of
// its own). Without one, every scenario boots; the cell says why.
func (r *cellRun) snapshot(ctx context.Context, k *kbuild.Kernel) {
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
	if !snap.Cached {
		r.boots++ // the snapshot's own boot
	}
	// The boot's kernel log is judged once for the cell, not once for
	// each scenario restored after it.
	r.looseReports = append(r.looseReports, verdict.BootReports([]protocol.Event{snap.Meta.Ready})...)
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
