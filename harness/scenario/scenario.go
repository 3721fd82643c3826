package scenario

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"modmatrix.dev/modmatrix/harness/kconfig"
	"modmatrix.dev/modmatrix/harness/kernel"
	"modmatrix.dev/modmatrix/harness/kreport/kinds"
	"modmatrix.dev/modmatrix/harness/protocol"
)

// FileName is the scenario file inside a scenario's folder.
const FileName = "scenario.yaml"

// Scenario is one folder under modules/: what to do with its modules and
// what each kernel configuration should make of it.
type Scenario struct {
	Name        string // the folder's name
	Dir         string // the folder
	File        string // Dir/scenario.yaml, as errors and reports name it
	Description string
	// Modules lists the modules the folder builds; empty means every .ko.
	Modules []string
	// OwnBoot is own_boot: still accepted, and moot: every scenario runs
	// in a VM of its own.
	OwnBoot bool
	// Generated: the folder has no scenario file and this is Default's;
	// it is made again for each kernel from the modules built for it.
	Generated bool
	// Requires, when set, must hold for a kernel to run the scenario at
	// all; elsewhere it is SKIP and its modules are not built.
	Requires *Requirement
	Steps    []Step
}

// Step is one action and what is expected of it.
type Step struct {
	Line   int // of the step in File
	Action protocol.Action
	// Module is the module the step acts on or observes ("" for open, close,
	// pause and a check without a module).
	Module string
	File   string // load: the .ko, "" for MODULE.ko
	Params string // load: module parameters
	// BuiltFor, on a load, asks for the module built against another kernel
	// than the one under test (nil: its own).
	BuiltFor *BuiltFor
	// Signed, on a load, is the signature the file carries ("": the
	// kernel's default, see SignedDefault).
	Signed Signature
	// Compressed, on a load, is the compression of the file, which the
	// kernel itself unpacks (finit_module's MODULE_INIT_COMPRESSED_FILE).
	Compressed Compression
	// Flags are as the file spells them: on an unload "force" (O_TRUNC)
	// and "nonblock"; on a load "force" (both of modprobe --force's),
	// "ignore-vermagic" and "ignore-modversions".
	Flags   []string
	Path    string        // open, close, write
	Text    string        // write
	Remove  bool          // modprobe -r
	Pause   time.Duration // pause
	Timeout time.Duration // 0: the agent's default
	Expect  []Expectation
	// Loops are what a repeat (one loop) or concurrent (several) step runs.
	Loops []Loop
}

// Signature is how a load's file is signed, as `signed:` spells it.
type Signature string

const (
	// SignedKernelKey: with the key the kernel's build made
	// (certs/signing_key.pem), by the tree's own scripts/sign-file, as
	// modules_install does where MODULE_SIG_ALL is set. The default there.
	SignedKernelKey Signature = "kernel-key"
	// SignedOtherKey: with a key the kernel does not know.
	SignedOtherKey Signature = "other-key"
	// SignedCorrupted: with the kernel's key, one byte of the signature
	// then changed.
	SignedCorrupted Signature = "corrupted"
	// SignedNone: not signed. The default where MODULE_SIG_ALL is unset
	// (or the kernel is prebuilt, its key not ours).
	SignedNone Signature = "none"
)

var signatures = []string{string(SignedKernelKey), string(SignedOtherKey), string(SignedCorrupted), string(SignedNone)}

// Compression is how a load's file is compressed, as `compressed:` spells
// it: an algorithm of MODULE_COMPRESS_*, or that with its data damaged
// past the header ("xz-corrupted").
type Compression string

// Corrupted is the suffix of a damaged compression.
const Corrupted = "-corrupted"

var compressions = []string{"gzip", "xz", "zstd", "gzip" + Corrupted, "xz" + Corrupted, "zstd" + Corrupted}

// Algorithm is the compression without its damage.
func (c Compression) Algorithm() string { return strings.TrimSuffix(string(c), Corrupted) }

// IsCorrupted tells whether the data is damaged.
func (c Compression) IsCorrupted() bool { return strings.HasSuffix(string(c), Corrupted) }

// Variant names the file a load step needs made from the built module
// ("" when the built file serves): its signature, then compression.
func (st Step) Variant() string {
	var v []string
	if st.Signed != "" {
		v = append(v, "sig-"+string(st.Signed))
	}
	if st.Compressed != "" {
		v = append(v, string(st.Compressed))
	}
	return strings.Join(v, "+")
}

// BuiltFor names the foreign kernel a load's module is built against:
// another cell of the same source, or the kernel under test's own tree
// with another LOCALVERSION (only the vermagic string differs) or with a
// symbol's version changed.
type BuiltFor struct {
	Line         int
	Cell         string
	LocalVersion string
	// SymbolVersion: the kernel under test's tree with this symbol's CRC
	// changed in Module.symvers (MODVERSIONS' "disagrees about version").
	SymbolVersion string
}

