//go:build faultinject

package vm

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFaultSwitch: each fault changes the first step result and what
// follows as documented, whatever the reads' sizes.
func TestFaultSwitch(t *testing.T) {
	lines := []string{
		`{"hugelgupf_vmtest_guest_action":"guestevent","Actual":{"kind":"boot"}}`,
		`{"hugelgupf_vmtest_guest_action":"guestevent","Actual":{"kind":"step_start"}}`,
		`{"hugelgupf_vmtest_guest_action":"guestevent","Actual":{"kind":"step","step_index":0}}`,
		`{"hugelgupf_vmtest_guest_action":"done"}`,
	}
	stream := strings.Join(lines, "\n") + "\n"
	for _, tc := range []struct {
		fault, want string
	}{
		{"garble", lines[0] + "\n" + lines[1] + "\n" + lines[2][:len(lines[2]+"\n")/2] + "\x00\xff{{" + lines[2][len(lines[2]+"\n")/2+4:] + "\n" + lines[3] + "\n"},
		{"truncate", lines[0] + "\n" + lines[1] + "\n" + (lines[2] + "\n")[:len(lines[2]+"\n")/2]},
		{"silent", lines[0] + "\n" + lines[1] + "\n"},
	} {
		t.Run(tc.fault, func(t *testing.T) {
			t.Setenv("MODMATRIX_FAULT", tc.fault)
			r := faultReader(&trickle{data: []byte(stream), n: 7})
			got, err := io.ReadAll(r)
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(got))
		})
	}
	t.Setenv("MODMATRIX_FAULT", "garbel")
	assert.Panics(t, func() { faultReader(bytes.NewReader(nil)) }, "a misspelt fault is refused")
}

// trickle returns at most n bytes a read, like a file QEMU is writing.
type trickle struct {
	data []byte
	n    int
}

func (t *trickle) Read(p []byte) (int, error) {
	if len(t.data) == 0 {
		return 0, io.EOF
	}
	c := copy(p[:min(len(p), t.n)], t.data)
	t.data = t.data[c:]
	return c, nil
}
