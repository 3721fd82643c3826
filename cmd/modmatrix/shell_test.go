package main

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"modmatrix.dev/modmatrix/harness/kbuild"
	"modmatrix.dev/modmatrix/harness/kconfig"
	"modmatrix.dev/modmatrix/harness/matrix"
)

func TestShellBanner(t *testing.T) {
	cell := kconfig.Cell{Name: "unload", Description: "modules can be unloaded. More words."}
	withModules := kconfig.Config{"MODULES": "y"}
	tests := []struct {
		name   string
		config kconfig.Config
		kos    map[string]string
		want   []string
		not    []string
	}{
		{
			name:   "modules, hello first in the hint",
			config: withModules,
			kos:    map[string]string{"dep_a": "/c/dep_a.ko", "hello": "/c/hello.ko"},
			want: []string{
				"modmatrix shell: linux 6.12.117, cell unload (modules can be unloaded.)\n",
				"modules in /modmatrix/ko:\n  dep_a.ko                 /repo/modules/dependency\n  hello.ko                 /repo/modules/hello\n",
				"try:   insmod /modmatrix/ko/hello.ko; lsmod; rmmod hello; dmesg | tail\n",
				"leave: poweroff, or Ctrl-A X\n",
			},
		},
		{
			name:   "no modules packed",
			config: withModules,
			want:   []string{"no modules packed: /modmatrix/ko is empty\n"},
			not:    []string{"try:"},
		},
		{
			name:   "MODULES=n",
			config: kconfig.Config{},
			want:   []string{"no module support (CONFIG_MODULES is not set)"},
			not:    []string{"try:"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &matrix.PreparedCell{Cell: cell, Kernel: &kbuild.Kernel{Release: "6.12.117", Config: tc.config}}
			origin := map[string]string{"dep_a": "/repo/modules/dependency", "hello": "/repo/modules/hello"}
			got := shellBanner(p, tc.kos, origin)
			for _, w := range tc.want {
				assert.Contains(t, got, w)
			}
			for _, n := range tc.not {
				assert.NotContains(t, got, n)
			}
		})
	}
}
