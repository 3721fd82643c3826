// Package probecache keeps the judged result of each bisect probe (package
// bisect) under CACHE/probes/KEY/, so that a bisect repeated on the same
// inputs builds and boots nothing.
package probecache

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"modmatrix.dev/modmatrix/internal/cacheentry"
)

// Store is the probe results of the cache at Dir: each under
// Dir/probes/KEY/ (result.json, its sums written last).
type Store struct{ Dir string }

const resultFile = "result.json"

func (s Store) path(key string) string { return filepath.Join(s.Dir, "probes", key) }

// Get is the result stored under key, if whole; a hit marks it used, as
// every cache entry is when a run takes it (pruning goes by that).
func (s Store) Get(key string) ([]byte, bool) {
	dir := s.path(key)
	if CheckEntry(dir) != nil {
		return nil, false
	}
	data, err := os.ReadFile(filepath.Join(dir, resultFile))
	if err != nil {
		return nil, false
	}
	cacheentry.MarkUsed(dir)
	return data, true
}

// Put stores data under key, whole or not at all.
func (s Store) Put(ctx context.Context, key string, data []byte) error {
	e := cacheentry.Entry{Path: s.path(key), Complete: func(dir string) bool { return CheckEntry(dir) == nil }}
	_, err := e.Get(ctx, func(_ context.Context, tmp string) (string, error) {
		if err := os.WriteFile(filepath.Join(tmp, resultFile), data, 0o644); err != nil {
			return "", err
		}
		return tmp, cacheentry.WriteSums(tmp, resultFile)
	})
	return err
}

// CheckEntry tells whether the stored probe at dir is whole (modmatrix
// cache verify).
func CheckEntry(dir string) error {
	sums, err := cacheentry.ReadSums(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return &cacheentry.DamagedError{Dir: dir, Err: errors.New("unfinished: no " + cacheentry.SumsFile)}
	}
	if err != nil {
		return &cacheentry.DamagedError{Dir: dir, Err: err}
	}
	if err := sums.Check(dir); err != nil {
		return &cacheentry.DamagedError{Dir: dir, Err: err}
	}
	return nil
}
