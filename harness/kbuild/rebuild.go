package kbuild

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
)

// configUsers maps each CONFIG symbol to the objects of a built tree that
// depend on it. kbuild's fixdep writes, into every object's .cmd file, a
// $(wildcard include/config/SYM) line for each CONFIG_SYM its sources and
// headers test: exactly the objects make recompiles when SYM changes.
type configUsers map[string][]int

var configDepRE = regexp.MustCompile(`include/config/([A-Za-z0-9_]+)\)`)

// readConfigUsers scans the .cmd files of the build tree dir (about 1,700
// for a tinyconfig-based kernel; well under a second).
func readConfigUsers(dir string) (configUsers, error) {
	users := configUsers{}
	obj := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(d.Name(), ".cmd") {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if !bytes.Contains(data, []byte("include/config/")) {
			return nil
		}
		seen := map[string]bool{}
		for _, m := range configDepRE.FindAllSubmatch(data, -1) {
			if sym := string(m[1]); !seen[sym] {
				seen[sym] = true
				users[sym] = append(users[sym], obj)
			}
		}
		obj++
		return nil
	})
	return users, err
}

// newSymbolCost stands for a symbol no object of the tree tests: turning
// it on adds code of its own (lib/kunit for KUNIT) rather than
// recompiling what is there, a few objects.
const newSymbolCost = 10

// rebuildCost estimates how many objects make recompiles to turn a tree
// built with these users into one where syms differ: the objects that
// depend on any of them, each counted once.
func (u configUsers) rebuildCost(syms []string) int {
	objs := map[int]bool{}
	cost := 0
	for _, s := range syms {
		users, ok := u[s]
		if !ok {
			cost += newSymbolCost
			continue
		}
		for _, o := range users {
			objs[o] = true
		}
	}
	return cost + len(objs)
}

// usersCache keeps each entry's configUsers for the process: an entry is
// never changed once complete, and a run weighs every cached tree of its
// source before each build.
type usersCache struct {
	mu    sync.Mutex
	byDir map[string]configUsers
}

func (c *usersCache) of(dir string) (configUsers, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if u, ok := c.byDir[dir]; ok {
		return u, nil
	}
	u, err := readConfigUsers(dir)
	if err != nil {
		return nil, err
	}
	if c.byDir == nil {
		c.byDir = map[string]configUsers{}
	}
	c.byDir[dir] = u
	return u, nil
}
