package initramfs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// The guest's programs, by the names the binary carries them under
// (guest/ in this package, written by `make guest`).
const (
	progInit    = "init"       // u-root's init
	progAgent   = "modagent"   // the agent, run as uinit
	progFloor   = "floorinit"  // the floor's /init, which reboots at once
	progShellGo = "shell.cpio" // the shell's gobusybox commands, init and uinit linked
)

// guestPackages are the Go packages of the single-binary programs.
var guestPackages = map[string]string{
	progInit:  initPkg,
	progAgent: agentPkg,
	progFloor: floorPkg,
}

// guestPrograms are every file an embedding build carries.
var guestPrograms = []string{progInit, progAgent, progFloor, progShellGo}

// Embedded tells whether this binary carries the guest's programs (built
// with `make build`, tag embedguest): it then needs no Go toolchain and no
// checkout. Without them (go build, go test) they are built from the
// checkout's source on every run.
func Embedded() bool { return embedded != nil }

// GuestID is the digest of the embedded guest programs, "" when this
// binary builds them from source.
func GuestID() string { return guestID() }

// guestID digests the embedded programs (some 12 MB) once per process.
var guestID = sync.OnceValue(func() string {
	if embedded == nil {
		return ""
	}
	h := sha256.New()
	for _, name := range guestPrograms {
		b, err := fs.ReadFile(embedded, name)
		if err != nil {
			return "incomplete"
		}
		fmt.Fprintf(h, "%s %d\n", name, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
})

// ErrNoGuest says what a binary built without its guest programs needs
// to run.
var ErrNoGuest = errors.New("this modmatrix carries no guest programs (built without `make build`): it builds them with Go from a modmatrix checkout (the one above the working directory, or --repo) or from the source it carries; else install it with `make install` or its package")

// guestProgram writes the guest program name to out: the embedded copy,
// or a go build of its package in the checkout at repoDir.
func guestProgram(ctx context.Context, repoDir, name, out string) error {
	if embedded != nil {
		b, err := fs.ReadFile(embedded, name)
		if err != nil {
			return fmt.Errorf("this modmatrix was built without its guest %s (make guest): %w", name, err)
		}
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		return os.WriteFile(out, b, 0o755)
	}
	if repoDir == "" {
		return ErrNoGuest
	}
	return buildGuest(ctx, repoDir, name, out)
}

// buildGuest builds the guest program name from the checkout at repoDir.
func buildGuest(ctx context.Context, repoDir, name, out string) error {
	if name == progShellGo {
		return buildShellGo(ctx, repoDir, out)
	}
	return goBuild(ctx, repoDir, guestPackages[name], out)
}

// WriteGuest builds every guest program from the checkout at repoDir into
// dir, for a build that embeds them (`make guest`).
func WriteGuest(ctx context.Context, repoDir, dir string) error {
	// Absolute: gobusybox builds in a folder of its own.
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, name := range guestPrograms {
		if err := buildGuest(ctx, repoDir, name, filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}
