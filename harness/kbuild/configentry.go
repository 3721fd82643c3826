package kbuild

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"modmatrix.dev/modmatrix/internal/cacheentry"
)

// A resolved config entry (configs/KEY) holds the files configFiles
// names and, written last, a cacheentry.SumsFile: their sizes and
// digests, which a hit checks. Entries made before modmatrix recorded them have no sums
// and are taken as they are, as kernels' are.
// configFiles are what a later run reads: the resolved .config a kernel's
// key is made of, and the merged fragments shown to humans.
var configFiles = []string{"config", "fragments"}

func writeConfigSums(dir string) error { return cacheentry.WriteSums(dir, configFiles...) }

// loadConfig returns the resolved .config of the config entry at dir,
// whose files are as its sums record (a *cacheentry.DamagedError otherwise).
func loadConfig(dir string) ([]byte, error) {
	sums, err := cacheentry.ReadSums(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// Made by an older modmatrix: taken as it is.
	case err != nil:
		return nil, &cacheentry.DamagedError{Dir: dir, Err: err}
	default:
		if err := sums.Check(dir); err != nil {
			return nil, &cacheentry.DamagedError{Dir: dir, Err: err}
		}
	}
	return os.ReadFile(filepath.Join(dir, "config"))
}

// CheckConfigEntry tells whether the resolved config entry at dir is
// complete and whole (modmatrix cache verify).
func CheckConfigEntry(dir string) error {
	_, err := loadConfig(dir)
	return err
}
