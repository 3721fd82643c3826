package ksrc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Dir opens any kernel tree: a git checkout or an unpacked tarball. Its ID
// follows the contents: for git, HEAD plus a digest of uncommitted changes
// (tracked diffs and untracked files); otherwise a digest of every file's
// path, size and mtime.
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
	return &Source{Dir: dir, Version: version, Series: series, ID: id}, nil
}

func gitID(ctx context.Context, dir string) (string, error) {
	git := func(args ...string) ([]byte, error) {
		// --no-optional-locks: status must not refresh the user's index.
		cmd := exec.CommandContext(ctx, "git", append([]string{"--no-optional-locks", "-C", dir}, args...)...)
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
	diff, err := git("diff", "HEAD", "--binary")
	if err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write(status)
	h.Write(diff)
	// git diff does not show untracked files' contents; their size and
	// mtime stand in for them.
	for _, rec := range bytes.Split(status, []byte{0}) {
		if p, ok := bytes.CutPrefix(rec, []byte("?? ")); ok {
			if fi, err := os.Lstat(filepath.Join(dir, string(p))); err == nil {
				fmt.Fprintf(h, "%s\x00%d\x00%d\x00", p, fi.Size(), fi.ModTime().UnixNano())
			}
		}
	}
	return id + "+dirty:" + hex.EncodeToString(h.Sum(nil))[:16], nil
}

func treeID(dir string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fmt.Fprintf(h, "%s\x00%d\x00%d\x00%o\x00", rel, fi.Size(), fi.ModTime().UnixNano(), fi.Mode().Type())
		return nil
	})
	if err != nil {
		return "", err
	}
	return "tree:" + hex.EncodeToString(h.Sum(nil))[:32], nil
}
