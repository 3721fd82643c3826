package kinds

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTable(t *testing.T) {
	all := All()
	assert.NotEmpty(t, all)
	seen := map[Kind]bool{}
	for _, k := range all {
		assert.False(t, seen[k], "%s twice", k)
		seen[k] = true
		assert.True(t, k.Known(), k)
		assert.False(t, k.Crash() && k.Benign(), "%s both kills and is benign", k)
	}
	// Which kinds kill: kreport's TestCrashKindsDieInCorpus, on real logs.
	for _, k := range Crashes() {
		assert.True(t, k.Crash(), k)
	}
	assert.True(t, InitReturn.Benign())
	assert.False(t, Kind("OOPSIE").Known())
	assert.False(t, Kind("OOPSIE").Crash())
	assert.False(t, Kind("").Benign())
	all[0] = "changed"
	assert.Equal(t, Warning, All()[0], "All returns a copy")
}

func TestStartsCrash(t *testing.T) {
	for line, want := range map[string]bool{
		"BUG: kernel NULL pointer dereference, address: 0000000000000000": true,
		"BUG: unable to handle page fault for address: ffffffffa0004110":  true,
		"Oops: Oops: 0000 [#1]": true,
		"Oops: general protection fault, probably for non-canonical address 0xdead000000000122: 0000 [#1]": true,
		"general protection fault, probably for non-canonical address 0xdead000000000122: 0000 [#1]":       true,
		"Kernel panic - not syncing: Fatal exception in interrupt":                                         true,
		"WARNING: CPU: 0 PID: 20 at hi.c:9 hi_init+0x5/0x9 [hi]":                                           false,
		"do_init_module: 'hi'->init suspiciously returned 42, it should follow 0/-E convention":            false,
		"hi: BUG: not at the start": false,
		"":                          false,
	} {
		assert.Equal(t, want, StartsCrash(line), line)
	}
}

func TestPanicked(t *testing.T) {
	assert.True(t, Panicked("[    1.5] Kernel panic - not syncing: Fatal exception\n"))
	assert.True(t, Panicked("a\n[    1.500000][    T1] Kernel panic - not syncing: VFS: Unable to mount root fs"))
	assert.False(t, Panicked("[    1.5] Oops: Oops: 0000 [#1]\n"))
}
