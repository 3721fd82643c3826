package initramfs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/u-root/gobusybox/src/pkg/golang"
	"github.com/u-root/mkuimage/uimage"

	"modmatrix.dev/modmatrix/harness/protocol"
	"modmatrix.dev/modmatrix/internal/cacheentry"
)

// shellCommands are the commands of a `modmatrix shell` image, built as one
// gobusybox binary: u-root's init and shell, a few file tools, and
// modmatrix's own uinit and poweroff. The module tools and head and tail
// are the host's (shellHostFiles).
var shellCommands = []string{
	"github.com/u-root/u-root/cmds/core/init",
	"github.com/u-root/u-root/cmds/core/gosh",
	"github.com/u-root/u-root/cmds/core/dmesg",
	"github.com/u-root/u-root/cmds/core/cat",
	"github.com/u-root/u-root/cmds/core/ls",
	"github.com/u-root/u-root/cmds/core/grep",
	"github.com/u-root/u-root/cmds/core/uname",
	"github.com/u-root/u-root/cmds/core/mount",
	"github.com/u-root/u-root/cmds/core/sleep",
	"github.com/u-root/u-root/cmds/core/ps",
	"modmatrix.dev/modmatrix/initramfs/shellinit",
	"modmatrix.dev/modmatrix/initramfs/poweroff",
}

// kmodNames are the names kmod answers to besides modprobe, linked to it
// in the shell image: kmod's rmmod has -f (delete_module with O_TRUNC,
// the article's forced unload) and its modinfo reads any .ko; u-root's
// rmmod has no -f and it has no modinfo.
var kmodNames = []string{"insmod", "rmmod", "lsmod", "modinfo"}

// shellHostTools are the host's programs in the shell image's /bin, for
// the short forms people type (`dmesg | tail -3`), which u-root's head
// and tail refuse.
var shellHostTools = []string{"head", "tail"}

// shellHostFiles are the host programs of a shell image with their
// libraries: kmod as /sbin/modprobe, and shellHostTools in /bin.
func shellHostFiles() ([]string, error) {
	kmod, err := HostKmod()
	if err != nil {
		return nil, err
	}
	progs := map[string]string{protocol.ModprobePath: kmod}
	for _, name := range shellHostTools {
		found, err := exec.LookPath(name)
		if err != nil {
			return nil, fmt.Errorf("no %s on this host (coreutils)", name)
		}
		if progs["/bin/"+name], err = filepath.EvalSymlinks(found); err != nil {
			return nil, err
		}
	}
	return hostProgramFiles(progs)
}

// kmodLinks links kmodNames to modprobe beside it.
func kmodLinks() []uimage.Modifier {
	var mods []uimage.Modifier
	for _, name := range kmodNames {
		// A target with a slash is a path (mkuimage makes it relative).
		mods = append(mods, uimage.WithSymlink(filepath.Join(filepath.Dir(strings.TrimPrefix(protocol.ModprobePath, "/")), name), protocol.ModprobePath))
	}
	return mods
}

// goshTags builds gosh's plain line reader rather than its full-screen line
// editor: the kernel's tty line discipline then does echo and erase, which
// behaves the same on a serial console, a terminal and a test's pty.
var goshTags = []string{"goshsmall"}

// ShellBase is the cached base archive of shell images.
type ShellBase struct {
	Path   string
	Cached bool
	// BuildTime is what building it took (zero when cached).
	BuildTime time.Duration
}

// BuildShellBase returns the shell image's base archive from
// cacheDir/shell/KEY/, made on a miss from the shell's Go commands (the
// archive this binary carries, or one gobusybox builds in the module at
// repoDir) and the host's programs. A gobusybox build always rebuilds
// (about 10 s and more), so the archive is kept, keyed by what goes into
// it (shellKey). The entry's sums.json, written last, records the
// archive's size and digest; a hit checks them and builds a damaged
// archive again.
func BuildShellBase(ctx context.Context, repoDir, cacheDir string) (*ShellBase, error) {
	key, err := shellKey(ctx, repoDir)
	if err != nil {
		return nil, fmt.Errorf("shell image: %w", err)
	}
	// An older modmatrix's entry, a bare archive without sums, is taken
	// as it is (as kernels' entries without sums are).
	if legacy := filepath.Join(cacheDir, "shell", key+".cpio"); exists(legacy) {
		_ = os.Chtimes(legacy, time.Now(), time.Now()) // used: prune keeps it
		return &ShellBase{Path: legacy, Cached: true}, nil
	}
	// Unlocked: a concurrent build of the same key writes the same
	// archive, and either rename leaves a complete one.
	entry := cacheentry.Entry{
		Path:     filepath.Join(cacheDir, "shell", key),
		Complete: func(dir string) bool { return CheckShellEntry(dir) == nil },
	}
	hostFiles, err := shellHostFiles()
	if err != nil {
		return nil, fmt.Errorf("shell image: %w", err)
	}
	var built time.Duration
	hit, err := entry.Get(ctx, func(ctx context.Context, tmp string) (string, error) {
		start := time.Now()
		dir := filepath.Join(tmp, "entry") // uimage's scratch stays outside
		if err := os.Mkdir(dir, 0o755); err != nil {
			return "", err
		}
		commands := filepath.Join(tmp, progShellGo)
		if err := guestProgram(ctx, repoDir, progShellGo, commands); err != nil {
			return "", fmt.Errorf("shell image: %w", err)
		}
		err := create(tmp, filepath.Join(dir, shellArchive), append(kmodLinks(),
			uimage.WithBaseFile(commands),
			uimage.WithFiles(hostFiles...),
		)...)
		if err != nil {
			return "", fmt.Errorf("shell image: %w", err)
		}
		if err := cacheentry.WriteSums(dir, shellArchive); err != nil {
			return "", fmt.Errorf("shell image: %w", err)
		}
		built = time.Since(start)
		return dir, nil
	})
	if err != nil {
		return nil, err
	}
	return &ShellBase{Path: filepath.Join(entry.Path, shellArchive), Cached: hit, BuildTime: built}, nil
}