// OtherCells names the cells whose kernels the scenario's loads take
// modules built for (built_for: {cell: NAME}), in step order.
func (s *Scenario) OtherCells() []string {
	var out []string
	for _, st := range s.Steps {
		if st.BuiltFor != nil && st.BuiltFor.Cell != "" && !slices.Contains(out, st.BuiltFor.Cell) {
			out = append(out, st.BuiltFor.Cell)
		}
	}
	return out
}

// Suffix tells the foreign build's .ko apart from the module's own.
func (b *BuiltFor) Suffix() string {
	switch {
	case b.Cell != "":
		return "@" + b.Cell
	case b.SymbolVersion != "":
		return "@crc-" + b.SymbolVersion
	}
	return "@lv" + b.LocalVersion
}

// Expectation is one `expect` block: conditions that must all hold after
// the step on kernels whose configuration satisfies When.
type Expectation struct {
	Line int    // of the block in the file
	When string // the predicate as written, "" when the block always applies
	Pred kconfig.Predicate

	// Errno is nil when not checked; "" means success.
	Errno *string
	// Loaded: the module has a /proc/modules line.
	Loaded      *bool
	ProcModules *Pattern // matched against the module's /proc/modules line
	Sysfs       []SysfsExpect
	Kallsyms    Presence
	Files       Presence
	Kmsg        []Pattern // each must occur in the step's kmsg
	KmsgAbsent  []Pattern // none may occur
	// TaintGained bits must be newly set by the step; TaintNotGained must not.
	TaintGained    uint64
	TaintNotGained uint64
	// Reports the step must produce (a reproduced bug pinned down); a step
	// whose applicable blocks expect none must produce no kernel report.
	Reports []ReportExpect
	// Hung: the step is expected to overrun its timeout.
	Hung *bool
	// KUnit lists the status each named KUnit case must report in the
	// step's KTAP (see KUnitExpect).
	KUnit []KUnitExpect
	// Status is a modprobe step's exit status; Output, patterns that must
	// occur in what it printed.
	Status *int
	Output []Pattern
}

// ReportExpect is one expected kernel report: its kind, the module it must
// name, and optionally a pattern on its title.
type ReportExpect struct {
	Line   int
	Kind   kinds.Kind // one of kinds.All
	Module string
	Title  *Pattern
}

// SysfsExpect is one /sys/module/NAME/<Attr> condition.
type SysfsExpect struct {
	Attr   string
	Absent bool     // the file must not exist
	Value  *Pattern // nil: only presence (or absence) is checked
	// Modinfo: present, with the value the loaded file's .modinfo gives
	// the field of the same name (srcversion, version).
	Modinfo bool
}

// Presence lists names that must be present and names that must be absent.
type Presence struct {
	Present, Absent []string
}

// Pattern is a literal text, or a regexp when written /like this/.
type Pattern struct {
	Src string // as written, slashes included
	re  *regexp.Regexp
}

// ParsePattern compiles /regexp/ sources; anything else is literal.
func ParsePattern(src string) (Pattern, error) {
	if len(src) < 2 || src[0] != '/' || src[len(src)-1] != '/' {
		return Pattern{Src: src}, nil
	}
	re, err := regexp.Compile(src[1 : len(src)-1])
	if err != nil {
		return Pattern{}, fmt.Errorf("bad regexp %s: %w", src, err)
	}
	return Pattern{Src: src, re: re}, nil
}

// IsRegexp tells a /regexp/ from a literal.
func (p Pattern) IsRegexp() bool { return p.re != nil }

// FoundIn reports whether the literal is a substring of s, or the regexp
// matches somewhere in s.
func (p Pattern) FoundIn(s string) bool {
	if p.re != nil {
		return p.re.MatchString(s)
	}
	return strings.Contains(s, p.Src)
}

// Equals reports whether s is the literal, or the regexp matches in s
// (anchor it with ^…$ to match all of s).
func (p Pattern) Equals(s string) bool {
	if p.re != nil {
		return p.re.MatchString(s)
	}
	return s == p.Src
}

// String quotes a literal and leaves a /regexp/ as written.
func (p Pattern) String() string {
	if p.re != nil {
		return p.Src
	}
	return fmt.Sprintf("%q", p.Src)
}

// Error is a problem at a line of a scenario file.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// Option configures Load and LoadAll.
type Option func(*options)

type options struct {
	knownSymbol func(string) bool
}

// WithSymbolChecker rejects predicates naming a symbol for which known
// returns false; known gets the symbol without CONFIG_ (see kconfig.Symbols).
func WithSymbolChecker(known func(sym string) bool) Option {
	return func(o *options) { o.knownSymbol = known }
}

// Load reads dir/scenario.yaml. The error lists every problem of the file,
// each as FILE:LINE: message.
func Load(dir string, opts ...Option) (*Scenario, error) {
	return LoadFile(dir, filepath.Join(dir, FileName), opts...)
}

// LoadFile reads the scenario of module folder dir from file, which may
// live elsewhere (modmatrix run --module DIR --scenario FILE).
func LoadFile(dir, file string, opts ...Option) (*Scenario, error) {
	var o options
	for _, fn := range opts {
		fn(&o)
	}
	src, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	sc := &Scenario{Name: filepath.Base(filepath.Clean(dir)), Dir: dir, File: file}
	if err := parse(sc, src, o); err != nil {
		return nil, err
	}
	return sc, nil
}

