package kconfig

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Predicate is a parsed expression over Kconfig symbols (a scenario's
// `when` and `requires`), evaluated on a resolved .config. The zero
// Predicate (no expression) always holds.
type Predicate struct {
	root node
}

// PredicateError is a syntax error at a 1-based column of the source.
type PredicateError struct {
	Src    string
	Column int
	Msg    string
}

func (e *PredicateError) Error() string {
	return fmt.Sprintf("bad predicate %q: column %d: %s", e.Src, e.Column, e.Msg)
}

// Eval tells whether the predicate holds for a kernel whose resolved .config
// answers lookup: lookup gets a symbol without its CONFIG_ prefix and returns
// "y", "m", "n" (or "") for unset, or the string or number value (quoted or
// not).
func (p Predicate) Eval(lookup func(sym string) string) bool {
	if p.root == nil {
		return true
	}
	return p.root.eval(lookup)
}

// Symbols lists the symbols the predicate reads, sorted, without CONFIG_.
func (p Predicate) Symbols() []string {
	var syms []string
	if p.root != nil {
		p.root.symbols(&syms)
	}
	slices.Sort(syms)
	return slices.Compact(syms)
}

// String gives the predicate in canonical form, parenthesised only where
// precedence needs it.
func (p Predicate) String() string {
	if p.root == nil {
		return ""
	}
	var b strings.Builder
	p.root.write(&b, 0)
	return b.String()
}

// KernelVersion is the one predicate symbol that is not a CONFIG symbol:
// the kernel's version ("6.12.117", as `make kernelversion` prints it), for
// behaviour that changed between releases rather than with configuration.
// Compare it with <, <=, >, >= (KERNELVERSION >= 6.5).
const KernelVersion = "KERNELVERSION"

// CmdlinePrefix begins the predicate symbols that read the cell's kernel
// command line: CMDLINE.module.sig_enforce is that boot parameter's value
// ("1"), y for a parameter given without one (CMDLINE.nokaslr), n when
// absent. Alone (CMDLINE.lockdown, !CMDLINE.lockdown) it asks whether the
// parameter is given; compare it to test the value. Dashes and underscores
// in the name are the same, as to the kernel.
const CmdlinePrefix = "CMDLINE."

// IsCmdline tells whether a predicate symbol reads the command line.
func IsCmdline(sym string) bool { return strings.HasPrefix(sym, CmdlinePrefix) }

// Lookup answers predicate symbols for a kernel booted with cmdline (a
// cell's arguments): CONFIG symbols from its resolved .config,
// KERNELVERSION from its version, CMDLINE.* from cmdline (the last of a
// parameter given twice, as the kernel takes it).
func Lookup(config func(sym string) string, version string, cmdline []string) func(string) string {
	params := map[string]string{}
	for _, a := range cmdline {
		name, value, ok := strings.Cut(a, "=")
		if !ok {
			value = "y"
		}
		params[paramName(name)] = value
	}
	return func(sym string) string {
		switch {
		case sym == KernelVersion:
			return version
		case IsCmdline(sym):
			return params[paramName(strings.TrimPrefix(sym, CmdlinePrefix))]
		}
		return config(sym)
	}
}

func paramName(s string) string { return strings.ReplaceAll(s, "-", "_") }

// Precedence levels, loosest first.
const (
	precOr = iota + 1
	precAnd
	precNot
)

type node interface {
	eval(lookup func(string) string) bool
	symbols(*[]string)
	write(b *strings.Builder, outer int)
}

type binary struct {
	and  bool // && when true, || otherwise
	l, r node
}

func (n binary) eval(lookup func(string) string) bool {
	if n.and {
		return n.l.eval(lookup) && n.r.eval(lookup)
	}
	return n.l.eval(lookup) || n.r.eval(lookup)
}

func (n binary) symbols(s *[]string) { n.l.symbols(s); n.r.symbols(s) }

func (n binary) write(b *strings.Builder, outer int) {
	prec, op := precOr, " || "
	if n.and {
		prec, op = precAnd, " && "
	}
	if outer > prec {
		b.WriteByte('(')
	}
	n.l.write(b, prec)
	b.WriteString(op)
	n.r.write(b, prec)
	if outer > prec {
		b.WriteByte(')')
	}
}

type negation struct{ x node }

func (n negation) eval(lookup func(string) string) bool { return !n.x.eval(lookup) }
func (n negation) symbols(s *[]string)                  { n.x.symbols(s) }
func (n negation) write(b *strings.Builder, _ int) {
	b.WriteByte('!')
	n.x.write(b, precNot)
}

// compare is SYM, SYM=value, SYM!=value, or a version order such as
// KERNELVERSION>=6.5.
type compare struct {
	sym    string
	op     string // "", "=", "!=", "<", "<=", ">", ">="
	value  string
	quoted bool // value was a "string"
}

func (n compare) eval(lookup func(string) string) bool {
	got := configValue(lookup(n.sym))
	switch n.op {
	case "":
		if IsCmdline(n.sym) {
			// A boot parameter holds when given, whatever its value:
			// !CMDLINE.module_blacklist is "not blacklisting anything".
			return got != "n"
		}
		return got == "y" || got == "m"
	case "=":
		return n.matches(got)
	case "!=":
		return !n.matches(got)
	}
	c := compareVersions(got, n.value)
	switch n.op {
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	}
	return c >= 0
}

// compareVersions orders dotted versions numerically ("6.12" > "6.5"); a
// missing part counts as 0 and a non-numeric one as -1.
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(as), len(bs)) {
		part := func(ps []string) int {
			if i >= len(ps) {
				return 0
			}
			v, err := strconv.Atoi(ps[i])
			if err != nil {
				return -1
			}
			return v
		}
		if d := part(as) - part(bs); d != 0 {
			return d
		}
	}
	return 0
}