// buildShellGo builds the shell's Go commands as one gobusybox binary in
// the module at repoDir, packed at out with u-root's init as /init and
// shellinit as uinit.
func buildShellGo(ctx context.Context, repoDir, out string) error {
	tmp, err := os.MkdirTemp(filepath.Dir(out), ".gobusybox-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	err = create(tmp, out,
		uimage.WithEnv(
			golang.DisableCGO(),
			golang.WithGOOS("linux"),
			golang.WithGOARCH("amd64"),
			golang.WithBuildTag(goshTags...),
			golang.WithWorkingDir(repoDir),
		),
		uimage.WithBusyboxCommands(shellCommands...),
		uimage.WithInit("init"),
		uimage.WithUinit("shellinit"),
	)
	if err != nil {
		return fmt.Errorf("gobusybox in %s: %w", repoDir, err)
	}
	return nil
}

// Files of a shell image entry.
const (
	shellArchive = "base.cpio"
)

func exists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// CheckShellEntry tells whether the shell image entry at dir is complete
// and whole: its archive as its sums.json records it (modmatrix cache
// verify). A bare KEY.cpio, an older modmatrix's entry, has nothing to
// check it by and is taken as it is.
func CheckShellEntry(dir string) error {
	if filepath.Ext(dir) == ".cpio" {
		return nil
	}
	sums, err := cacheentry.ReadSums(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no %s: not built whole", cacheentry.SumsFile)
	}
	if err != nil {
		return err
	}
	if _, ok := sums[shellArchive]; !ok {
		return fmt.Errorf("%s does not record %s", filepath.Join(dir, cacheentry.SumsFile), shellArchive)
	}
	return sums.Check(dir)
}

// shellKey identifies what goes into the shell base archive.
// The Go commands are the embedded archive's digest, or what a gobusybox
// build of them is made of: the toolchain, the command list and tags,
// go.mod and go.sum, and modmatrix's own guest sources.
func shellKey(ctx context.Context, repoDir string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "kmod as %s\n", strings.Join(kmodNames, " "))
	// The host's programs and libraries, as shellHostFiles packs them.
	hostFiles, err := shellHostFiles()
	if err != nil {
		return "", err
	}
	for _, f := range hostFiles {
		from, to, _ := strings.Cut(f, ":")
		if err := hashFile(h, filepath.Dir(from), filepath.Base(from)); err != nil {
			return "", err
		}
		fmt.Fprintf(h, "as %s\n", to)
	}
	if Embedded() {
		fmt.Fprintf(h, "embedded guest %s\n", GuestID())
		return hex.EncodeToString(h.Sum(nil))[:16], nil
	}
	if repoDir == "" {
		return "", ErrNoGuest
	}
	goVersion, err := exec.CommandContext(ctx, "go", "env", "GOVERSION").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOVERSION: %w", err)
	}
	fmt.Fprintf(h, "go %s\ncommands %s\ntags %s\n", bytes.TrimSpace(goVersion),
		strings.Join(shellCommands, " "), strings.Join(goshTags, ","))
	for _, f := range []string{"go.mod", "go.sum"} {
		if err := hashFile(h, repoDir, f); err != nil {
			return "", err
		}
	}
	// modmatrix's own guest commands and every package of the repo they
	// import (shellinit takes the agent's work reader and /lib/modules link).
	list := exec.CommandContext(ctx, "go", "list", "-deps", "-f", "{{if not .Standard}}{{.Dir}}{{end}}",
		"./initramfs/shellinit", "./initramfs/poweroff")
	list.Dir = repoDir
	deps, err := list.Output()
	if err != nil {
		return "", fmt.Errorf("go list the shell's packages: %w", err)
	}
	root, err := filepath.Abs(repoDir)
	if err != nil {
		return "", err
	}
	for _, d := range strings.Fields(string(deps)) {
		rel, err := filepath.Rel(root, d)
		if err != nil || strings.HasPrefix(rel, "..") {
			continue // a module's, which go.sum pins
		}
		files, err := filepath.Glob(filepath.Join(d, "*.go"))
		if err != nil {
			return "", err
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			r, _ := filepath.Rel(root, f)
			if err := hashFile(h, root, r); err != nil {
				return "", err
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

func hashFile(h interface{ Write([]byte) (int, error) }, dir, rel string) error {
	b, err := os.ReadFile(filepath.Join(dir, rel))
	if err != nil {
		return err
	}
	fmt.Fprintf(h, "%s %d\n", rel, len(b))
	_, err = h.Write(b)
	return err
}
