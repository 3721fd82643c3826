package agent

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/hugelgupf/vmtest/guest"

	"modmatrix.dev/modmatrix/harness/protocol"
)

// OpenEvents opens the event channel to the host (vmtest's guest emitter
// on protocol.EventChannel), waiting briefly: the console driver may still
// be probing the port when init starts the guest's program.
func OpenEvents() (*guest.Emitter[protocol.Event], error) {
	var lastErr error
	for range 50 {
		e, err := guest.SerialEventChannel[protocol.Event](protocol.EventChannel)
		if err == nil {
			return e, nil
		}
		lastErr = err
		time.Sleep(20 * time.Millisecond)
	}
	return nil, lastErr
}

// AwaitWork reads the host's work (protocol.WriteWork) from the command
// port and unpacks it into dir. It blocks until the host sends it, which
// for a snapshot is after the restore.
func AwaitWork(dir string) (protocol.Plan, error) {
	// The event channel is open, so the ports are probed.
	port, err := guest.VirtioSerialDevice(protocol.CommandChannel)
	if err != nil {
		return protocol.Plan{}, err
	}
	f, err := os.Open(port)
	if err != nil {
		return protocol.Plan{}, err
	}
	defer f.Close()
	// ko/ exists even when no module came (a MODULES=n cell's shell).
	if err := os.MkdirAll(filepath.Join(dir, "ko"), 0o755); err != nil {
		return protocol.Plan{}, err
	}
	return protocol.ReadWork(untilHost{f}, dir)
}

// untilHost reads a virtio-serial port whose host side may not be
// connected yet: the kernel returns EOF then rather than block (and the
// backend of a restored guest is a new process's, connected a moment
// after the restore), so an EOF means "try again shortly".
type untilHost struct{ f *os.File }

func (u untilHost) Read(p []byte) (int, error) {
	for {
		n, err := u.f.Read(p)
		if n > 0 || (err != nil && !errors.Is(err, io.EOF)) {
			return n, err
		}
		time.Sleep(2 * time.Millisecond)
	}
}
