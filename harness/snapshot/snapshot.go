// Package snapshot keeps one saved guest per kernel × cell × guest image ×
// machine: booted once to the point where the agent waits for work, then
// restored once per scenario, so that every scenario starts from the same
// pristine kernel in a fraction of a boot. Entries sit in the cache beside
// the kernels, are written whole (internal/cacheentry) and are checked
// against their recorded size and digest before use.
package snapshot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"modmatrix.dev/modmatrix/harness/protocol"
	"modmatrix.dev/modmatrix/harness/vm"
	"modmatrix.dev/modmatrix/internal/cacheentry"
)

// format changes whenever an entry's layout or meaning does.
const format = "modmatrix-snapshot-1"

// Files of an entry.
const (
	vmstateFile = "vmstate"
	imageFile   = "initramfs.cpio"
	metaFile    = "meta.json"
	// bootConsoleFile is kept with the entry, for every run that uses it.
	bootConsoleFile = "boot.console.log"
)

// Meta is an entry's meta.json.
type Meta struct {
	Format    string `json:"format"`
	Key       string `json:"key"`
	KernelKey string `json:"kernel_key"`
	Image     string `json:"image_sha256"`
	Machine   string `json:"machine"`
	// VMState's size and digest, checked when a run first takes the entry.
	VMStateSize   int64  `json:"vmstate_size"`
	VMStateSHA256 string `json:"vmstate_sha256"`
	// Ready is the agent's ready event: the boot's kernel log, once for
	// every scenario restored from the entry.
	Ready   protocol.Event `json:"ready"`
	ReadyMS int64          `json:"ready_ms"`
	SaveMS  int64          `json:"save_ms"`
	Created time.Time      `json:"created"`
}

// Snapshot is a usable entry.
type Snapshot struct {
	Dir  string
	Meta Meta
	// Cached is whether the entry was there already.
	Cached bool
}

// VMState is the saved guest; Image the initramfs the guest booted with
// (a restore names the same files as the boot).
func (s *Snapshot) VMState() string { return filepath.Join(s.Dir, vmstateFile) }
func (s *Snapshot) Image() string   { return filepath.Join(s.Dir, imageFile) }

// BootConsole is the console of the boot the snapshot was taken of: the
// kernel's boot messages, which no restored scenario's console repeats.
func (s *Snapshot) BootConsole() string { return filepath.Join(s.Dir, bootConsoleFile) }

// RestoreOptions are the vm options that start a guest from s; the
// caller adds the kernel and the machine options it made s with.
func (s *Snapshot) RestoreOptions() []vm.Option {
	return []vm.Option{vm.WithInitramfs(s.Image()), vm.WithRestore(s.VMState())}
}

// Get finds or makes the snapshot of a kernel (by its cache key) booted
// with image under the machine opts (kernel, accelerator, memory, ...).
// Making one boots the guest once; an error says why no snapshot could be
// had (the caller then boots every scenario instead).
func Get(ctx context.Context, cacheDir, kernelKey, image string, opts ...vm.Option) (*Snapshot, error) {
	imageSum, _, err := digest(image)
	if err != nil {
		return nil, fmt.Errorf("guest image: %w", err)
	}
	machine, err := vm.MachineKey(opts...)
	if err != nil {
		return nil, err
	}
	key := cacheentry.Key([]byte(format), []byte(kernelKey), []byte(imageSum), []byte(machine))
	dir := filepath.Join(cacheDir, "snapshots", key)
	var meta Meta
	entry := cacheentry.Entry{
		Path:   dir,
		Locked: true,
		Complete: func(path string) bool {
			m, err := check(path, key)
			meta = m
			return err == nil
		},
	}
	hit, err := entry.Get(ctx, func(ctx context.Context, tmp string) (string, error) {
		return tmp, create(ctx, tmp, Meta{Format: format, Key: key, KernelKey: kernelKey, Image: imageSum, Machine: machine}, image, opts)
	})
	if err != nil {
		return nil, err
	}
	if !hit {
		if meta, err = check(dir, key); err != nil {
			return nil, err
		}
	}
	return &Snapshot{Dir: dir, Meta: meta, Cached: hit}, nil
}

// create boots the guest, saves it into dir and writes meta.json last.
func create(ctx context.Context, dir string, meta Meta, image string, opts []vm.Option) error {
	if err := cacheentry.CopyFile(image, filepath.Join(dir, imageFile)); err != nil {
		return err
	}
	boot := append(append([]vm.Option{}, opts...),
		vm.WithInitramfs(filepath.Join(dir, imageFile)),
		vm.WithConsoleLog(filepath.Join(dir, bootConsoleFile)))
	saved, err := vm.Snapshot(ctx, filepath.Join(dir, vmstateFile), boot...)
	if err != nil {
		return fmt.Errorf("snapshot: %w%s", err, consoleTail(filepath.Join(dir, bootConsoleFile)))
	}
	sum, size, err := digest(filepath.Join(dir, vmstateFile))
	if err != nil {
		return err
	}
	meta.VMStateSize, meta.VMStateSHA256 = size, sum
	meta.Ready = saved.Ready
	meta.ReadyMS, meta.SaveMS = saved.ReadyAfter.Milliseconds(), saved.Save.Milliseconds()
	meta.Created = time.Now().UTC()
	b, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, metaFile), b, 0o644)
}

// check reads an entry's meta and verifies its saved guest: a truncated
// or altered vmstate would restore into a wrong guest, or none.
func check(dir, key string) (Meta, error) {
	var m Meta
	b, err := os.ReadFile(filepath.Join(dir, metaFile))
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%s: %w", metaFile, err)
	}
	if m.Format != format || m.Key != key {
		return m, fmt.Errorf("%s: format %q key %q, want %q %q", metaFile, m.Format, m.Key, format, key)
	}
	sum, size, err := digest(filepath.Join(dir, vmstateFile))
	if err != nil {
		return m, err
	}
	if size != m.VMStateSize || sum != m.VMStateSHA256 {
		return m, fmt.Errorf("%s: %d bytes, sha256 %s; meta.json recorded %d, %s", vmstateFile, size, sum, m.VMStateSize, m.VMStateSHA256)
	}
	// The guest image is the entry's copy, which a restore boots with: a
	// damaged one would restore a guest over another initramfs, or none.
	// Its digest is part of the key.
	if sum, _, err = digest(filepath.Join(dir, imageFile)); err != nil {
		return m, err
	}
	if sum != m.Image {
		return m, fmt.Errorf("%s: sha256 %s; meta.json recorded %s", imageFile, sum, m.Image)
	}
	return m, nil
}

// Discard removes an entry that failed to restore, so the next run makes
// it again instead of failing the same way. It is renamed aside first, so
// a process that finds the entry finds all of it or none; one that already
// holds it fails to restore and boots.
func (s *Snapshot) Discard() error {
	return cacheentry.Remove(s.Dir)
}

// CheckEntry tells whether the snapshot entry at dir is whole: its
// meta.json, its vmstate's size and digest and its guest image's digest
// (modmatrix cache verify).
func CheckEntry(dir string) error {
	_, err := check(dir, filepath.Base(dir))
	return err
}

func digest(path string) (sum string, size int64, err error) {
	fs, err := cacheentry.SumFile(path)
	return fs.SHA256, fs.Size, err
}

// consoleTail is the last lines of a failed snapshot boot's console, for
// the error.
func consoleTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return "\nconsole:\n  " + strings.Join(lines, "\n  ")
}

// ErrDisabled is the reason given when --no-snapshot asked for boots.
var ErrDisabled = errors.New("--no-snapshot: every scenario boots")
