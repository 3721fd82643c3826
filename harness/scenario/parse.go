package scenario

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"modmatrix.dev/modmatrix/harness/kconfig"
	"modmatrix.dev/modmatrix/harness/kernel"
	"modmatrix.dev/modmatrix/harness/kreport/kinds"
	"modmatrix.dev/modmatrix/harness/protocol"
)

// parser walks the yaml.Node tree so every problem gets its line, and keeps
// going after one so a file's problems are reported together.
type parser struct {
	file string
	opts options
	errs []error
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	p.errorAt(n.Line, format, args...)
}

func (p *parser) errorAt(line int, format string, args ...any) {
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func parse(sc *Scenario, src []byte, opts options) error {
	p := &parser{file: sc.File, opts: opts}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		// yaml reports "yaml: line N: msg"; give it our FILE:LINE form.
		line, msg := 1, strings.TrimPrefix(err.Error(), "yaml: ")
		if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		return &Error{File: sc.File, Line: line, Msg: "bad YAML: " + msg}
	}
	if len(doc.Content) == 0 {
		return &Error{File: sc.File, Line: 1, Msg: "empty scenario file"}
	}
	p.scenario(doc.Content[0], sc)
	slices.SortStableFunc(p.errs, func(a, b error) int { return a.(*Error).Line - b.(*Error).Line })
	return errors.Join(p.errs...)
}

type field struct {
	key     string
	keyNode *yaml.Node
	val     *yaml.Node
}

func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func describeNode(n *yaml.Node) string {
	switch {
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.Tag == "!!null":
		return "empty"
	}
	return fmt.Sprintf("%q", n.Value)
}

// fields returns a mapping's entries in file order, reporting non-mappings,
// duplicate keys and keys outside known.
func (p *parser) fields(n *yaml.Node, what string, known ...string) []field {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s must be a mapping, not %s", what, describeNode(n))
		return nil
	}
	var out []field
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		switch first, dup := seen[k.Value]; {
		case k.Kind != yaml.ScalarNode:
			p.errorf(k, "keys in %s must be words", what)
		case dup:
			p.errorf(k, "duplicate key %q in %s (first at line %d)", k.Value, what, first)
		case known != nil && !slices.Contains(known, k.Value):
			p.errorf(k, "unknown key %q in %s", k.Value, what)
		default:
			seen[k.Value] = k.Line
			out = append(out, field{key: k.Value, keyNode: k, val: v})
		}
	}
	return out
}

func (p *parser) str(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.errorf(n, "%s must be a string, not %s", what, describeNode(n))
		return "", false
	}
	return n.Value, true
}

// strs accepts one string or a list of them.
func (p *parser) strs(n *yaml.Node, what string) []string {
	if n.Kind != yaml.SequenceNode {
		if s, ok := p.str(n, what); ok {
			return []string{s}
		}
		return nil
	}
	var out []string
	for _, item := range n.Content {
		if s, ok := p.str(deref(item), what+" entry"); ok {
			out = append(out, s)
		}
	}
	return out
}

func (p *parser) boolean(n *yaml.Node, what string) (bool, bool) {
	var b bool
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
		p.errorf(n, "%s must be true or false, not %s", what, describeNode(n))
		return false, false
	}
	return b, true
}

func (p *parser) duration(n *yaml.Node, what string) time.Duration {
	s, ok := p.str(n, what)
	if !ok {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		p.errorf(n, "%s must be a positive duration such as 500ms or 2s, not %q", what, s)
		return 0
	}
	return d
}

var (
	moduleNameRE = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
	sysfsAttrRE  = regexp.MustCompile(`^[A-Za-z0-9_.:-]+(/[A-Za-z0-9_.:-]+)*$`)
	kallsymRE    = regexp.MustCompile(`^[A-Za-z0-9_.$]+$`)
)

