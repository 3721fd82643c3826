package kconfig

import (
	"context"
	"fmt"
	"io"
	"modmatrix.dev/modmatrix/harness/internal/kmake"
	"os"
	"path/filepath"
	"strings"
)

// Option configures Resolve.
type Option func(*options)

type options struct {
	log   io.Writer
	arch  string
	start []byte
}

// WithLog sends the output of make and merge_config.sh to w.
func WithLog(w io.Writer) Option { return func(o *options) { o.log = w } }

// WithArch sets the kernel ARCH (default x86_64).
func WithArch(arch string) Option { return func(o *options) { o.arch = arch } }

// FromTinyconfig starts Resolve from data, what `make tinyconfig` wrote for
// the same tree, ARCH and compiler, instead of running it: tinyconfig runs
// Kconfig three times (allnoconfig, then its two fragments), each probing
// the compiler again, and is the same for every cell.
func FromTinyconfig(data []byte) Option { return func(o *options) { o.start = data } }

// Resolve produces objDir/.config for the kernel in srcDir: tinyconfig (or
// FromTinyconfig's), the
// fragments merged in order by the kernel's own merge_config.sh, then
// olddefconfig. It returns the resolved config; if a requested symbol did not
// survive, the config is returned together with a *ValidationError.
func Resolve(ctx context.Context, srcDir, objDir string, frags []*Fragment, opts ...Option) (Config, error) {
	o := options{arch: "x86_64"}
	for _, fn := range opts {
		fn(&o)
	}
	// make -C changes directory, so relative paths would point elsewhere.
	srcDir, err := filepath.Abs(srcDir)
	if err != nil {
		return nil, err
	}
	objDir, err = filepath.Abs(objDir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(objDir, 0o755); err != nil {
		return nil, err
	}
	mk := func(target string) error {
		return kmake.Run(ctx, objDir, o.log, "make", "-C", srcDir, "O="+objDir, "ARCH="+o.arch, target)
	}
	if o.start != nil {
		if err := os.WriteFile(filepath.Join(objDir, ".config"), o.start, 0o644); err != nil {
			return nil, err
		}
	} else if err := mk("tinyconfig"); err != nil {
		return nil, fmt.Errorf("kconfig: tinyconfig: %w", err)
	}

	// Merge the fragments' entries rather than the files themselves, so
	// what is merged is exactly what was parsed (and what caches key on).
	args := []string{filepath.Join(srcDir, "scripts/kconfig/merge_config.sh"), "-m", "-O", objDir, filepath.Join(objDir, ".config")}
	for i, f := range frags {
		name := fmt.Sprintf(".modmatrix-%02d-%s", i, filepath.Base(f.Path))
		if !strings.HasSuffix(name, ".config") {
			name += ".config"
		}
		p := filepath.Join(objDir, name)
		if err := os.WriteFile(p, f.Text(), 0o644); err != nil {
			return nil, err
		}
		defer os.Remove(p)
		args = append(args, p)
	}
	// merge_config.sh creates its temporary files in the current directory.
	if err := kmake.Run(ctx, objDir, o.log, "sh", args...); err != nil {
		return nil, fmt.Errorf("kconfig: merge_config.sh: %w", err)
	}
	if err := mk("olddefconfig"); err != nil {
		return nil, fmt.Errorf("kconfig: olddefconfig: %w", err)
	}
	cfg, err := ParseConfig(filepath.Join(objDir, ".config"))
	if err != nil {
		return nil, err
	}
	return cfg, Validate(cfg, frags...)
}
