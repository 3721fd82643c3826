// Package bisect finds the Kconfig symbols that make a scenario bad: given
// a good and a bad resolved .config of one kernel source, delta debugging
// (ddmin, Zeller and Hildebrandt, "Simplifying and Isolating
// Failure-Inducing Input", 2002) over the symbols whose values differ.
// Each probe is the good .config with some of those symbols set as the bad
// one has them, resolved by Kconfig (olddefconfig), and it counts as what
// it resolved to: asking for MODULE_FORCE_UNLOAD without MODULE_UNLOAD is
// the good config again, known without a build.
package bisect

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"modmatrix.dev/modmatrix/harness/kconfig"
)

// Outcome is what a probe's run says of its configuration.
type Outcome string

const (
	Good Outcome = "good"
	Bad  Outcome = "bad"
	// Skip is a probe that could not be judged: its kernel or modules did
	// not build, it did not boot, or the scenario could not be judged.
	// The search takes it as not bad, as ddmin does an unresolved test.
	Skip Outcome = "skip"
)

// Symbol is one symbol whose value differs, as the good and the bad
// .config write it ("n" for "is not set" or absent; strings quoted).
type Symbol struct {
	Name string `json:"symbol"`
	Good string `json:"good"`
	Bad  string `json:"bad"`
}

// Run is what a Tester did for one probe.
type Run struct {
	// Built: a kernel was built for it; Booted: a VM ran the scenario;
	// Cached: its result came from an earlier bisect's (neither).
	Built  bool `json:"built,omitempty"`
	Booted bool `json:"booted,omitempty"`
	Cached bool `json:"cached,omitempty"`
	// Out is the probe's output folder, where a run made one.
	Out        string `json:"out,omitempty"`
	DurationMS int64  `json:"duration_ms"`
}

// Probe is one configuration the search tried.
type Probe struct {
	// Name is "good", "bad" or "probe N".
	Name string `json:"name"`
	// Asked are the symbols set as the bad config has them; Resolved the
	// symbols whose resolved value differs from the good config's, which
	// is what the probe really tested.
	Asked    []string `json:"asked"`
	Resolved []string `json:"resolved"`
	Outcome  Outcome  `json:"outcome,omitempty"`
	Why      string   `json:"why,omitempty"`
	// SameAs names the earlier probe (or good, or bad) whose resolved
	// config this one's is: its outcome, without a run.
	SameAs string `json:"same_as,omitempty"`
	Run    Run    `json:"run"`
}

// Tester resolves and judges configurations; name is the probe's Name.
type Tester interface {
	// Resolve is the .config Kconfig makes of asked, a whole .config.
	Resolve(ctx context.Context, name string, asked []byte) ([]byte, error)
	// Test builds, boots and judges a resolved .config.
	Test(ctx context.Context, name string, resolved []byte) (Outcome, string, Run, error)
}

// Result is a finished search.
type Result struct {
	// Differ are all the symbols whose resolved values differ.
	Differ []Symbol `json:"differ"`
	// Culprit is a minimal set of them whose change makes the good
	// config bad: every one is needed (1-minimal, as ddmin gives).
	Culprit []Symbol `json:"culprit"`
	// Followed are the other symbols Kconfig changed with the culprit in
	// the probe that showed it (selected, or defaults of what it
	// enabled), Bad being the value they had there.
	Followed []Symbol `json:"followed,omitempty"`
	Probes   []Probe  `json:"probes"`
}

// Counts sums up a search's cost.
type Counts struct {
	// Tried are the probes besides good and bad; Skipped those of them
	// that could not be judged (the culprit is then minimal only among
	// the probes that could).
	Tried   int `json:"tried"`
	Skipped int `json:"skipped"`
	// Built, VMs and Cached count the runs (good and bad included) that
	// built a kernel, ran a VM (a boot or a snapshot's restore), came
	// from the cache.
	Built  int `json:"kernels_built"`
	VMs    int `json:"vms"`
	Cached int `json:"from_cache"`
}

// Counts is what the search cost.
func (r *Result) Counts() Counts {
	var c Counts
	for _, p := range r.Probes {
		if p.Name != "good" && p.Name != "bad" {
			c.Tried++
			if p.Outcome == Skip {
				c.Skipped++
			}
		}
		if p.Run.Built {
			c.Built++
		}
		if p.Run.Booted {
			c.VMs++
		}
		if p.Run.Cached {
			c.Cached++
		}
	}
	return c
}

// ErrNotBisectable is wrapped by the errors that say good and bad do not
// bracket a change: good is not good, bad is not bad, or they resolve to
// the same .config.
var ErrNotBisectable = errors.New("nothing to bisect")

// Option configures Search.
type Option func(*search)

// WithProgress has fn hear each probe as it starts (no Outcome yet) and
// when it is judged.
func WithProgress(fn func(Probe)) Option { return func(s *search) { s.progress = fn } }