func (p *parser) moduleName(n *yaml.Node, what string) string {
	name, ok := p.str(n, what)
	// foo-bar and foo_bar are one module: the kernel's name is foo_bar.
	name = kernel.ModuleName(name)
	switch {
	case !ok:
	case !moduleNameRE.MatchString(name):
		p.errorf(n, "bad module name %q", name)
	default:
		return name
	}
	return ""
}

func (p *parser) absPath(n *yaml.Node, what string) string {
	s, ok := p.str(n, what)
	if ok && (!path.IsAbs(s) || path.Clean(s) != s) {
		p.errorf(n, "%s must be a clean absolute path, not %q", what, s)
		return ""
	}
	return s
}

func (p *parser) scenario(root *yaml.Node, sc *Scenario) {
	sawSteps := false
	for _, f := range p.fields(root, "scenario", "description", "modules", "own_boot", "requires", "steps") {
		switch f.key {
		case "requires":
			sc.Requires = p.requires(f.val)
		case "description":
			sc.Description, _ = p.str(f.val, "description")
		case "modules":
			for _, item := range p.seq(f.val, "modules") {
				if m := p.moduleName(item, "modules entry"); m != "" {
					sc.Modules = append(sc.Modules, m)
				}
			}
		case "own_boot":
			sc.OwnBoot, _ = p.boolean(f.val, "own_boot")
		case "steps":
			sawSteps = true
			items := p.seq(f.val, "steps")
			if len(items) == 0 {
				p.errorf(f.keyNode, "steps is empty")
			}
			for _, item := range items {
				sc.Steps = append(sc.Steps, p.step(item))
			}
		}
	}
	if !sawSteps && deref(root).Kind == yaml.MappingNode {
		p.errorf(root, "scenario has no steps")
	}
	if len(sc.Modules) == 0 {
		return
	}
	for _, st := range sc.FlatSteps() {
		ko := kernel.ModuleName(strings.TrimSuffix(st.File, ".ko"))
		if ko == "" {
			ko = st.Module
		}
		if st.Action == protocol.ActionLoad && ko != "" && !slices.Contains(sc.Modules, ko) {
			p.errorAt(st.Line, "load %s: %s.ko is not in modules %v", st.Module, ko, sc.Modules)
		}
	}
}

func (p *parser) seq(n *yaml.Node, what string) []*yaml.Node {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "%s must be a list, not %s", what, describeNode(n))
		return nil
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, item := range n.Content {
		out[i] = deref(item)
	}
	return out
}

var actions = []protocol.Action{
	protocol.ActionLoad, protocol.ActionUnload, protocol.ActionCheck,
	protocol.ActionOpen, protocol.ActionClose, protocol.ActionPause,
	protocol.ActionModprobe, protocol.ActionWrite,
}

// stepOptions maps each non-action key of a step to the actions taking it
// (nil: all of them).
var stepOptions = map[string][]protocol.Action{
	"file":       {protocol.ActionLoad},
	"params":     {protocol.ActionLoad, protocol.ActionModprobe},
	"text":       {protocol.ActionWrite},
	"built_for":  {protocol.ActionLoad},
	"signed":     {protocol.ActionLoad},
	"compressed": {protocol.ActionLoad},
	"flags":      {protocol.ActionLoad, protocol.ActionUnload},
	"timeout":    nil,
	"expect":     nil,
}