func (n compare) matches(got string) bool {
	if !n.quoted {
		a, errA := strconv.ParseInt(got, 0, 64)
		b, errB := strconv.ParseInt(n.value, 0, 64)
		if errA == nil && errB == nil {
			return a == b // 0x10 = 16
		}
	}
	return got == n.value
}

func (n compare) symbols(s *[]string) { *s = append(*s, n.sym) }

func (n compare) write(b *strings.Builder, _ int) {
	b.WriteString(n.sym)
	if n.op == "" {
		return
	}
	b.WriteString(n.op)
	if n.quoted {
		b.WriteString(quoteKconfig(n.value))
	} else {
		b.WriteString(n.value)
	}
}

// configValue normalises a looked-up value: unset is "n", and a .config
// string loses its quotes.
func configValue(v string) string {
	if v == "" {
		return "n"
	}
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		return unquoteKconfig(v[1 : len(v)-1])
	}
	return v
}

// Kconfig strings escape only " and \.
func quoteKconfig(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func unquoteKconfig(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

var (
	symbolRE = regexp.MustCompile(`^([A-Za-z0-9_]+|CMDLINE\.[A-Za-z0-9_.-]+)$`)
	numberRE = regexp.MustCompile(`^-?(0[xX][0-9a-fA-F]+|[0-9]+)$`)
	// versionRE is what KERNELVERSION compares against: 6, 6.5, 6.12.117.
	versionRE = regexp.MustCompile(`^[0-9]+(\.[0-9]+)*$`)
)

// ParsePredicate parses a predicate: SYM, !SYM, SYM=y|m|n|NUMBER|"str",
// SYM!=…, &&, ||, parentheses; ! binds tighter than &&, && than ||. A
// CONFIG_ prefix on a symbol is accepted and dropped.
func ParsePredicate(src string) (Predicate, error) {
	toks, err := lex(src)
	if err != nil {
		return Predicate{}, err
	}
	p := &predParser{src: src, toks: toks}
	if p.peek().kind == tokEnd {
		return Predicate{}, p.fail(p.peek(), "empty predicate")
	}
	root, err := p.or()
	if err != nil {
		return Predicate{}, err
	}
	if t := p.peek(); t.kind != tokEnd {
		return Predicate{}, p.fail(t, fmt.Sprintf("unexpected %s", t))
	}
	return Predicate{root: root}, nil
}

type tokKind int

const (
	tokEnd tokKind = iota
	tokWord
	tokString
	tokNot
	tokAnd
	tokOr
	tokLParen
	tokRParen
	tokEq
	tokNe
	tokOrder // <, <=, >, >=
)

// operators are tried two bytes first, so "!=" is not "!" then "=".
var operators = map[string]tokKind{
	"&&": tokAnd, "||": tokOr, "!=": tokNe, "<=": tokOrder, ">=": tokOrder,
	"!": tokNot, "(": tokLParen, ")": tokRParen, "=": tokEq, "<": tokOrder, ">": tokOrder,
}

type token struct {
	kind tokKind
	text string // the word, the unquoted string, or the operator
	pos  int    // byte offset in the source
}

func (t token) String() string {
	switch t.kind {
	case tokEnd:
		return "end of predicate"
	case tokString:
		return "string " + quoteKconfig(t.text)
	}
	return strconv.Quote(t.text)
}

func lex(src string) ([]token, error) {
	var toks []token
	fail := func(pos int, msg string) error { return &PredicateError{Src: src, Column: pos + 1, Msg: msg} }
	for i := 0; i < len(src); {
		c := src[i]
		if op := src[i:min(i+2, len(src))]; operators[op] != 0 || operators[op[:1]] != 0 {
			if operators[op] == 0 {
				op = op[:1]
			}
			toks = append(toks, token{kind: operators[op], text: op, pos: i})
			i += len(op)
			continue
		}
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '&' || c == '|':
			return nil, fail(i, fmt.Sprintf("lone %q: use %q", c, string([]byte{c, c})))
		case c == '"':
			var b strings.Builder
			j := i + 1
			for ; j < len(src) && src[j] != '"'; j++ {
				if src[j] == '\\' && j+1 < len(src) {
					j++
				}
				b.WriteByte(src[j])
			}
			if j == len(src) {
				return nil, fail(i, "unterminated string")
			}
			toks = append(toks, token{kind: tokString, text: b.String(), pos: i})
			i = j + 1
		case isWordByte(c):
			j := i
			for j < len(src) && isWordByte(src[j]) {
				j++
			}
			toks = append(toks, token{kind: tokWord, text: src[i:j], pos: i})
			i = j
		default:
			return nil, fail(i, fmt.Sprintf("unexpected character %q", c))
		}
	}
	return append(toks, token{kind: tokEnd, pos: len(src)}), nil
}

// Words cover symbols and values such as -1 or 0x1f.
func isWordByte(c byte) bool {
	return c == '_' || c == '.' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

type predParser struct {
	src  string
	toks []token
	i    int
}

func (p *predParser) peek() token { return p.toks[p.i] }

func (p *predParser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEnd {
		p.i++
	}
	return t
}

func (p *predParser) fail(t token, msg string) error {
	return &PredicateError{Src: p.src, Column: t.pos + 1, Msg: msg}
}

func (p *predParser) or() (node, error)  { return p.chain(tokOr, p.and) }
func (p *predParser) and() (node, error) { return p.chain(tokAnd, p.unary) }

// chain parses operand (op operand)*, left-associative.
func (p *predParser) chain(op tokKind, operand func() (node, error)) (node, error) {
	l, err := operand()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == op {
		p.next()
		r, err := operand()
		if err != nil {
			return nil, err
		}
		l = binary{and: op == tokAnd, l: l, r: r}
	}
	return l, nil
}

func (p *predParser) unary() (node, error) {
	t := p.next()
	switch t.kind {
	case tokNot:
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return negation{x}, nil
	case tokLParen:
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tokRParen {
			return nil, p.fail(c, fmt.Sprintf("expected \")\", found %s", c))
		}
		return x, nil
	case tokWord:
		return p.compare(t)
	}
	return nil, p.fail(t, fmt.Sprintf("expected a symbol, \"!\" or \"(\", found %s", t))
}

func (p *predParser) compare(symTok token) (node, error) {
	sym := strings.TrimPrefix(symTok.text, "CONFIG_")
	if !symbolRE.MatchString(sym) {
		return nil, p.fail(symTok, fmt.Sprintf("bad symbol name %q", symTok.text))
	}
	n := compare{sym: sym}
	switch p.peek().kind {
	case tokEq:
		n.op = "="
	case tokNe:
		n.op = "!="
	case tokOrder:
		n.op = p.peek().text
		p.next()
		v := p.next()
		if v.kind != tokWord || !versionRE.MatchString(v.text) {
			return nil, p.fail(v, fmt.Sprintf("expected a version such as 6.5 after %q, found %s", n.op, v))
		}
		n.value = v.text
		return n, nil
	default:
		return n, nil
	}
	p.next()
	v := p.next()
	switch {
	case v.kind == tokString:
		n.value, n.quoted = v.text, true
	case v.kind == tokWord && (v.text == "y" || v.text == "m" || v.text == "n" || numberRE.MatchString(v.text)):
		n.value = v.text
	default:
		return nil, p.fail(v, fmt.Sprintf("expected y, m, n, a number or a \"string\" after %q, found %s", n.op, v))
	}
	return n, nil
}
