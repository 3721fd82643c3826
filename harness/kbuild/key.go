package kbuild

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"

	"modmatrix.dev/modmatrix/harness/kconfig"
	"modmatrix.dev/modmatrix/internal/cacheentry"
)

// formatVersion is part of every key; bump it when the cache layout or the
// way kernels are built changes, so old entries are simply not found.
const formatVersion = "modmatrix-kbuild-1"

// fragKey names the resolved config of these fragments: it is known before
// anything runs, so a cache hit costs no make at all.
func fragKey(sourceID, arch, compiler string, frags []*kconfig.Fragment) string {
	fields := [][]byte{[]byte(formatVersion), []byte("config"), []byte(sourceID), []byte(arch), []byte(compiler)}
	for _, f := range frags {
		fields = append(fields, f.Text())
	}
	return cacheentry.Key(fields...)
}

// kernelKey names a built tree. It hashes the resolved .config rather than
// the fragments, so cells that resolve to the same config share a kernel.
func kernelKey(sourceID, arch, compiler string, config []byte) string {
	return cacheentry.Key([]byte(formatVersion), []byte("kernel"), []byte(sourceID), []byte(arch), []byte(compiler), config)
}

// gccVersion is the first line of `gcc --version`: kbuild's default CC, and
// what CONFIG_CC_VERSION_TEXT records.
func gccVersion(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "gcc", "--version").Output()
	if err != nil {
		return "", fmt.Errorf("kbuild: gcc --version: %w (apt-get install build-essential)", err)
	}
	line, _, _ := bytes.Cut(out, []byte("\n"))
	return string(bytes.TrimSpace(line)), nil
}
