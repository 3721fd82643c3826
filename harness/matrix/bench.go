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

	"modmatrix.dev/modmatrix/harness/vm"
	"modmatrix.dev/modmatrix/initramfs"
)

// Bench measures where a run's time goes on this machine, per cell: kernel
// build (or that it was cached), a cache hit, the initramfs, and a cell's
// boot (all selected scenarios) against the floor — the same kernel booting
// an init that reboots at once — as the median of runs boots each.
func (m *Matrix) Bench(ctx context.Context, w io.Writer, runs int) error {
	out, err := filepath.Abs(filepath.Join(m.cfg.OutDir, "bench"))
	if err != nil {
		return err
	}
	t := time.Now()
	base, err := initramfs.BuildBase(ctx, m.cfg.RepoDir, filepath.Join(out, "initramfs"))
	if err != nil {
		return err
	}
	baseTime := time.Since(t)
	floor, err := initramfs.BuildFloor(ctx, m.cfg.RepoDir, filepath.Join(out, "initramfs"))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "host: %s, accel %s, %d runs per median\n", hostName(), m.cfg.Accel.Resolve(), runs)
	fmt.Fprintf(w, "base initramfs (go build init + agent, pack): %s\n\n", baseTime.Round(time.Millisecond))

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KERNEL\tCELL\tKERNEL BUILD\tCACHE HIT\tINITRAMFS\tCELL BOOT\tFLOOR BOOT\tRATIO")
	for _, src := range m.sources {
		for _, c := range m.cells {
			r := &cellRun{m: m, u: unit{src, c}, out: filepath.Join(out, src.Version, c.Name), base: base}
			row, err := m.benchCell(ctx, r, floor, runs)
			if err != nil {
				return err
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.2f\n", src.Version, c.Name, row.build,
				row.hit.Round(time.Millisecond), row.image.Round(time.Millisecond),
				row.cell.Round(time.Millisecond), row.floor.Round(time.Millisecond), float64(row.cell)/float64(row.floor))
		}
	}
	return tw.Flush()
}

// benchRow is one cell's measurements, a line of the bench table.
type benchRow struct {
	build       string        // the kernel's build time, or "cached"
	hit         time.Duration // finding the kernel and modules again
	image       time.Duration // packing the cell's initramfs
	cell, floor time.Duration // median boots: the cell's scenarios, the floor
}

// benchCell measures one cell: builds (or finds) its kernel and modules,
// finds them again as a cache hit, packs its image, and boots it and the
// floor runs times each.
func (m *Matrix) benchCell(ctx context.Context, r *cellRun, floor string, runs int) (benchRow, error) {
	var row benchRow
	k, err := r.prepare(ctx)
	if err != nil {
		return row, err
	}
	row.build = "cached"
	if !k.Cached {
		row.build = k.BuildTime.Round(time.Second).String()
	}
	t := time.Now()
	if _, err := r.prepare(ctx); err != nil {
		return row, err
	}
	row.hit = time.Since(t)

	image := r.base.Path
	kernel, pvh := k.BootImage()
	if row.cell, err = m.medianBoot(ctx, r.u, kernel, pvh, image, runs); err != nil {
		return row, err
	}
	if row.floor, err = m.medianBoot(ctx, r.u, kernel, pvh, floor, runs); err != nil {
		return row, err
	}
	return row, nil
}

// medianBoot boots kernel with initrd runs times and returns the median
// boot's wall time; a boot that times out is an error naming the unit.
func (m *Matrix) medianBoot(ctx context.Context, u unit, kernel string, pvh bool, initrd string, runs int) (time.Duration, error) {
	var ds []time.Duration
	for range runs {
		res, err := vm.Boot(ctx, vm.WithKernel(kernel, pvh), vm.WithInitramfs(initrd),
			vm.WithAccel(m.cfg.Accel), vm.WithTimeout(m.cfg.BootTimeout))
		if err != nil {
			return 0, err
		}
		if res.TimedOut {
			return 0, fmt.Errorf("%s %s: bench boot timed out", u.src.Version, u.cell.Name)
		}
		ds = append(ds, res.Duration)
	}
	slices.Sort(ds)
	return ds[len(ds)/2], nil
}

func hostName() string {
	h, _ := os.Hostname()
	return h
}
