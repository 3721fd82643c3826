package modfile

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeKo compiles an object whose .modinfo says what a module's would:
// all depmod reads of a module without exports.
func fakeKo(t *testing.T, dir, name, modinfo string) string {
	t.Helper()
	src := filepath.Join(dir, name+".c")
	require.NoError(t, os.WriteFile(src, []byte(`const char m[] __attribute__((section(".modinfo"), used)) = "`+modinfo+`";`+"\n"), 0o644))
	ko := filepath.Join(dir, name+".ko")
	out, err := exec.Command("gcc", "-c", "-o", ko, src).CombinedOutput()
	require.NoError(t, err, "%s", out)
	return ko
}

func TestIndex(t *testing.T) {
	kmod, err := exec.LookPath("kmod")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but no kmod: apt-get install kmod")
		}
		t.Skip("needs kmod")
	}
	src := t.TempDir()
	ko := fakeKo(t, src, "autoload_alias", `license=GPL\0alias=modmatrix-autoload-alias\0depends=\0name=autoload_alias\0vermagic=6.12.117 `)
	tree := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(tree, "modules.builtin"), []byte("kernel/fs/ext4/ext4.ko\n"), 0o644))

	index, err := Index(context.Background(), kmod, tree, "6.12.117", map[string]string{"autoload/autoload_alias.ko": ko}, filepath.Join(t.TempDir(), "depmod"))
	require.NoError(t, err)
	for _, name := range []string{"modules.dep", "modules.dep.bin", "modules.alias", "modules.alias.bin", "modules.builtin.bin"} {
		assert.Contains(t, index, name)
	}
	dep, err := os.ReadFile(index["modules.dep"])
	require.NoError(t, err)
	assert.Equal(t, "autoload/autoload_alias.ko:\n", string(dep), "paths relative to /lib/modules/RELEASE, as the guest has them")
	alias, err := os.ReadFile(index["modules.alias"])
	require.NoError(t, err)
	assert.Contains(t, string(alias), "alias modmatrix-autoload-alias autoload_alias")

	_, err = Index(context.Background(), kmod, tree, "not-a-release", map[string]string{"autoload/autoload_alias.ko": ko}, filepath.Join(t.TempDir(), "depmod"))
	assert.ErrorContains(t, err, "Bad version passed not-a-release", "depmod's own words")
}
