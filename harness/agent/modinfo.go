package agent

import (
	"bytes"
	"debug/elf"
	"strings"
)

// modinfoKeys are the .modinfo fields the kernel also shows under
// /sys/module/NAME (srcversion, version) or checks at load (vermagic).
var modinfoKeys = []string{"srcversion", "version", "vermagic"}

// readModinfo reads those fields from a module file; nothing when it is
// not ELF (compressed, or a placeholder for a kernel without modules).
func readModinfo(path string) map[string]string {
	f, err := elf.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	sec := f.Section(".modinfo")
	if sec == nil {
		return nil
	}
	data, err := sec.Data()
	if err != nil {
		return nil
	}
	out := map[string]string{}
	for _, kv := range bytes.Split(data, []byte{0}) {
		k, v, ok := strings.Cut(string(kv), "=")
		if !ok {
			continue
		}
		for _, want := range modinfoKeys {
			if k == want {
				out[k] = v
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
