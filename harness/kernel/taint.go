package kernel

import (
	"fmt"
	"strings"
)

// Taint flags the harness names, as include/linux/panic.h numbers them
// (TAINT_OOT_MODULE, TAINT_UNSIGNED_MODULE).
const (
	TaintOOTModule      = 1 << 12 // O: an out-of-tree module was loaded
	TaintUnsignedModule = 1 << 13 // E: an unsigned module was loaded under MODULE_SIG
)

// HarmlessTaint are the taint bits that do not make a kernel dirty: every
// out-of-tree test module sets O (bit 12), and an unsigned one sets E
// (bit 13) under MODULE_SIG, once, at its first load.
const HarmlessTaint = TaintOOTModule | TaintUnsignedModule

// TaintLetters holds the kernel's taint flag letters, indexed by bit
// (P is bit 0, R bit 3, O bit 12, J bit 19), as kernel/panic.c prints them.
const TaintLetters = "PFSRMBUDAWCIOELKXTNJ"

// TaintMask turns letters ("RO") into the /proc/sys/kernel/tainted bits.
func TaintMask(letters string) (uint64, error) {
	var mask uint64
	for _, c := range letters {
		bit := strings.IndexRune(TaintLetters, c)
		if bit < 0 {
			return 0, fmt.Errorf("unknown taint letter %q (known: %s)", c, TaintLetters)
		}
		mask |= 1 << bit
	}
	return mask, nil
}

// TaintString spells a taint mask with the kernel's letters in bit order
// ("RO" for 4104), as print_tainted does but without its padding and its G
// for "not proprietary"; a bit the kernel has no letter for shows as [N].
// Zero is "".
func TaintString(mask uint64) string {
	var b strings.Builder
	for bit := range 64 {
		if mask&(1<<bit) == 0 {
			continue
		}
		if bit < len(TaintLetters) {
			b.WriteByte(TaintLetters[bit])
		} else {
			fmt.Fprintf(&b, "[%d]", bit)
		}
	}
	return b.String()
}
