package matrix

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"text/tabwriter"
	"time"

	"modmatrix.dev/modmatrix/harness/report"
	"modmatrix.dev/modmatrix/harness/snapshot"
	"modmatrix.dev/modmatrix/harness/vm"
	"modmatrix.dev/modmatrix/initramfs"
)

// Bench measures where a run's time goes on this machine. Per cell: the
// kernel build (or that it was cached), the floor (the same kernel booting
// an init that reboots at once) and a cold snapshot (boot to the agent's
// ready, save), each the median of runs. Then the whole matrix, warm, runs
// times: its wall time, boots and restores, and each scenario's restore
// and wall time, from the median run.
func (m *Matrix) Bench(ctx context.Context, w io.Writer, runs int) error {
	if runs < 1 {
		return fmt.Errorf("--runs %d: want 1 or more", runs)
	}
	out, err := filepath.Abs(filepath.Join(m.cfg.OutDir, "bench"))
	if err != nil {
		return err
	}
	base, err := initramfs.BuildBase(ctx, m.cfg.RepoDir, filepath.Join(out, "initramfs"))
	if err != nil {
		return err
	}
	floor, err := initramfs.BuildFloor(ctx, m.cfg.RepoDir, filepath.Join(out, "initramfs"))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "host: %s, accel %s, guest clock %s, %d runs per median\n\n", hostName(), m.cfg.Accel.Resolve(), m.guestClock(), runs)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KERNEL\tCELL\tKERNEL BUILD\tFLOOR BOOT\tCOLD SNAPSHOT\tRATIO")
	var floors []time.Duration
	for _, u := range m.units() {
		r := &cellRun{m: m, u: u, out: filepath.Join(out, u.src.Version, u.cell.Name), base: base}
		row, err := m.benchCell(ctx, r, floor, runs)
		if err != nil {
			return err
		}
		floors = append(floors, row.floor)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.2f\n", u.src.Version, u.cell.Name, row.build,
			ms(row.floor), ms(row.snapshot), float64(row.snapshot)/float64(row.floor))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return m.benchMatrix(ctx, w, out, runs, median(floors))
}

// benchRow is one cell's measurements, a line of the bench table.
type benchRow struct {
	build           string        // the kernel's build time, or "cached"
	floor, snapshot time.Duration // medians: a floor boot, a cold snapshot
}

// benchCell builds (or finds) one cell's kernel, then boots the floor and
// makes a snapshot (in a scratch cache, so it is cold) runs times each.
func (m *Matrix) benchCell(ctx context.Context, r *cellRun, floor string, runs int) (benchRow, error) {
	var row benchRow
	k, err := r.prepare(ctx)
	if err == nil {
		err = r.guestImage(k)
	}
	if err != nil {
		return row, err
	}
	row.build = "cached"
	if !k.Cached {
		row.build = k.BuildTime.Round(time.Second).String()
	}
	machine := append(r.machine(k), vm.WithTimeout(m.cfg.BootTimeout))
	var floors, snaps []time.Duration
	for range runs {
		res, err := vm.Boot(ctx, append(machine, vm.WithInitramfs(floor))...)
		if err != nil {
			return row, err
		}
		// The floor's init reboots at once, without an agent's done event:
		// only a timeout says the boot failed.
		if res.TimedOut {
			return row, fmt.Errorf("%s %s: floor boot timed out", r.u.src.Version, r.u.cell.Name)
		}
		floors = append(floors, res.Duration)

		scratch, err := os.MkdirTemp(r.m.cfg.CacheDir, "bench-snapshot-")
		if err != nil {
			return row, err
		}
		t := time.Now()
		_, err = snapshot.Get(ctx, scratch, k.Key, r.base.Path, machine...)
		snaps = append(snaps, time.Since(t))
		os.RemoveAll(scratch)
		if err != nil {
			return row, fmt.Errorf("%s %s: %w", r.u.src.Version, r.u.cell.Name, err)
		}
	}
	row.floor, row.snapshot = median(floors), median(snaps)
	return row, nil
}

// benchMatrix runs the matrix once to warm it (kernels, modules and
// snapshots cached), then runs times, and sums up the median run.
func (m *Matrix) benchMatrix(ctx context.Context, w io.Writer, out string, runs int, floor time.Duration) error {
	orig := m.cfg.OutDir
	defer func() { m.cfg.OutDir = orig }()
	var all []*report.Results
	for i := range runs + 1 {
		m.cfg.OutDir = filepath.Join(out, fmt.Sprintf("matrix-%d", i))
		res, err := m.Run(ctx)
		if err != nil {
			return err
		}
		if i > 0 { // run 0 warms the cache
			all = append(all, res)
		}
	}
	slices.SortFunc(all, func(a, b *report.Results) int { return int(a.DurationMS - b.DurationMS) })
	res := all[len(all)/2]
	var boots, restores int
	for _, c := range res.Cells {
		boots += c.Boots
		restores += c.Restores
	}
	var ready, wall []time.Duration
	for _, r := range res.Results {
		if r.Started == "restore" {
			ready = append(ready, time.Duration(r.ReadyMS)*time.Millisecond)
		}
		if r.WallMS > 0 {
			wall = append(wall, time.Duration(r.WallMS)*time.Millisecond)
		}
	}
	var walls []string
	for _, r := range all {
		walls = append(walls, ms(time.Duration(r.DurationMS)*time.Millisecond))
	}
	fmt.Fprintf(w, "\nwarm matrix (%d cells × %d scenarios, -j %d): %s wall (median of %v)\n",
		len(res.Cells), len(m.scenarios), m.cfg.Jobs, ms(time.Duration(res.DurationMS)*time.Millisecond), walls)
	fmt.Fprintf(w, "  %d boots, %d restores\n", boots, restores)
	if len(ready) > 0 {
		fmt.Fprintf(w, "  restore to agent ready: median %s, max %s\n", ms(median(ready)), ms(slices.Max(ready)))
	}
	if len(wall) > 0 {
		fmt.Fprintf(w, "  scenario VM wall: median %s, max %s\n", ms(median(wall)), ms(slices.Max(wall)))
	}
	fmt.Fprintf(w, "  floor boot (median over cells): %s\n", ms(floor))
	return nil
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) string { return d.Round(time.Millisecond).String() }

func hostName() string {
	h, _ := os.Hostname()
	return h
}
