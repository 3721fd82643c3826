package vm

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/protocol"
)

func TestParseAccel(t *testing.T) {
	for _, s := range []string{"auto", "tcg", "kvm"} {
		a, err := ParseAccel(s)
		require.NoError(t, err)
		assert.Equal(t, Accel(s), a)
	}
	_, err := ParseAccel("hvf")
	assert.ErrorContains(t, err, `unknown accelerator "hvf"`)
	assert.Equal(t, AccelTCG, AccelTCG.Resolve())
	assert.Contains(t, []Accel{AccelTCG, AccelKVM}, AccelAuto.Resolve())
}

func TestQEMUArgs(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want []string
		not  []string
	}{
		{
			name: "tcg pvh",
			cfg:  Config{Accel: AccelTCG, PVH: true, MemoryMB: 128},
			want: []string{"-accel", "tcg", "-no-reboot", "-m", "128", "-nic", "none"},
			not:  []string{"-enable-kvm"},
		},
		{
			name: "kvm bzImage",
			cfg:  Config{Accel: AccelKVM, MemoryMB: 256},
			want: []string{"-enable-kvm", "-cpu", "host"},
			not:  []string{"-bios"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.cfg.qemuArgs()
			for _, w := range tc.want {
				assert.Contains(t, args, w)
			}
			for _, n := range tc.not {
				assert.NotContains(t, args, n)
			}
		})
	}
}

// TestEventLogErrors: results.json points at the event log, so a log that
// cannot be created or written is an error, not a missing file.
func TestEventLogErrors(t *testing.T) {
	_, err := openEventLog(filepath.Join(t.TempDir(), "no", "such", "dir", "events.jsonl"))
	assert.ErrorContains(t, err, "event log")

	full, err := openEventLog("/dev/full")
	require.NoError(t, err)
	full.write(protocol.Event{Kind: protocol.EventBoot})
	assert.ErrorContains(t, full.close(), "/dev/full")
	assert.Error(t, full.close(), "closing again repeats the error")

	var none *eventLog
	none.write(protocol.Event{Kind: protocol.EventBoot})
	assert.NoError(t, none.close())
}