// LoadAll loads every folder of modulesDir that has a scenario.yaml, sorted
// by name. It returns the scenarios that loaded along with the joined errors
// of those that did not.
func LoadAll(modulesDir string, opts ...Option) ([]*Scenario, error) {
	entries, err := os.ReadDir(modulesDir)
	if err != nil {
		return nil, err
	}
	var scs []*Scenario
	var errs []error
	for _, e := range entries { // ReadDir sorts by name
		dir := filepath.Join(modulesDir, e.Name())
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, FileName)); errors.Is(err, os.ErrNotExist) {
			continue
		}
		sc, err := Load(dir, opts...)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		scs = append(scs, sc)
	}
	return scs, errors.Join(errs...)
}

// Applicable returns the expectations whose When holds for lookup (see
// kconfig.Predicate.Eval).
func (st Step) Applicable(lookup func(sym string) string) []Expectation {
	var out []Expectation
	for _, e := range st.Expect {
		if e.Pred.Eval(lookup) {
			out = append(out, e)
		}
	}
	return out
}

// Describe names the step as reports do: "unload hello", "open /dev/foo".
func (st Step) Describe() string {
	switch {
	case st.IsLoop():
		return describeLoops(st)
	case st.Module != "":
		return fmt.Sprintf("%s %s", st.Action, st.Module)
	case st.Path != "":
		return fmt.Sprintf("%s %s", st.Action, st.Path)
	case st.Action == protocol.ActionPause:
		return fmt.Sprintf("pause %s", st.Pause)
	}
	return string(st.Action)
}

// baseSysfs is observed for every step with a module: reports show the
// module's state whatever the expectations ask.
var baseSysfs = []string{"coresize", "initsize", "initstate", "refcnt"}

// protocolFlags are each action's flags in the words of its syscall.
var protocolFlags = map[protocol.Action]map[string][]string{
	protocol.ActionUnload: {"force": {protocol.FlagForce}, "nonblock": {protocol.FlagNonBlock}},
	protocol.ActionLoad: {
		"force":              {protocol.FlagIgnoreModversions, protocol.FlagIgnoreVermagic},
		"ignore-modversions": {protocol.FlagIgnoreModversions},
		"ignore-vermagic":    {protocol.FlagIgnoreVermagic},
	},
}

// Plan is the step as the agent runs it. It observes what any expectation
// of the step mentions, so the observations serve whichever block applies.
func (st Step) Plan() protocol.Step {
	if st.IsLoop() {
		return protocol.Step{Action: st.Action, Loops: planLoops(st.Loops)}
	}
	ps := protocol.Step{
		Action:    st.Action,
		Module:    st.Module,
		File:      st.File,
		Params:    st.Params,
		Path:      st.Path,
		Text:      st.Text,
		Remove:    st.Remove,
		PauseMS:   int(st.Pause.Milliseconds()),
		TimeoutMS: int(st.Timeout.Milliseconds()),
	}
	if st.Action == protocol.ActionLoad {
		// The image holds each built module under the kernel's name of
		// it (foo_bar.ko for foo-bar.ko: see kernel.ModuleName).
		ps.File = st.Module + ".ko"
		if st.File != "" {
			ps.File = kernel.ModuleName(strings.TrimSuffix(st.File, ".ko")) + ".ko"
		}
	}
	if st.BuiltFor != nil {
		ps.File = strings.TrimSuffix(ps.File, ".ko") + st.BuiltFor.Suffix() + ".ko"
	}
	if v := st.Variant(); v != "" {
		ps.File = strings.TrimSuffix(ps.File, ".ko") + "+" + v + ".ko"
	}
	if st.Compressed != "" {
		ps.Flags = append(ps.Flags, protocol.FlagCompressedFile)
	}
	for _, f := range st.Flags {
		ps.Flags = append(ps.Flags, protocolFlags[st.Action][f]...)
	}
	if st.Module != "" {
		ps.Sysfs = slices.Clone(baseSysfs)
	}
	for _, e := range st.Expect {
		for _, s := range e.Sysfs {
			ps.Sysfs = append(ps.Sysfs, s.Attr)
		}
		ps.Kallsyms = append(ps.Kallsyms, e.Kallsyms.Present...)
		ps.Kallsyms = append(ps.Kallsyms, e.Kallsyms.Absent...)
		ps.Files = append(ps.Files, e.Files.Present...)
		ps.Files = append(ps.Files, e.Files.Absent...)
	}
	ps.Sysfs, ps.Kallsyms, ps.Files = sortedSet(ps.Sysfs), sortedSet(ps.Kallsyms), sortedSet(ps.Files)
	return ps
}

func sortedSet(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

// Plan is the scenario as the agent runs it.
func (s *Scenario) Plan() protocol.Scenario {
	ps := protocol.Scenario{Name: s.Name}
	for _, st := range s.Steps {
		ps.Steps = append(ps.Steps, st.Plan())
	}
	return ps
}
