package distro

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/kconfig"
)

// fakeModule compiles an object whose .modinfo says depends=deps, as a
// .ko at dir/rel (what bootModules reads of a module: its name and that).
func fakeModule(t *testing.T, dir, rel, deps string) {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc: ", err)
	}
	src := filepath.Join(t.TempDir(), "m.c")
	require.NoError(t, os.WriteFile(src, []byte(`__attribute__((section(".modinfo"), used)) static const char d[] = "depends=`+deps+`";`+"\n"), 0o644))
	out := filepath.Join(dir, rel)
	require.NoError(t, os.MkdirAll(filepath.Dir(out), 0o755))
	b, err := exec.Command("gcc", "-c", "-o", out, src).CombinedOutput()
	require.NoError(t, err, "%s", b)
}

func TestBootModules(t *testing.T) {
	dir := t.TempDir()
	fakeModule(t, dir, "kernel/drivers/virtio/virtio.ko", "")
	fakeModule(t, dir, "kernel/drivers/virtio/virtio_ring.ko", "")
	fakeModule(t, dir, "kernel/drivers/virtio/virtio_pci.ko", "virtio_ring,virtio")
	fakeModule(t, dir, "kernel/drivers/char/virtio_console.ko", "virtio_ring,virtio")
	modular := kconfig.Config{"VIRTIO_PCI": "m", "VIRTIO_CONSOLE": "m"}

	kos, err := bootModules(modular, dir)
	require.NoError(t, err)
	var names []string
	for _, ko := range kos {
		names = append(names, filepath.Base(ko))
	}
	assert.Equal(t, []string{"virtio_ring.ko", "virtio.ko", "virtio_pci.ko", "virtio_console.ko"}, names, "each after what it needs, once")

	none, err := bootModules(kconfig.Config{"VIRTIO_PCI": "y", "VIRTIO_CONSOLE": "y"}, dir)
	require.NoError(t, err)
	assert.Empty(t, none, "built in: nothing to load")

	require.NoError(t, os.Rename(filepath.Join(dir, "kernel/drivers/virtio/virtio.ko"), filepath.Join(dir, "kernel/drivers/virtio/virtio.ko.xz")))
	_, err = bootModules(modular, dir)
	assert.ErrorContains(t, err, "virtio is packaged compressed (virtio.ko.xz)")
	require.NoError(t, os.Remove(filepath.Join(dir, "kernel/drivers/virtio/virtio.ko.xz")))
	_, err = bootModules(modular, dir)
	assert.ErrorContains(t, err, "no virtio.ko (virtio_pci needs it")
}
