package modmatrix_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix"
)

// requireBootable skips without QEMU or a kernel source (fails under
// CI=true, which must boot for real).
func requireBootable(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("boots a kernel: skipped with -short")
	}
	_, qemu := exec.LookPath("qemu-system-x86_64")
	_, src := os.Stat("/usr/src/linux-source-6.12.tar.xz")
	if qemu == nil && src == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("needs qemu-system-x86_64 and linux-source-6.12 (make deps)")
	}
	t.Skip("needs qemu-system-x86_64 and linux-source-6.12 (make deps)")
}

// TestGoAPI is how a Go project drives modmatrix from its own go test: the
// hello scenario on two cells, judged, with the typed results at hand.
func TestGoAPI(t *testing.T) {
	requireBootable(t)
	// On a cold machine the kernels build first, and other packages' tests
	// build theirs at the same time: no deadline but go test's own.
	ctx, cancel := context.WithCancel(context.Background())
	if d, ok := t.Deadline(); ok {
		ctx, cancel = context.WithDeadline(context.Background(), d.Add(-time.Minute))
	}
	defer cancel()

	k, err := modmatrix.BuildKernel(ctx, "unload-off")
	require.NoError(t, err)
	assert.True(t, k.Config.Enabled("MODULES"))
	assert.False(t, k.Config.Enabled("MODULE_UNLOAD"))
	assert.FileExists(t, k.BzImage)

	res, err := modmatrix.Run(ctx,
		modmatrix.WithCells("unload", "unload-off"),
		modmatrix.WithScenarios("hello"),
		modmatrix.WithOut(t.TempDir()))
	require.NoError(t, err)
	assert.True(t, res.AllPassed())

	unload, ok := res.Find("", "unload", "hello")
	require.True(t, ok)
	assert.Equal(t, modmatrix.Pass, unload.Verdict, unload.Reason)
	require.Len(t, unload.Steps, 2)
	assert.Empty(t, unload.Steps[1].Errno, "hello unloads where MODULE_UNLOAD is set")

	off, ok := res.Find("", "unload-off", "hello")
	require.True(t, ok)
	assert.Equal(t, "ENOSYS", off.Steps[1].Errno, "and cannot be unloaded where it is not")
}

// Run a module folder of your own on one cell and read what the kernel did.
func ExampleRun() {
	res, err := modmatrix.Run(context.Background(),
		modmatrix.WithCells("unload"),
		modmatrix.WithModuleDirs("./mymodule"))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range res.Results {
		fmt.Println(r.Cell, r.Scenario, r.Verdict, r.Reason)
	}
}
