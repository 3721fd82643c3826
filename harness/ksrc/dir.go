package ksrc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Dir opens any kernel tree: a git checkout or an unpacked tarball. Its ID
// follows the contents:
//
//   - git (dir/.git exists): HEAD, plus, when `git status` shows changes, a
//     digest of the status, of `git diff HEAD` and of the untracked files'
//     contents. Ignored files (build products) do not count. Measured on
//     6.12 (86k files): 0.5 s clean, 0.8 s with an edit; once after every
//     file's ctime changed (a cp -al of the tree), git rehashes it all: 35 s.
//   - otherwise: a digest of every file's path, size, mtime and type, the
//     stats make itself goes by (0.7-1.3 s). An edit that keeps size and
//     mtime (touch -r) is missed by this ID, as it is by make; the
//     incremental build guards against it separately (see Stats).
//
// Location is the absolute path, so that every content of the tree is
// built in one place, incrementally.
func Dir(path string) (*Source, error) {
	dir, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	version, series, err := readVersion(dir)
	if err != nil {
		return nil, err
	}
	if err := checkClean(dir); err != nil {
		return nil, err
	}
	var id string
	if _, err := os.Lstat(filepath.Join(dir, ".git")); err == nil {
		id, err = gitID(context.Background(), dir)
		if err != nil {
			return nil, err
		}
	} else {
		id, err = treeID(dir)
		if err != nil {
			return nil, fmt.Errorf("kernel source %s: %w", dir, err)
		}
	}
	return &Source{Dir: dir, Version: version, Series: series, ID: id, Location: "dir:" + dir}, nil
}

// untrackedHashMax bounds how much of one untracked file is read; a bigger
// one counts by size and mtime (an untracked, unignored file of megabytes in
// a kernel tree is rare, and hashing it would slow every run).
const untrackedHashMax = 1 << 20

func gitID(ctx context.Context, dir string) (string, error) {
	git := func(args ...string) ([]byte, error) {
		// --no-optional-locks: status must not refresh the user's index.
		cmd := Git(ctx, dir, append([]string{"--no-optional-locks"}, args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("kernel source %s: git %s: %w: %s", dir, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
		}
		return out, nil
	}
	head, err := git("rev-parse", "HEAD")
	if err != nil {
		return "", err
	}
	status, err := git("status", "--porcelain", "-z", "--untracked-files=all")
	if err != nil {
		return "", err
	}
	id := "git:" + strings.TrimSpace(string(head))
	if len(status) == 0 {
		return id, nil
	}
	diff, err := git("diff", "HEAD", "--binary", "--no-ext-diff", "--no-textconv")
	if err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write(status)
	h.Write(diff)
	// git diff does not show untracked files: their contents count, or
	// for a big one its size and mtime.
	for _, rec := range bytes.Split(status, []byte{0}) {
		p, ok := bytes.CutPrefix(rec, []byte("?? "))
		if !ok {
			continue
		}
		file := filepath.Join(dir, string(p))
		fi, err := os.Lstat(file)
		if err != nil {
			continue // gone since git status
		}
		fmt.Fprintf(h, "%s\x00%o\x00", p, fi.Mode().Type())
		switch {
		case fi.Mode().IsRegular() && fi.Size() <= untrackedHashMax:
			data, err := os.ReadFile(file)
			if err != nil {
				return "", fmt.Errorf("kernel source %s: %w", dir, err)
			}
			fmt.Fprintf(h, "%d\x00", len(data))
			h.Write(data)
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(file)
			fmt.Fprintf(h, "%s\x00", target)
		default:
			fmt.Fprintf(h, "%d\x00%d\x00", fi.Size(), fi.ModTime().UnixNano())
		}
	}
	return id + "+dirty:" + hex.EncodeToString(h.Sum(nil))[:16], nil
}

// treeID digests path, size, mtime and type of every file (see Stats.id).
func treeID(dir string) (string, error) {
	st, err := ReadStats(dir)
	if err != nil {
		return "", err
	}
	return st.id(), nil
}

// id is the ID of a plain tree with these stats: path, size, mtime and
// type of every file, not the ctime: the ID of a tree must not change when
// nothing but its ctimes did (a hardlinked copy, a chmod back and forth, an
// edit reverted with its mtime).
func (s Stats) id() string {
	h := sha256.New()
	for _, p := range s.Paths() {
		f := s[p]
		fmt.Fprintf(h, "%s\x00%d\x00%d\x00%o\x00", p, f.Size, f.Mtime, uint32(f.Mode))
	}
	return "tree:" + hex.EncodeToString(h.Sum(nil))[:32]
}

// Verify fails when a tree opened with Dir no longer has the ID it had:
// a kernel built while the tree was being edited must not be cached under
// either content. A Debian source (no Location) never changes. now, when
// not nil, are the tree's stats just read (ReadStats): a plain tree's ID is
// then computed from them instead of walking the tree once more.
func (s *Source) Verify(now Stats) error {
	if s.Location == "" {
		return nil
	}
	var id string
	if _, err := os.Lstat(filepath.Join(s.Dir, ".git")); err == nil || now == nil {
		src, err := Dir(s.Dir)
		if err != nil {
			return err
		}
		id = src.ID
	} else {
		id = now.id()
	}
	if id != s.ID {
		return fmt.Errorf("kernel source %s changed while modmatrix ran (%s, now %s): run again once it is edited", s.Dir, s.ID, id)
	}
	return nil
}
