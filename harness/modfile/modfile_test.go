package modfile

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/ulikunitz/xz"
)

// TestCompress: each algorithm's output unpacks to the module again (the
// kernel's decoders are checked by modules/compressed on real boots), and
// a corrupted one keeps its header but not its data.
func TestCompress(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "m.ko")
	data := bytes.Repeat([]byte("\x7fELF module text "), 4096)
	require.NoError(t, os.WriteFile(in, data, 0o644))
	unpack := map[string]func(io.Reader) (io.Reader, error){
		"gzip": func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) },
		"xz":   func(r io.Reader) (io.Reader, error) { return xz.NewReader(r) },
		"zstd": func(r io.Reader) (io.Reader, error) { return zstd.NewReader(r) },
	}
	magic := map[string][]byte{"gzip": {0x1f, 0x8b}, "xz": []byte("\xfd7zXZ"), "zstd": {0x28, 0xb5, 0x2f, 0xfd}}
	for algo, open := range unpack {
		t.Run(algo, func(t *testing.T) {
			out := filepath.Join(dir, "m.ko."+algo)
			require.NoError(t, Compress(in, out, algo, false))
			b, err := os.ReadFile(out)
			require.NoError(t, err)
			assert.True(t, bytes.HasPrefix(b, magic[algo]))
			r, err := open(bytes.NewReader(b))
			require.NoError(t, err)
			got, err := io.ReadAll(r)
			require.NoError(t, err)
			assert.Equal(t, data, got)

			require.NoError(t, Compress(in, out, algo, true))
			b, err = os.ReadFile(out)
			require.NoError(t, err)
			assert.True(t, bytes.HasPrefix(b, magic[algo]), "the header survives")
			if r, err := open(bytes.NewReader(b)); err == nil {
				got, err = io.ReadAll(r)
				assert.False(t, err == nil && bytes.Equal(got, data), "the data does not")
			}
		})
	}
	assert.ErrorContains(t, Compress(in, filepath.Join(dir, "x"), "lz4", false), `compression "lz4"`)
}

// TestCorruptSignature changes a byte of the signature, not of the module
// or of the trailer the kernel looks for.
func TestCorruptSignature(t *testing.T) {
	p := filepath.Join(t.TempDir(), "m.ko")
	module, sig := []byte("module"), []byte("PKCS7-signature")
	info := make([]byte, sigInfoLen)
	signed := append(append(append(append([]byte{}, module...), sig...), info...), sigMarker...)
	require.NoError(t, os.WriteFile(p, signed, 0o644))
	require.NoError(t, CorruptSignature(p))
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, module, b[:len(module)])
	assert.True(t, bytes.HasSuffix(b, append(info, sigMarker...)))
	assert.NotEqual(t, sig, b[len(module):len(module)+len(sig)])

	require.NoError(t, os.WriteFile(p, module, 0o644))
	assert.ErrorContains(t, CorruptSignature(p), "not a signed module")
}
