package kbuild

import (
	"context"
	"fmt"
	"io"
	"modmatrix.dev/modmatrix/harness/internal/kmake"
	"os"
	"path/filepath"
	"strconv"

	"modmatrix.dev/modmatrix/harness/ksrc"
)

// job is one kernel build at a stage directory.
type job struct {
	src     *ksrc.Source
	cell    string
	dir     string // the stage: O= of the build
	base    string // complete entry to start from, or "" for a clean build
	config  []byte // the resolved .config
	modules bool   // CONFIG_MODULES: build the modules target (Module.symvers)
	jobs    int
	log     io.Writer
}

// makeKernel is the real build: copy the base tree if any, install the
// resolved .config, olddefconfig, then bzImage (which implies vmlinux) and
// modules, whose Module.symvers out-of-tree builds need even when the tree
// has no modules of its own.
func makeKernel(ctx context.Context, j *job) error {
	if j.base != "" {
		// --reflink makes this free on btrfs/xfs; ext4 copies (~1 s for
		// a 150 MB tinyconfig tree). Timestamps must survive (-a), or
		// make would rebuild everything.
		if err := kmake.Run(ctx, filepath.Dir(j.dir), j.log, "cp", "-a", "--reflink=auto", j.base, j.dir); err != nil {
			return fmt.Errorf("copy of %s: %w", j.base, err)
		}
		// The copy is not a published entry until it gets its own.
		if err := os.Remove(filepath.Join(j.dir, manifestName)); err != nil {
			return err
		}
	} else if err := os.MkdirAll(j.dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(j.dir, ".config"), j.config, 0o644); err != nil {
		return err
	}
	mk := func(stage string, targets ...string) error {
		args := append([]string{"-C", j.src.Dir, "O=" + j.dir, "ARCH=" + Arch}, targets...)
		if err := kmake.Run(ctx, j.dir, j.log, "make", args...); err != nil {
			return fmt.Errorf("%s: %w", stage, err)
		}
		return nil
	}
	if err := mk("olddefconfig", "olddefconfig"); err != nil {
		return err
	}
	targets := []string{"-j" + strconv.Itoa(max(j.jobs, 1)), "bzImage"}
	if j.modules {
		targets = append(targets, "modules")
	}
	return mk("make bzImage", targets...)
}
