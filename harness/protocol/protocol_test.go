package protocol

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestKmsgBackground(t *testing.T) {
	tests := []struct {
		caller string
		tid    int
		want   bool
	}{
		{caller: "T57", tid: 57, want: false}, // the step's own thread
		{caller: "T12", tid: 57, want: true},  // a kworker, a late probe
		{caller: "C0", tid: 57, want: false},  // interrupt context: a timer's oops
		{caller: "", tid: 57, want: false},    // no PRINTK_CALLER
		{caller: "T12", tid: 0, want: false},  // no thread known (boot, clean-up)
		{caller: "T570", tid: 57, want: true}, // not a prefix match
	}
	for _, tc := range tests {
		got := Kmsg{Caller: tc.caller}.Background(tc.tid)
		if got != tc.want {
			t.Errorf("Kmsg{Caller: %q}.Background(%d) = %v, want %v", tc.caller, tc.tid, got, tc.want)
		}
	}
}

// TestStepOwnKmsg: a step's records are its thread's, interrupt context's
// and, for a modprobe step, its modprobe process's; the rest is background.
func TestStepOwnKmsg(t *testing.T) {
	st := StepResult{TID: 30, HelperPID: 41}
	assert.True(t, st.Own(Kmsg{Caller: "T30"}))
	assert.True(t, st.Own(Kmsg{Caller: "T41"}), "the modprobe it ran")
	assert.True(t, st.Own(Kmsg{Caller: "C0"}), "interrupt context")
	assert.False(t, st.Own(Kmsg{Caller: "T52"}), "request_module's helper, a kworker")
	assert.False(t, StepResult{TID: 30}.Own(Kmsg{Caller: "T41"}))
}
