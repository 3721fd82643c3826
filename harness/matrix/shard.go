package matrix

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Shard is one of N deterministic parts of a matrix: whole kernel × cell
// units, so a kernel is built only in the shard that boots it.
type Shard struct {
	Index, Total int // 1-based Index of Total
}

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Total) }

// Holds reports whether unit k (0-based, in the matrix's order) is in s.
func (s Shard) Holds(k int) bool { return s.Total <= 1 || k%s.Total == s.Index-1 }

// ParseShard reads "I/N" (1 ≤ I ≤ N).
func ParseShard(v string) (Shard, error) {
	i, n, ok := strings.Cut(v, "/")
	idx, err1 := strconv.Atoi(i)
	total, err2 := strconv.Atoi(n)
	if !ok || err1 != nil || err2 != nil || total < 1 || idx < 1 || idx > total {
		return Shard{}, fmt.Errorf("bad shard %q: want I/N with 1 ≤ I ≤ N", v)
	}
	return Shard{idx, total}, nil
}

// ShardFromEnv reads the shard the CI engine assigned: MODMATRIX_SHARD
// ("I/N"), GitLab's CI_NODE_INDEX/CI_NODE_TOTAL (1-based), or a Kubernetes
// indexed Job's JOB_COMPLETION_INDEX (0-based) with N from total (or
// MODMATRIX_SHARD_TOTAL). ok is false when none is set.
func ShardFromEnv(getenv func(string) string, total int) (s Shard, ok bool, err error) {
	if v := getenv("MODMATRIX_SHARD"); v != "" {
		s, err := ParseShard(v)
		return s, true, err
	}
	if i, n := getenv("CI_NODE_INDEX"), getenv("CI_NODE_TOTAL"); i != "" && n != "" {
		s, err := ParseShard(i + "/" + n)
		return s, true, err
	}
	if i := getenv("JOB_COMPLETION_INDEX"); i != "" {
		if total == 0 {
			total, _ = strconv.Atoi(getenv("MODMATRIX_SHARD_TOTAL"))
		}
		idx, err := strconv.Atoi(i)
		if err != nil || total < 1 {
			return Shard{}, true, fmt.Errorf("JOB_COMPLETION_INDEX=%q needs a shard total (--shard-total or MODMATRIX_SHARD_TOTAL)", i)
		}
		s, err := ParseShard(fmt.Sprintf("%d/%d", idx+1, total))
		return s, true, err
	}
	return Shard{}, false, nil
}

// OSEnv is os.Getenv, for ShardFromEnv.
var OSEnv = os.Getenv

// Unit names one kernel × cell of the matrix.
type Unit struct {
	Kernel string `json:"kernel"` // source version
	Series string `json:"series"` // as --kernels takes it
	Cell   string `json:"cell"`
}

// Units lists the matrix's kernel × cell units in their order.
func (m *Matrix) Units() []Unit {
	var out []Unit
	for _, u := range m.units() {
		series := u.src.Series
		if k := m.prebuiltOf(u.src); k != nil {
			series = k.Spec.Text // what --kernel takes
		}
		out = append(out, Unit{Kernel: u.src.Version, Series: series, Cell: u.cell.Name})
	}
	return out
}

func (m *Matrix) units() []unit {
	var units []unit
	for _, src := range m.sources {
		for _, c := range m.cells {
			units = append(units, unit{src, c})
		}
	}
	return append(units, m.prebuiltUnits()...)
}

// fileText is an input file's text: for a default scenario the text made
// for it, not the file under OUT (written later; a reused OUT holds an
// earlier run's, and reading it would make what hashes it depend on OUT's
// past).
func (m *Matrix) fileText(path string) ([]byte, error) {
	for _, g := range m.generated {
		if g.file == path {
			return g.text, nil
		}
	}
	return os.ReadFile(path)
}

// ID identifies the matrix definition: kernel sources, cell fragments and
// scenario files. Shards of one matrix share it; merge refuses others.
func (m *Matrix) ID() string {
	h := sha256.New()
	for _, s := range m.sources {
		fmt.Fprintf(h, "src %s %s\n", s.Version, s.ID)
	}
	for _, k := range m.prebuilt {
		fmt.Fprintf(h, "prebuilt %s %s %s\n", k.Kernel.Version, k.Spec.Cell, k.Source.ID)
	}
	files := []string{m.base.Path}
	for _, c := range m.cells {
		for _, f := range c.Frags(nil)[1:] {
			if f != nil {
				files = append(files, f.Path)
			}
		}
	}
	for _, sc := range m.scenarios {
		files = append(files, sc.File)
	}
	sort.Strings(files[1:])
	for _, f := range files {
		b, err := m.fileText(f)
		if err != nil {
			fmt.Fprintf(h, "unreadable %s\n", err)
		}
		fmt.Fprintf(h, "file %d\n", len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