// WithRelations gives the symbols each symbol's Kconfig entry depends on
// or selects (kconfig.Relations): the search then first tries related
// differing symbols together, as one unit (MODULE_FORCE_UNLOAD with the
// MODULE_UNLOAD it depends on; a symbol asked alone without what it needs
// would resolve away and teach nothing), and narrows a culprit unit down
// to its symbols at the end.
func WithRelations(rel map[string][]string) Option { return func(s *search) { s.relations = rel } }

// Search runs good and bad, then ddmin over their difference: over units
// of related symbols first, then over the symbols of the culprit units.
func Search(ctx context.Context, good, bad []byte, t Tester, opts ...Option) (*Result, error) {
	s := &search{t: t, byAsked: map[string]*Probe{}, byConfig: map[string]*Probe{}, configs: map[string]*config{}, res: &Result{}}
	for _, o := range opts {
		o(s)
	}
	var err error
	if s.good, err = parse("good", good); err != nil {
		return nil, err
	}
	if s.bad, err = parse("bad", bad); err != nil {
		return nil, err
	}
	differ := s.good.values.Diff(s.bad.values)
	if len(differ) == 0 {
		return nil, fmt.Errorf("good and bad resolve to the same .config: %w", ErrNotBisectable)
	}
	for _, sym := range differ {
		s.res.Differ = append(s.res.Differ, s.symbol(sym))
	}
	for _, side := range []struct {
		name   string
		data   []byte
		asked  []string
		expect Outcome
	}{{"good", good, nil, Good}, {"bad", bad, differ, Bad}} {
		p, err := s.run(ctx, side.name, side.asked, side.data)
		if err != nil {
			return s.res, err
		}
		if p.Outcome != side.expect {
			return s.res, fmt.Errorf("the %s configuration is %s (%s): %w", side.name, p.Outcome, p.Why, ErrNotBisectable)
		}
	}
	units := s.units(differ)
	found, err := s.ddmin(ctx, units)
	if err != nil {
		return s.res, err
	}
	culprit := slices.Concat(found...)
	if len(found) < len(culprit) {
		// A unit is a guess from Kconfig's text: which of its symbols are
		// needed, each of them is tried without.
		one := make([][]string, len(culprit))
		for i, sym := range culprit {
			one[i] = []string{sym}
		}
		if found, err = s.ddmin(ctx, one); err != nil {
			return s.res, err
		}
		culprit = slices.Concat(found...)
	}
	slices.Sort(culprit)
	for _, sym := range culprit {
		s.res.Culprit = append(s.res.Culprit, s.symbol(sym))
	}
	if p := s.byAsked[askedKey(culprit)]; p != nil {
		shown := s.configs[p.Name]
		for _, sym := range p.Resolved {
			if !slices.Contains(culprit, sym) {
				s.res.Followed = append(s.res.Followed, Symbol{Name: sym, Good: s.good.value(sym), Bad: shown.value(sym)})
			}
		}
	}
	return s.res, nil
}

type search struct {
	t         Tester
	progress  func(Probe)
	relations map[string][]string
	good, bad *config
	// byAsked and byConfig find an earlier probe of the same asked set
	// or of the same resolved values.
	byAsked  map[string]*Probe
	byConfig map[string]*Probe
	// configs are the probes' resolved configs, by name.
	configs map[string]*config
	probes  int
	res     *Result
}

// config is a .config's entries as Kconfig wrote them, and its values.
type config struct {
	entries []kconfig.Entry
	bySym   map[string]kconfig.Entry
	values  kconfig.Config
}

func parse(name string, data []byte) (*config, error) {
	f, err := kconfig.ParseFragmentData(name+" .config", data)
	if err != nil {
		return nil, err
	}
	values, err := kconfig.ParseConfigData(data)
	if err != nil {
		return nil, err
	}
	c := &config{entries: f.Entries, bySym: map[string]kconfig.Entry{}, values: values}
	for _, e := range f.Entries {
		c.bySym[e.Symbol] = e
	}
	return c, nil
}

// value is sym as the .config writes it, "n" when absent.
func (c *config) value(sym string) string {
	if e, ok := c.bySym[sym]; ok {
		return e.Value
	}
	return "n"
}

// key identifies the resolved values (absent and "n" alike).
func (c *config) key() string {
	var b strings.Builder
	syms := make([]string, 0, len(c.values))
	for s := range c.values {
		syms = append(syms, s)
	}
	slices.Sort(syms)
	for _, s := range syms {
		if v := c.values.Value(s); v != "n" {
			fmt.Fprintf(&b, "%s=%q\n", s, v)
		}
	}
	return b.String()
}

func (s *search) symbol(sym string) Symbol {
	return Symbol{Name: sym, Good: s.good.value(sym), Bad: s.bad.value(sym)}
}

// asked is the good .config with the symbols in set as bad has them.
func (s *search) asked(set []string) []byte {
	var b strings.Builder
	line := func(e kconfig.Entry) { b.WriteString(e.String()); b.WriteByte('\n') }
	for _, e := range s.good.entries {
		if slices.Contains(set, e.Symbol) {
			e = s.badEntry(e.Symbol)
		}
		line(e)
	}
	for _, sym := range set {
		if _, ok := s.good.bySym[sym]; !ok {
			line(s.badEntry(sym))
		}
	}
	return []byte(b.String())
}