func (p *parser) step(n *yaml.Node) Step {
	if st, ok := p.loopStep(n); ok { // loop.go
		return st
	}
	st := Step{Line: n.Line}
	known := []string{"file", "params", "built_for", "signed", "compressed", "flags", "text", "timeout", "expect"}
	for _, a := range actions {
		known = append(known, string(a))
	}
	nerrs := len(p.errs)
	fields := p.fields(n, "step", known...)
	var kind *field
	for i, f := range fields {
		a := protocol.Action(f.key)
		if !slices.Contains(actions, a) {
			continue
		}
		if kind != nil {
			p.errorf(f.keyNode, "step has two actions: %s and %s", kind.key, f.key)
			continue
		}
		kind = &fields[i]
		st.Action = a
		switch a {
		case protocol.ActionLoad, protocol.ActionUnload:
			st.Module = p.moduleName(f.val, f.key)
		case protocol.ActionCheck:
			if f.val.Tag != "!!null" {
				st.Module = p.moduleName(f.val, f.key)
			}
		case protocol.ActionOpen, protocol.ActionClose, protocol.ActionWrite:
			st.Path = p.absPath(f.val, f.key)
		case protocol.ActionModprobe:
			st.Module, st.Remove = p.modprobe(f.val)
		case protocol.ActionPause:
			st.Pause = p.duration(f.val, "pause")
		}
	}
	if kind == nil {
		if len(p.errs) == nerrs { // else an unknown key was likely meant as the action
			p.errorf(n, "step has no action: want one of load, unload, check, open, close, pause, modprobe, write, repeat, concurrent")
		}
		return st
	}
	for _, f := range fields {
		takers, isOption := stepOptions[f.key]
		if !isOption {
			continue
		}
		if takers != nil && !slices.Contains(takers, st.Action) {
			p.errorf(f.keyNode, "key %q is not valid in %s steps", f.key, st.Action)
			continue
		}
		switch f.key {
		case "file":
			st.File, _ = p.str(f.val, "file")
			if st.File != "" && (!strings.HasSuffix(st.File, ".ko") || strings.Contains(st.File, "/")) {
				p.errorf(f.val, "file must name a .ko of the scenario's folder, not %q", st.File)
			}
		case "params":
			st.Params, _ = p.str(f.val, "params")
		case "text":
			st.Text, _ = p.str(f.val, "text")
		case "built_for":
			st.BuiltFor = p.builtFor(f.val)
		case "signed":
			st.Signed = Signature(p.oneOf(f.val, "signed", signatures))
		case "compressed":
			st.Compressed = Compression(p.oneOf(f.val, "compressed", compressions))
		case "flags":
			st.Flags = p.flags(f.val, st.Action)
		case "timeout":
			st.Timeout = p.duration(f.val, "timeout")
		case "expect":
			for _, item := range p.seq(f.val, "expect") {
				st.Expect = append(st.Expect, p.expectation(item, st))
			}
		}
	}
	if st.Action == protocol.ActionWrite && !slices.ContainsFunc(fields, func(f field) bool { return f.key == "text" }) {
		p.errorf(n, "write step needs text: what to write to %s", st.Path)
	}
	if st.Action == protocol.ActionModprobe && st.Remove && st.Params != "" {
		p.errorf(n, "modprobe remove takes no params")
	}
	return st
}

// modprobe reads `modprobe: NAME` (a module name or an alias, as modprobe
// takes it) or `modprobe: {remove: NAME}`.
func (p *parser) modprobe(n *yaml.Node) (name string, remove bool) {
	if deref(n).Kind == yaml.MappingNode {
		for _, f := range p.fields(n, "modprobe", "remove") {
			name = p.moduleName(f.val, "modprobe remove")
		}
		if name == "" {
			p.errorf(n, "modprobe needs a module name, or {remove: NAME}")
		}
		return name, true
	}
	name, _ = p.str(n, "modprobe")
	if name == "" || strings.ContainsAny(name, " \t/") {
		p.errorf(n, "modprobe takes a module name or alias, not %q", name)
	}
	return name, false
}

