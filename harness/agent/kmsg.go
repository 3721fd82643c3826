package agent

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"modmatrix.dev/modmatrix/harness/protocol"
)

// KmsgReader reads /dev/kmsg records without blocking: each read(2) returns
// one record, EAGAIN once the reader has caught up.
type KmsgReader struct {
	// mu serialises the readers of a concurrent step's loops.
	mu  sync.Mutex
	f   *os.File
	buf []byte
	// next is the sequence number after the last record returned.
	next uint64
}

// OpenKmsg opens /dev/kmsg positioned at its oldest record.
func OpenKmsg(path string) (*KmsgReader, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return &KmsgReader{f: os.NewFile(uintptr(fd), path), buf: make([]byte, 8192)}, nil
}

// Next is the sequence number the next new record will at least have.
func (k *KmsgReader) Next() uint64 {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.next
}

// ReadAvailable returns every record not read yet.
func (k *KmsgReader) ReadAvailable() []protocol.Kmsg {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []protocol.Kmsg
	for {
		n, err := syscall.Read(int(k.f.Fd()), k.buf)
		if errors.Is(err, syscall.EPIPE) {
			// Records were overwritten before we read them; go on with the next.
			continue
		}
		if err != nil || n <= 0 {
			return out
		}
		if rec, ok := ParseKmsg(string(k.buf[:n])); ok {
			k.next = rec.Seq + 1
			out = append(out, rec)
		}
	}
}

// ParseKmsg parses one /dev/kmsg record: "PRI,SEQ,TS_US,FLAGS[,...];TEXT\n"
// followed by optional " KEY=VALUE" dictionary lines; with PRINTK_CALLER
// the header's extra fields include "caller=T123".
func ParseKmsg(raw string) (protocol.Kmsg, bool) {
	head, rest, ok := strings.Cut(raw, ";")
	if !ok {
		return protocol.Kmsg{}, false
	}
	fields := strings.Split(head, ",")
	if len(fields) < 3 {
		return protocol.Kmsg{}, false
	}
	pri, err1 := strconv.Atoi(fields[0])
	seq, err2 := strconv.ParseUint(fields[1], 10, 64)
	ts, err3 := strconv.ParseInt(fields[2], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return protocol.Kmsg{}, false
	}
	text, _, _ := strings.Cut(rest, "\n")
	rec := protocol.Kmsg{Seq: seq, Level: pri & 7, TimeUS: ts, Text: unescapeKmsg(text)}
	for _, f := range fields[3:] {
		if c, ok := strings.CutPrefix(f, "caller="); ok {
			rec.Caller = c
		}
	}
	return rec, true
}

// unescapeKmsg decodes the \xHH escapes /dev/kmsg uses for non-printable
// bytes, such as the newline inside the "suspiciously returned" warning.
func unescapeKmsg(s string) string {
	if !strings.Contains(s, `\x`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' {
			if v, err := strconv.ParseUint(s[i+2:i+4], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
