package kconfig

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// config is a resolved .config as the harness's lookup sees it.
func config(values map[string]string) func(string) string {
	return func(sym string) string { return values[sym] }
}

func TestPredicateEval(t *testing.T) {
	lookup := config(map[string]string{
		"MODULES":          "y",
		"MODULE_UNLOAD":    "n",
		"SOUND":            "m",
		"LOG_BUF_SHIFT":    "17",
		"LOCALVERSION":     `"-test"`,
		"DEFAULT_HOSTNAME": "(none)",
	})
	for _, tc := range []struct {
		src       string
		want      bool
		canonical string
	}{
		{"MODULES", true, "MODULES"},
		{"!MODULES", false, "!MODULES"},
		{"CONFIG_MODULES", true, "MODULES"},
		{"SOUND", true, "SOUND"},
		{"SOUND=m", true, "SOUND=m"},
		{"SOUND=y", false, "SOUND=y"},
		{"MODULE_UNLOAD", false, "MODULE_UNLOAD"},
		{"MODULE_UNLOAD=n", true, "MODULE_UNLOAD=n"},
		{"MODULE_FORCE_UNLOAD=n", true, "MODULE_FORCE_UNLOAD=n"}, // unset
		{"MODULE_FORCE_UNLOAD", false, "MODULE_FORCE_UNLOAD"},
		{"MODULE_UNLOAD != n", false, "MODULE_UNLOAD!=n"},
		{"LOG_BUF_SHIFT=17", true, "LOG_BUF_SHIFT=17"},
		{"LOG_BUF_SHIFT=0x11", true, "LOG_BUF_SHIFT=0x11"},
		{"LOG_BUF_SHIFT!=18", true, "LOG_BUF_SHIFT!=18"},
		{"LOG_BUF_SHIFT", false, "LOG_BUF_SHIFT"}, // a number is not y or m
		{`LOCALVERSION="-test"`, true, `LOCALVERSION="-test"`},
		{`DEFAULT_HOSTNAME="(none)"`, true, `DEFAULT_HOSTNAME="(none)"`},
		{`LOCALVERSION="a\"b"`, false, `LOCALVERSION="a\"b"`},
		// && binds tighter than ||, ! tighter than &&.
		{"MODULE_UNLOAD || MODULES && SOUND", true, "MODULE_UNLOAD || MODULES && SOUND"},
		{"(MODULE_UNLOAD || MODULES) && !SOUND", false, "(MODULE_UNLOAD || MODULES) && !SOUND"},
		{"MODULES && !MODULE_UNLOAD", true, "MODULES && !MODULE_UNLOAD"},
		{"!MODULE_UNLOAD && MODULES", true, "!MODULE_UNLOAD && MODULES"},
		{"!(MODULE_UNLOAD && MODULES)", true, "!(MODULE_UNLOAD && MODULES)"},
		{"!MODULES || MODULE_UNLOAD", false, "!MODULES || MODULE_UNLOAD"},
		{"!(MODULES || MODULE_UNLOAD)", false, "!(MODULES || MODULE_UNLOAD)"},
		{"!!MODULES", true, "!!MODULES"},
		{"((MODULES))", true, "MODULES"},
		{"MODULES && (MODULE_UNLOAD || SOUND)", true, "MODULES && (MODULE_UNLOAD || SOUND)"},
		{"MODULE_UNLOAD && MODULES || SOUND", true, "MODULE_UNLOAD && MODULES || SOUND"},
	} {
		t.Run(tc.src, func(t *testing.T) {
			p, err := ParsePredicate(tc.src)
			require.NoError(t, err)
			assert.Equal(t, tc.want, p.Eval(lookup))
			assert.Equal(t, tc.canonical, p.String())
			again, err := ParsePredicate(p.String())
			require.NoError(t, err, "canonical form parses")
			assert.Equal(t, p, again)
		})
	}
}