// kindList names the report kinds for errors: "WARNING, BUG, …".
func kindList() string {
	var names []string
	for _, k := range kinds.All() {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

// reports reads `report: {kind: OOPS, module: NAME}` or a list of them.
func (p *parser) reports(n *yaml.Node) []ReportExpect {
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = p.seq(n, "report")
	}
	var out []ReportExpect
	for _, item := range items {
		r := ReportExpect{Line: item.Line}
		for _, f := range p.fields(item, "report", "kind", "module", "title") {
			v, _ := p.str(f.val, f.key)
			switch f.key {
			case "kind":
				r.Kind = kinds.Kind(v)
				if !r.Kind.Known() {
					p.errorf(f.val, "unknown report kind %q (want one of %s)", v, kindList())
				}
			case "module":
				r.Module = v
			case "title":
				pat, err := ParsePattern(v)
				if err != nil {
					p.errorf(f.val, "%v", err)
				}
				r.Title = &pat
			}
		}
		if r.Kind == "" {
			p.errorf(item, "report needs a kind")
		}
		out = append(out, r)
	}
	return out
}

// leftovers reads `leftovers: none` (what every unload and failed load
// expects unless it says otherwise) or a list of patterns, each matching
// one leftover of the step's module as "KIND NAME" ("proc /proc/foo",
// "kthread foo_worker"; kinds as protocol.ResourceKinds names them).
func (p *parser) leftovers(n *yaml.Node, st Step) []ReportExpect {
	if st.Action != protocol.ActionLoad && st.Action != protocol.ActionUnload {
		p.errorf(n, "leftovers needs a load or unload step, not %s", st.Action)
		return nil
	}
	if n.Kind == yaml.ScalarNode && n.Value == "none" {
		return nil
	}
	var out []ReportExpect
	for _, pat := range p.patterns(n, "leftovers") {
		kind, _, _ := strings.Cut(strings.Trim(pat.Src, "/^"), " ")
		if _, known := protocol.ResourceKinds[kind]; !known && !pat.IsRegexp() {
			p.errorf(n, "leftovers: %s does not start with a resource kind (want one of %s)", pat, resourceKindList())
			continue
		}
		out = append(out, ReportExpect{Line: n.Line, Kind: kinds.Leftover, Module: st.Module, Title: &pat})
	}
	return out
}

func resourceKindList() string {
	var names []string
	for k := range protocol.ResourceKinds {
		names = append(names, k)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// oneOf reads a word that must be one of words.
func (p *parser) oneOf(n *yaml.Node, what string, words []string) string {
	s, ok := p.str(n, what)
	if !ok {
		return ""
	}
	if !slices.Contains(words, s) {
		p.errorf(n, "%s: %q is not one of %s", what, s, strings.Join(words, ", "))
		return ""
	}
	return s
}

// symbolRE is a C identifier, as exported symbols are.
var symbolRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// builtFor reads `built_for: {cell: NAME}`, `{localversion: -STR}` or
// `{symbol_version: SYMBOL}`.
func (p *parser) builtFor(n *yaml.Node) *BuiltFor {
	b := &BuiltFor{Line: n.Line}
	given := 0
	for _, f := range p.fields(n, "built_for", "cell", "localversion", "symbol_version") {
		v, _ := p.str(f.val, f.key)
		given++
		switch f.key {
		case "cell":
			b.Cell = v
		case "localversion":
			b.LocalVersion = v
			if strings.ContainsAny(v, " \t'\"/") {
				p.errorf(f.val, "localversion must be one word without quotes or slashes, not %q", v)
			}
		case "symbol_version":
			b.SymbolVersion = v
			if !symbolRE.MatchString(v) {
				p.errorf(f.val, "symbol_version must name an exported symbol, not %q", v)
			}
		}
	}
	if given != 1 {
		p.errorf(n, "built_for needs exactly one of cell, localversion or symbol_version")
	}
	return b
}

// flagWords maps the spellings each action's flags may take (the
// syscall's own among them) to the one kept.
var flagWords = map[protocol.Action]map[string]string{
	protocol.ActionUnload: {
		"force": "force", "O_TRUNC": "force",
		"nonblock": "nonblock", "O_NONBLOCK": "nonblock",
	},
	protocol.ActionLoad: {
		"force":                          "force",
		"ignore-vermagic":                "ignore-vermagic",
		"ignore-modversions":             "ignore-modversions",
		"MODULE_INIT_IGNORE_VERMAGIC":    "ignore-vermagic",
		"MODULE_INIT_IGNORE_MODVERSIONS": "ignore-modversions",
	},
}

var flagHelp = map[protocol.Action]string{
	protocol.ActionUnload: "force (O_TRUNC) or nonblock (O_NONBLOCK)",
	protocol.ActionLoad:   "force (modprobe --force: both of the others), ignore-vermagic or ignore-modversions (MODULE_INIT_IGNORE_*)",
}

func (p *parser) flags(n *yaml.Node, action protocol.Action) []string {
	var out []string
	for _, item := range p.seq(n, "flags") {
		s, ok := p.str(item, "flag")
		switch w := flagWords[action][s]; {
		case !ok:
		case w == "":
			p.errorf(item, "unknown %s flag %q: want %s", action, s, flagHelp[action])
		case slices.Contains(out, w):
			p.errorf(item, "flag %s given twice", w)
		default:
			out = append(out, w)
		}
	}
	return out
}

func (p *parser) expectation(n *yaml.Node, st Step) Expectation {
	e := Expectation{Line: n.Line}
	nerrs := len(p.errs)
	fields := p.fields(n, "expect block", "when", "errno", "loaded", "proc_modules", "sysfs",
		"kallsyms", "files", "kmsg", "kmsg_absent", "taint_gained", "taint_not_gained", "report", "leftovers", "hung", "kunit", "status", "output")
	conditions := 0
	for _, f := range fields {
		if f.key != "when" {
			conditions++
		}
		if (f.key == "loaded" || f.key == "proc_modules" || f.key == "sysfs") && st.Module == "" {
			p.errorf(f.keyNode, "%s needs a step with a module", f.key)
			continue
		}
		switch f.key {
		case "when":
			e.When, e.Pred = p.when(f.val)
		case "errno":
			if st.Action == protocol.ActionModprobe {
				p.errorf(f.keyNode, "a modprobe step has no errno: expect its exit status (status:) and output")
				continue
			}
			if s, ok := p.str(f.val, "errno"); ok {
				name, known := kernel.CanonicalErrno(s)
				if !known {
					p.errorf(f.val, "unknown errno %q", s)
				}
				e.Errno = &name
			}
		case "loaded":
			if b, ok := p.boolean(f.val, "loaded"); ok {
				e.Loaded = &b
			}
		case "proc_modules":
			if pats := p.patterns(f.val, "proc_modules"); len(pats) == 1 {
				e.ProcModules = &pats[0]
			} else if len(pats) > 1 {
				p.errorf(f.val, "proc_modules takes one pattern")
			}
		case "sysfs":
			e.Sysfs = p.sysfs(f.val)
		case "kallsyms":
			e.Kallsyms = p.presence(f.val, "kallsyms", func(s string) bool { return kallsymRE.MatchString(s) })
		case "files":
			e.Files = p.presence(f.val, "files", func(s string) bool { return path.IsAbs(s) && path.Clean(s) == s })
		case "kmsg":
			e.Kmsg = p.patterns(f.val, "kmsg")
		case "kmsg_absent":
			e.KmsgAbsent = p.patterns(f.val, "kmsg_absent")
		case "taint_gained":
			e.TaintGained = p.taint(f.val, "taint_gained")
		case "taint_not_gained":
			e.TaintNotGained = p.taint(f.val, "taint_not_gained")
		case "report":
			e.Reports = append(e.Reports, p.reports(f.val)...)
		case "leftovers":
			e.Reports = append(e.Reports, p.leftovers(f.val, st)...)
		case "hung":
			if b, ok := p.boolean(f.val, "hung"); ok {
				e.Hung = &b
			}
		case "kunit":
			e.KUnit = p.kunit(f.val)
		case "status", "output":
			if st.Action != protocol.ActionModprobe {
				p.errorf(f.keyNode, "%s is a modprobe step's (its exit status and what it printed)", f.key)
				continue
			}
			if f.key == "output" {
				e.Output = p.patterns(f.val, "output")
			} else if s, ok := p.str(f.val, "status"); ok {
				n, err := strconv.Atoi(s)
				if err != nil || n < 0 || n > 255 {
					p.errorf(f.val, "status is an exit status (0 to 255), not %q", s)
				}
				e.Status = &n
			}
		}
	}
	if conditions == 0 && len(p.errs) == nerrs {
		p.errorf(n, "expect block has no conditions")
	}
	for bit, letter := range kernel.TaintLetters {
		if (e.TaintGained&e.TaintNotGained)>>bit&1 != 0 {
			p.errorf(n, "taint %c is in both taint_gained and taint_not_gained", letter)
		}
	}
	return e
}

func (p *parser) when(n *yaml.Node) (string, kconfig.Predicate) {
	src, ok := p.str(n, "when")
	if !ok {
		return "", kconfig.Predicate{}
	}
	pred, err := kconfig.ParsePredicate(src)
	if err != nil {
		p.errorf(n, "%v", err)
		return src, kconfig.Predicate{}
	}
	if p.opts.knownSymbol != nil {
		for _, sym := range pred.Symbols() {
			if sym != kconfig.KernelVersion && !kconfig.IsCmdline(sym) && !p.opts.knownSymbol(sym) {
				p.errorf(n, "unknown Kconfig symbol CONFIG_%s in %q", sym, src)
			}
		}
	}
	return src, pred
}

func (p *parser) patterns(n *yaml.Node, what string) []Pattern {
	var out []Pattern
	for _, s := range p.strs(n, what) {
		pat, err := ParsePattern(s)
		switch {
		case err != nil:
			p.errorf(n, "%s: %v", what, err)
		case s == "" || s == "//":
			p.errorf(n, "%s: empty pattern matches everything", what)
		default:
			out = append(out, pat)
		}
	}
	return out
}

func (p *parser) sysfs(n *yaml.Node) []SysfsExpect {
	var out []SysfsExpect
	for _, f := range p.fields(n, "sysfs") {
		if !sysfsAttrRE.MatchString(f.key) || slices.Contains(strings.Split(f.key, "/"), "..") {
			p.errorf(f.keyNode, "bad sysfs attribute %q: want a path under /sys/module/NAME such as refcnt or holders/other", f.key)
			continue
		}
		s, ok := p.str(f.val, "sysfs "+f.key)
		if !ok {
			continue
		}
		se := SysfsExpect{Attr: f.key}
		switch s {
		case "absent":
			se.Absent = true
		case "present":
		case "modinfo":
			if !slices.Contains([]string{"srcversion", "version"}, f.key) {
				p.errorf(f.val, "sysfs %s: modinfo holds only srcversion and version against the file", f.key)
				continue
			}
			se.Modinfo = true
		default:
			pat, err := ParsePattern(s)
			if err != nil {
				p.errorf(f.val, "sysfs %s: %v", f.key, err)
				continue
			}
			se.Value = &pat
		}
		out = append(out, se)
	}
	return out
}

func (p *parser) presence(n *yaml.Node, what string, valid func(string) bool) Presence {
	var pr Presence
	for _, f := range p.fields(n, what, "present", "absent") {
		var names []string
		for _, s := range p.strs(f.val, what+" "+f.key) {
			if !valid(s) {
				p.errorf(f.val, "bad %s name %q", what, s)
				continue
			}
			names = append(names, s)
		}
		if f.key == "present" {
			pr.Present = names
		} else {
			pr.Absent = names
		}
	}
	return pr
}

func (p *parser) taint(n *yaml.Node, what string) uint64 {
	mask, err := kernel.TaintMask(strings.Join(p.strs(n, what), ""))
	if err != nil {
		p.errorf(n, "%s: %v", what, err)
	}
	return mask
}
