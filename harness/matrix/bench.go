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
			k, err := r.prepare(ctx)
			if err != nil {
				return err
			}
			build := "cached"
			if !k.Cached {
				build = k.BuildTime.Round(time.Second).String()
			}
			t = time.Now()
			if _, err := r.prepare(ctx); err != nil {
				return err
			}
			hit := time.Since(t)

			image := filepath.Join(r.out, "bench.cpio")
			if err := os.MkdirAll(r.out, 0o755); err != nil {
				return err
			}
			t = time.Now()
			plan, kos, _ := r.plan(m.scenarios)
			if err := base.Boot(plan, kos, image); err != nil {
				return err
			}
			imageTime := time.Since(t)

			kernel, pvh := k.BootImage()
			boot := func(initrd string) (time.Duration, error) {
				var ds []time.Duration
				for range runs {
					res, err := vm.Boot(ctx, vm.WithKernel(kernel, pvh), vm.WithInitramfs(initrd),
						vm.WithAccel(m.cfg.Accel), vm.WithTimeout(m.cfg.BootTimeout))
					if err != nil {
						return 0, err
					}
					if res.TimedOut {
						return 0, fmt.Errorf("%s %s: bench boot timed out", src.Version, c.Name)
					}
					ds = append(ds, res.Duration)
				}
				slices.Sort(ds)
				return ds[len(ds)/2], nil
			}
			cell, err := boot(image)
			if err != nil {
				return err
			}
			fl, err := boot(floor)
			if err != nil {
				return err
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.2f\n", src.Version, c.Name, build,
				hit.Round(time.Millisecond), imageTime.Round(time.Millisecond),
				cell.Round(time.Millisecond), fl.Round(time.Millisecond), float64(cell)/float64(fl))
		}
	}
	return tw.Flush()
}

func hostName() string {
	h, _ := os.Hostname()
	return h
}
