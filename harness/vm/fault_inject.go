//go:build faultinject

package vm

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// The event stream's fault switch, for the fault tests only (a binary
// built with -tags faultinject): MODMATRIX_FAULT says what becomes, in
// every VM, of the first step result the agent sends, and of what follows:
//
//	garble    its line arrives with bytes that are not JSON, the rest as sent
//	truncate  the first half of its line arrives, then nothing more
//	silent    nothing from it on arrives, though the guest goes on
func faultReader(r io.Reader) io.Reader {
	switch f := os.Getenv("MODMATRIX_FAULT"); f {
	case "":
		return r
	case "garble", "truncate", "silent":
		return &faulty{r: r, fault: f}
	default:
		panic(fmt.Sprintf("MODMATRIX_FAULT=%q: want garble, truncate or silent", f))
	}
}

type faulty struct {
	r     io.Reader
	fault string
	// line holds bytes of a line not complete yet; out what is to be read.
	line, out []byte
	hit, mute bool
}

func (f *faulty) Read(p []byte) (int, error) {
	buf := make([]byte, len(p))
	n, err := f.r.Read(buf)
	f.line = append(f.line, buf[:n]...)
	for !f.mute {
		l, rest, ok := bytes.Cut(f.line, []byte("\n"))
		if !ok {
			break
		}
		f.line = rest
		f.out = append(f.out, f.apply(append(l, '\n'))...)
	}
	if f.mute {
		f.line = nil
	}
	c := copy(p, f.out)
	f.out = f.out[c:]
	if c > 0 {
		return c, nil
	}
	return 0, err
}

func (f *faulty) apply(line []byte) []byte {
	if f.hit || !bytes.Contains(line, []byte(`"kind":"step"`)) {
		return line
	}
	f.hit = true
	switch f.fault {
	case "garble":
		copy(line[len(line)/2:], "\x00\xff{{")
		return line
	case "truncate":
		f.mute = true
		return line[:len(line)/2]
	default: // silent (faultReader admits no other)
		f.mute = true
		return nil
	}
}
