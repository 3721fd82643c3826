package kconfig

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSymbols(t *testing.T) {
	src := t.TempDir()
	files := map[string]string{
		"init/Kconfig": "config MODULES\n\tbool \"modules\"\n\thelp\n\t  config options below\n\t  config FROM_HELP\n\n\t  config FROM_HELP_TOO\n" +
			"if MODULES\nconfig MODULE_UNLOAD\n\tbool\nendif\n",
		"arch/x86/Kconfig":    "menuconfig HYPERVISOR_GUEST\n\tbool\n  config INDENTED # in a choice\n",
		"lib/Kconfig.debug":   "config DEBUG_KERNEL\n",
		"drivers/Makefile":    "config NOT_KCONFIG\n",
		".git/Kconfig":        "config IN_GIT\n",
		"Documentation/x.rst": "config NOT_DOC\n",
	}
	for name, body := range files {
		p := filepath.Join(src, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	}
	syms, err := Symbols(src)
	require.NoError(t, err)
	assert.Equal(t, map[string]bool{
		"MODULES": true, "MODULE_UNLOAD": true, "HYPERVISOR_GUEST": true, "INDENTED": true, "DEBUG_KERNEL": true,
	}, syms)

	_, err = Symbols(filepath.Join(src, "missing"))
	assert.True(t, errors.Is(err, os.ErrNotExist))
}

func TestRelations(t *testing.T) {
	src := t.TempDir()
	kconfig := `menuconfig MODULES
	bool "Enable loadable module support"
	help
	  depends on NOT_FROM_HELP

if MODULES

config MODULE_UNLOAD
	bool "Module unloading"

config MODULE_FORCE_UNLOAD
	bool "Forced module unloading"
	depends on MODULE_UNLOAD
	help
	  select NOT_FROM_HELP_EITHER

endif # MODULES

menu "Initramfs"
	depends on BLK_DEV_INITRD

config RD_LZ4
	bool "Support initial ramdisk/ramfs compressed using LZ4"
	default y
	select DECOMPRESS_LZ4 if EXPERT

endmenu

config DECOMPRESS_LZ4
	tristate
`
	p := filepath.Join(src, "init", "Kconfig")
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(kconfig), 0o644))
	rel, err := Relations(src)
	require.NoError(t, err)
	assert.Equal(t, map[string][]string{
		"MODULE_UNLOAD":       {"MODULES"},
		"MODULE_FORCE_UNLOAD": {"MODULES", "MODULE_UNLOAD"},
		"RD_LZ4":              {"BLK_DEV_INITRD", "DECOMPRESS_LZ4"},
	}, rel)
}
