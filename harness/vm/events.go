package vm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"modmatrix.dev/modmatrix/harness/protocol"
)

// The agent's events reach the host through a QEMU file chardev that the
// host tails, not through vmtest's pty-backed event channel. With the pty,
// a boot whose host reader lagged (two busy cores) lost the end of its
// first event when the guest rebooted: 10240 bytes of a longer boot event
// arrived, then EOF, and the cell was an ERROR although the guest had run
// every step. A regular file takes every byte QEMU accepts, and the guest's
// virtio-serial write returns only once QEMU has taken it, so what the
// agent sent before it powered off is in the file. The line format is
// vmtest's, so the agent keeps using vmtest's guest emitter.

// guestEvent is one line of vmtest's event channel.
type guestEvent struct {
	GuestAction string         `json:"hugelgupf_vmtest_guest_action"`
	Actual      protocol.Event `json:"Actual"`
}

const (
	actionEvent = "guestevent"
	actionDone  = "done"
)

// eventTail reads complete lines of the growing event file.
type eventTail struct {
	f *os.File
	// r reads f (through the fault switch of fault tests' builds).
	r       io.Reader
	pending []byte
	done    bool
	err     error
}

func (t *eventTail) close() error { return t.f.Close() }

// poll hands every complete new line's event to emit.
func (t *eventTail) poll(emit func(protocol.Event)) {
	buf := make([]byte, 64<<10)
	for {
		n, err := t.r.Read(buf)
		t.pending = append(t.pending, buf[:n]...)
		if n == 0 || err != nil {
			if err != nil && !errors.Is(err, io.EOF) && t.err == nil {
				t.err = err
			}
			break
		}
	}
	for {
		line, rest, ok := bytes.Cut(t.pending, []byte("\n"))
		if !ok {
			return
		}
		t.pending = rest
		t.line(line, emit)
	}
}

func (t *eventTail) line(line []byte, emit func(protocol.Event)) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return
	}
	var e guestEvent
	if err := json.Unmarshal(line, &e); err != nil {
		if t.err == nil {
			t.err = fmt.Errorf("%w: a line that is not an event (%.120q): %v", protocol.ErrCorrupt, line, err)
		}
		return
	}
	switch e.GuestAction {
	case actionEvent:
		emit(e.Actual)
	case actionDone:
		t.done = true
	}
}

// follow polls until stop is closed, then reads what is left; a last line
// without its newline (the guest died mid-write) is an error.
func (t *eventTail) follow(stop <-chan struct{}, emit func(protocol.Event)) {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			t.poll(emit)
			if len(bytes.TrimSpace(t.pending)) > 0 && t.err == nil {
				t.err = fmt.Errorf("%w: the last event is cut short (%d bytes without a newline)", protocol.ErrTruncated, len(t.pending))
			}
			return
		case <-tick.C:
			t.poll(emit)
		}
	}
}