func (s *search) badEntry(sym string) kconfig.Entry {
	if e, ok := s.bad.bySym[sym]; ok {
		return e
	}
	return kconfig.Entry{Symbol: sym, Value: "n"}
}

func askedKey(set []string) string { return strings.Join(set, " ") }

// test is the outcome of good with set changed: an earlier probe's when
// it asked the same or resolved to the same, else a new probe's.
func (s *search) test(ctx context.Context, set []string) (Outcome, error) {
	set = slices.Sorted(slices.Values(set))
	if p := s.byAsked[askedKey(set)]; p != nil {
		return p.Outcome, nil
	}
	s.probes++
	name := fmt.Sprintf("probe %d", s.probes)
	s.tell(Probe{Name: name, Asked: set})
	resolved, err := s.t.Resolve(ctx, name, s.asked(set))
	if err != nil {
		return "", err
	}
	p, err := s.run(ctx, name, set, resolved)
	if err != nil {
		return "", err
	}
	return p.Outcome, nil
}

// run judges a resolved config, unless an earlier probe had its values.
func (s *search) run(ctx context.Context, name string, asked []string, data []byte) (*Probe, error) {
	c, err := parse(name, data)
	if err != nil {
		return nil, err
	}
	s.configs[name] = c
	p := &Probe{Name: name, Asked: asked, Resolved: s.good.values.Diff(c.values)}
	if p.Asked == nil {
		p.Asked = []string{}
	}
	if earlier := s.byConfig[c.key()]; earlier != nil {
		p.Outcome, p.Why, p.SameAs = earlier.Outcome, earlier.Why, earlier.Name
	} else {
		if name == "good" || name == "bad" {
			s.tell(*p)
		}
		p.Outcome, p.Why, p.Run, err = s.t.Test(ctx, name, data)
		if err != nil {
			return nil, err
		}
		s.byConfig[c.key()] = p
	}
	s.byAsked[askedKey(asked)] = p
	s.res.Probes = append(s.res.Probes, *p)
	s.tell(*p)
	return p, nil
}

func (s *search) tell(p Probe) {
	if s.progress != nil {
		s.progress(p)
	}
}

// units groups the differing symbols that Kconfig relates (one depends
// on or selects another, directly or through others that differ), in the
// order of their first symbol; without relations, each symbol is a unit.
func (s *search) units(differ []string) [][]string {
	root := map[string]string{}
	for _, sym := range differ {
		root[sym] = sym
	}
	var find func(string) string
	find = func(x string) string {
		if root[x] != x {
			root[x] = find(root[x])
		}
		return root[x]
	}
	for _, sym := range differ {
		for _, r := range s.relations[sym] {
			if _, ok := root[r]; ok {
				a, b := find(sym), find(r)
				root[max(a, b)] = min(a, b)
			}
		}
	}
	var units [][]string
	at := map[string]int{}
	for _, sym := range differ { // sorted: a unit's first symbol is its root
		r := find(sym)
		i, ok := at[r]
		if !ok {
			i = len(units)
			at[r] = i
			units = append(units, nil)
		}
		units[i] = append(units[i], sym)
	}
	return units
}

// ddmin narrows c, units whose symbols together make good bad, to units
// of which none can be left out: test halves, then complements, then
// finer partitions, as Zeller and Hildebrandt's ddmin does.
func (s *search) ddmin(ctx context.Context, c [][]string) ([][]string, error) {
	n := 2
	for len(c) >= 2 {
		parts := split(c, n)
		var next [][]string
		for _, p := range parts {
			o, err := s.test(ctx, slices.Concat(p...))
			if err != nil {
				return nil, err
			}
			if o == Bad {
				next, n = p, 2
				break
			}
		}
		// With two parts each complement is the other part, tried above.
		for i := 0; next == nil && n > 2 && i < len(parts); i++ {
			comp := complement(c, parts[i])
			o, err := s.test(ctx, slices.Concat(comp...))
			if err != nil {
				return nil, err
			}
			if o == Bad {
				next, n = comp, max(n-1, 2)
			}
		}
		if next != nil {
			c = next
			continue
		}
		if n >= len(c) {
			break
		}
		n = min(2*n, len(c))
	}
	return c, nil
}

// split cuts c into n parts of nearly equal size, in order.
func split[T any](c []T, n int) [][]T {
	var parts [][]T
	start := 0
	for i := range n {
		end := start + (len(c)-start)/(n-i)
		parts = append(parts, c[start:end])
		start = end
	}
	return parts
}

// complement is c without the units of part (a slice of c).
func complement(c, part [][]string) [][]string {
	var out [][]string
	for _, u := range c {
		if !slices.ContainsFunc(part, func(p []string) bool { return slices.Equal(p, u) }) {
			out = append(out, u)
		}
	}
	return out
}
