package cacheentry

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
)

// Sums are the sizes and SHA-256 digests of the files of an entry that a
// later run relies on, by path relative to the entry. An entry's manifest,
// written last, carries them; a hit checks them (Check), so that a file
// truncated by a full disk, damaged on it or removed by hand makes the
// entry a miss, rebuilt in place, instead of a wrong result later.
type Sums map[string]FileSum

// FileSum is one file's size and digest.
type FileSum struct {
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Sum records files (relative to dir), which must all exist.
func Sum(dir string, files ...string) (Sums, error) {
	s := Sums{}
	for _, f := range files {
		fs, err := SumFile(filepath.Join(dir, f))
		if err != nil {
			return nil, err
		}
		s[f] = fs
	}
	return s, nil
}

// DamagedError says why a complete entry cannot be used: a file its
// manifest records is missing, of another size or content, or the
// manifest itself is unreadable. A hit that finds one treats the entry as
// a miss, rebuilt in place; Err is what to tell the user.
type DamagedError struct {
	Dir string
	Err error
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("cache entry %s is damaged: %v", e.Dir, e.Err)
}

func (e *DamagedError) Unwrap() error { return e.Err }

// SumsFile is the manifest of the entries whose manifest is their sums
// alone (resolved configs, module builds, shell images): written last by
// WriteSums. An entry without one was never finished or is an older
// modmatrix's, and each kind decides by what a rebuild costs: a module
// build (seconds) is built again; a resolved config is taken as it is, as
// kernels and distribution kernels without sums are (a rebuild is minutes,
// a fetch needs the network); a shell image folder always had one.
const SumsFile = "sums.json"

// WriteSums records files (relative to dir) in dir's SumsFile; call it
// last, once the entry is otherwise complete.
func WriteSums(dir string, files ...string) error {
	sums, err := Sum(dir, files...)
	if err != nil {
		return err
	}
	b, err := json.Marshal(sums)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, SumsFile), append(b, '\n'), 0o644)
}

// ReadSums reads dir's SumsFile: an error wrapping fs.ErrNotExist when
// there is none (an older modmatrix's entry, or one never finished).
func ReadSums(dir string) (Sums, error) {
	p := filepath.Join(dir, SumsFile)
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var sums Sums
	if err := json.Unmarshal(b, &sums); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return sums, nil
}

// SumFile is one file's size and digest.
func SumFile(path string) (FileSum, error) {
	f, err := os.Open(path)
	if err != nil {
		return FileSum{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return FileSum{}, fmt.Errorf("%s: %w", path, err)
	}
	return FileSum{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// checked remembers the files this process has found whole, by path, size
// and modification time: a run asks about the same entry many times, and
// its digest needs reading only once.
var checked sync.Map // stamp → true

type stamp struct {
	path  string
	size  int64
	mtime int64
	sum   string
}

// CheckSizes is Check without reading the files: missing ones and other
// sizes only (a truncation), for choosing among many entries cheaply.
func (s Sums) CheckSizes(dir string) error {
	for n, want := range s {
		fi, err := os.Stat(filepath.Join(dir, n))
		switch {
		case err != nil:
			return fmt.Errorf("%s is missing", n)
		case fi.Size() != want.Size:
			return fmt.Errorf("%s has %d bytes, the manifest says %d", n, fi.Size(), want.Size)
		}
	}
	return nil
}

// Check tells whether the files under dir are as recorded; the error names
// the first that is not (missing, another size, another digest), in path
// order.
func (s Sums) Check(dir string) error {
	names := make([]string, 0, len(s))
	for n := range s {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		want := s[n]
		p := filepath.Join(dir, n)
		fi, err := os.Stat(p)
		switch {
		case err != nil:
			return fmt.Errorf("%s is missing", n)
		case fi.Size() != want.Size:
			return fmt.Errorf("%s has %d bytes, the manifest says %d", n, fi.Size(), want.Size)
		}
		st := stamp{p, fi.Size(), fi.ModTime().UnixNano(), want.SHA256}
		if _, ok := checked.Load(st); ok {
			continue
		}
		got, err := SumFile(p)
		if err != nil {
			return fmt.Errorf("%s is unreadable: %w", n, err)
		}
		if got.SHA256 != want.SHA256 {
			return fmt.Errorf("%s's content is not what was built (sha256 %.12s…, the manifest says %.12s…)", n, got.SHA256, want.SHA256)
		}
		checked.Store(st, true)
	}
	return nil
}
