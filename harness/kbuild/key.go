package kbuild

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os/exec"

	"modmatrix.dev/modmatrix/harness/kconfig"
)

// formatVersion is part of every key; bump it when the cache layout or the
// way kernels are built changes, so old entries are simply not found.
const formatVersion = "modmatrix-kbuild-1"

// hashKey digests length-prefixed fields, so that no two different field
// lists can produce the same byte stream.
func hashKey(fields ...[]byte) string {
	h := sha256.New()
	for _, f := range fields {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		h.Write(n[:])
		h.Write(f)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// fragKey names the resolved config of these fragments: it is known before
// anything runs, so a cache hit costs no make at all.
func fragKey(sourceID, arch, compiler string, frags []*kconfig.Fragment) string {
	fields := [][]byte{[]byte(formatVersion), []byte("config"), []byte(sourceID), []byte(arch), []byte(compiler)}
	for _, f := range frags {
		fields = append(fields, f.Text())
	}
	return hashKey(fields...)
}

// kernelKey names a built tree. It hashes the resolved .config rather than
// the fragments, so cells that resolve to the same config share a kernel.
func kernelKey(sourceID, arch, compiler string, config []byte) string {
	return hashKey([]byte(formatVersion), []byte("kernel"), []byte(sourceID), []byte(arch), []byte(compiler), config)
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
