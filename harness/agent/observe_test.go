package agent

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// The testdata trees hold files recorded from 6.12 guests with hello loaded.
func TestObserve(t *testing.T) {
	attrs := []string{"initstate", "refcnt", "initsize", "coresize", "holders"}
	tests := []struct {
		name      string
		root      string
		line      string
		sysfs     map[string]string
		kallsyms  map[string]bool
		modsExist bool
	}{
		{
			name: "unload", root: "testdata/unload",
			line:      "hello 12288 0 - Live 0xffffffffa0000000 (O)",
			sysfs:     map[string]string{"initstate": "live", "refcnt": "0", "initsize": "0", "coresize": "12288", "holders": "dep_b"},
			kallsyms:  map[string]bool{"hi": false, "bye": true, "helper": true},
			modsExist: true,
		},
		{
			// No refcnt and no holders without MODULE_UNLOAD; __exit code discarded.
			name: "unload-off", root: "testdata/unload-off",
			line:      "hello 12288 - - Live 0xffffffffa0000000 (O)",
			sysfs:     map[string]string{"initstate": "live", "initsize": "0"},
			kallsyms:  map[string]bool{"hi": false, "bye": false, "helper": true},
			modsExist: true,
		},
		{name: "modules-off", root: "testdata/none", kallsyms: map[string]bool{"hi": false, "bye": false, "helper": false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sys := System{Root: tc.root}
			line, exists := sys.ProcModules("hello")
			assert.Equal(t, tc.line, line)
			assert.Equal(t, tc.modsExist, exists)
			present, sysfs := sys.SysModule("hello", attrs)
			assert.Equal(t, tc.sysfs != nil, present)
			if tc.sysfs != nil {
				assert.Equal(t, tc.sysfs, sysfs)
			}
			assert.Equal(t, tc.kallsyms, sys.Kallsyms([]string{"hi", "bye", "helper"}))
		})
	}
}

func TestTaintAndLoaded(t *testing.T) {
	sys := System{Root: "testdata/unload"}
	assert.Equal(t, uint64(4096), sys.Taint())
	assert.Equal(t, map[string]bool{"/proc/modules": true, "/dev/nope": false}, sys.Files([]string{"/proc/modules", "/dev/nope"}))
	assert.Zero(t, System{Root: "testdata/none"}.Taint())
}

// TestKmemleakDisabled: kmemleak=off anywhere on the command line turns
// kmemleak off for good (the kernel's kmemleak_boot_config disables it on
// "off" and never enables it again); other values and look-alikes do not.
func TestKmemleakDisabled(t *testing.T) {
	for _, tc := range []struct {
		cmdline string
		off     bool
	}{
		{"console=ttyS0 kmemleak=off tsc=reliable\n", true},
		{"kmemleak=off kmemleak=on", true},
		{"console=ttyS0 kmemleak=on", false},
		{"console=ttyS0 nokmemleak=off", false},
		{"", false},
	} {
		assert.Equal(t, tc.off, kmemleakDisabled(tc.cmdline), "%q", tc.cmdline)
	}
}
