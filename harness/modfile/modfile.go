// Package modfile makes the module files a scenario asks for from the
// ones Kbuild built: signed with the kernel's key or another one, with a
// damaged signature, compressed as MODULE_COMPRESS_* would, or with damaged
// compressed data. The kernel, not the harness, then judges them.
package modfile

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Key is a module signing key as scripts/sign-file takes it: a PEM private
// key and an X.509 certificate (PEM or DER).
type Key struct {
	Private, Cert string
}

// KernelKey is the key a kernel tree's build made for MODULE_SIG
// (certs/signing_key.pem, its certificate in certs/signing_key.x509), and
// whether the tree has it: a prebuilt kernel's headers do not.
func KernelKey(tree string) (Key, bool) {
	k := Key{Private: filepath.Join(tree, "certs", "signing_key.pem"), Cert: filepath.Join(tree, "certs", "signing_key.x509")}
	for _, p := range []string{k.Private, k.Cert, filepath.Join(tree, "scripts", "sign-file")} {
		if _, err := os.Stat(p); err != nil {
			return Key{}, false
		}
	}
	return k, true
}

// NewKey writes into dir a fresh RSA key with a self-signed certificate:
// a key no kernel's keyring holds.
func NewKey(dir string) (Key, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return Key{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "modmatrix other key"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(10, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		return Key{}, err
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return Key{}, err
	}
	k := Key{Private: filepath.Join(dir, "other-key.pem"), Cert: filepath.Join(dir, "other-key.x509")}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Key{}, err
	}
	if err := os.WriteFile(k.Private, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), 0o600); err != nil {
		return Key{}, err
	}
	return k, os.WriteFile(k.Cert, der, 0o644)
}

// Sign writes in, signed with key by the tree's own scripts/sign-file and
// hash (CONFIG_MODULE_SIG_HASH), to out.
func Sign(ctx context.Context, tree, hash string, key Key, in, out string) error {
	signFile := filepath.Join(tree, "scripts", "sign-file")
	cmd := exec.CommandContext(ctx, signFile, hash, key.Private, key.Cert, in, out)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", signFile, filepath.Base(in), err, b)
	}
	return nil
}

// sigMarker ends a signed module, after the signature and its 12-byte
// struct module_signature (include/linux/module_signature.h).
const (
	sigMarker  = "~Module signature appended~\n"
	sigInfoLen = 12
)

// CorruptSignature changes the last byte of a signed module's signature
// (the end of the RSA signature value in the PKCS#7 message): the message
// still parses, and the check of the signature fails.
func CorruptSignature(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if !bytes.HasSuffix(b, []byte(sigMarker)) || len(b) < len(sigMarker)+sigInfoLen+1 {
		return fmt.Errorf("%s: not a signed module", path)
	}
	b[len(b)-len(sigMarker)-sigInfoLen-1] ^= 0xff
	return os.WriteFile(path, b, 0o644)
}

// Compress writes in compressed with algorithm (gzip, xz or zstd, with the
// settings of the kernel's scripts/Makefile.modinst: xz with CRC32 and a
// 1 MiB dictionary, which the kernel's XZ decoder needs) to out. corrupted
// damages the data past the header, so the kernel recognises the format
// and then fails to unpack it.
func Compress(in, out, algorithm string, corrupted bool) error {
	data, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	switch algorithm {
	case "gzip":
		w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		if _, err := w.Write(data); err != nil {
			return err
		}
		err = w.Close()
	case "xz":
		w, err2 := xz.WriterConfig{CheckSum: xz.CRC32, DictCap: 1 << 20}.NewWriter(&buf)
		if err2 != nil {
			return err2
		}
		if _, err := w.Write(data); err != nil {
			return err
		}
		err = w.Close()
	case "zstd":
		w, err2 := zstd.NewWriter(nil)
		if err2 != nil {
			return err2
		}
		buf.Write(w.EncodeAll(data, nil))
		err = w.Close()
	default:
		return fmt.Errorf("compression %q: want gzip, xz or zstd", algorithm)
	}
	if err != nil {
		return err
	}
	b := buf.Bytes()
	if corrupted {
		// The middle of the stream: past every format's header, before its
		// trailer (gzip's and xz's checks would catch the end too, but
		// the decoder should fail on the data itself).
		for i := len(b) / 2; i < len(b)/2+16 && i < len(b); i++ {
			b[i] ^= 0xa5
		}
	}
	return os.WriteFile(out, b, 0o644)
}