func TestPredicateErrors(t *testing.T) {
	for _, tc := range []struct {
		src    string
		column int
		msg    string
	}{
		{"", 1, "empty predicate"},
		{"   ", 4, "empty predicate"},
		{"MODULES &&", 11, `expected a symbol, "!" or "(", found end of predicate`},
		{"MODULES & SOUND", 9, `lone '&': use "&&"`},
		{"MODULES | SOUND", 9, `lone '|': use "||"`},
		{"(MODULES", 9, `expected ")", found end of predicate`},
		{"MODULES)", 8, `unexpected ")"`},
		{"MODULES SOUND", 9, `unexpected "SOUND"`},
		{"MODULES=yes", 9, `expected y, m, n, a number or a "string" after "=", found "yes"`},
		{"MODULES!=", 10, `expected y, m, n, a number or a "string" after "!=", found end of predicate`},
		{"MODULES==y", 9, `expected y, m, n, a number or a "string" after "=", found "="`},
		{`LOCALVERSION="abc`, 14, "unterminated string"},
		{"MODULES $", 9, "unexpected character '$'"},
		{"CONFIG_", 1, `bad symbol name "CONFIG_"`},
		{"-1", 1, `bad symbol name "-1"`},
		{"&& MODULES", 1, `expected a symbol, "!" or "(", found "&&"`},
	} {
		t.Run(tc.src, func(t *testing.T) {
			_, err := ParsePredicate(tc.src)
			var pe *PredicateError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tc.column, pe.Column)
			assert.Equal(t, tc.msg, pe.Msg)
			assert.Contains(t, err.Error(), "bad predicate")
		})
	}
}

func TestPredicateSymbols(t *testing.T) {
	p, err := ParsePredicate("MODULES && (CONFIG_SOUND=m || !MODULES) && HZ!=100")
	require.NoError(t, err)
	assert.Equal(t, []string{"HZ", "MODULES", "SOUND"}, p.Symbols())
}

func TestZeroPredicateHolds(t *testing.T) {
	var p Predicate
	assert.True(t, p.Eval(config(nil)))
	assert.Empty(t, p.String())
	assert.Empty(t, p.Symbols())
}

func TestKernelVersionPredicate(t *testing.T) {
	config := func(sym string) string { return map[string]string{"MODULES": "y"}[sym] }
	tests := []struct {
		src     string
		version string
		want    bool
	}{
		{"KERNELVERSION >= 6.5", "6.12.117", true},
		{"KERNELVERSION >= 6.5", "6.1.192", false},
		{"KERNELVERSION < 6.5 && MODULES", "6.1.192", true},
		{"KERNELVERSION > 6.12.117", "6.12.117", false},
		{"KERNELVERSION <= 6.12", "6.12.0", true},
		{`KERNELVERSION = "6.1.192"`, "6.1.192", true},
	}
	for _, tc := range tests {
		t.Run(tc.src+"@"+tc.version, func(t *testing.T) {
			p, err := ParsePredicate(tc.src)
			require.NoError(t, err)
			assert.Equal(t, tc.want, p.Eval(Lookup(config, tc.version, nil)))
		})
	}
	_, err := ParsePredicate("KERNELVERSION >= y")
	assert.ErrorContains(t, err, "expected a version")
}

// TestCmdlinePredicates: CMDLINE.NAME reads the cell's boot parameters:
// its value, y when given bare, n when absent, and alone whether it is given; - and _ alike in the name.
func TestCmdlinePredicates(t *testing.T) {
	config := func(sym string) string { return map[string]string{"MODULES": "y"}[sym] }
	cmdline := []string{"module.sig_enforce=1", "module_blacklist=hello,other", "nokaslr", "lockdown=none", "lockdown=integrity"}
	for src, want := range map[string]bool{
		"CMDLINE.module.sig_enforce = 1":             true,
		"CMDLINE.module.sig_enforce":                 true, // given, whatever its value
		"!CMDLINE.module_blacklist":                  false,
		`CMDLINE.module_blacklist = "hello,other"`:   true,
		`CMDLINE.module-blacklist = "hello,other"`:   true,
		"CMDLINE.nokaslr":                            true,
		"!CMDLINE.quiet":                             true,
		"CMDLINE.quiet != n":                         false,
		`CMDLINE.lockdown = "integrity"`:             true, // the last one given
		"MODULES && CMDLINE.module.sig_enforce != n": true,
	} {
		t.Run(src, func(t *testing.T) {
			p, err := ParsePredicate(src)
			require.NoError(t, err)
			assert.Equal(t, want, p.Eval(Lookup(config, "6.12.117", cmdline)))
			for _, sym := range p.Symbols() {
				if sym != "MODULES" {
					assert.True(t, IsCmdline(sym), sym)
				}
			}
		})
	}
}
