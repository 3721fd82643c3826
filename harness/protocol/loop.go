package protocol

// Loop is a sequence of steps the agent runs Count times in a row, in the
// guest, without asking the host between iterations.
type Loop struct {
	Count int    `json:"count"`
	Steps []Step `json:"steps"`
}

// Iteration is one pass through a loop: what each of its steps did. Its
// step results are compact: no echo of the step (the host has the plan)
// and only the kmsg records the step printed.
type Iteration struct {
	// Loop is the index of the loop in its step (0 for a repeat).
	Loop int `json:"loop,omitempty"`
	// Index counts from 1, as reports name it ("iteration 37/200").
	Index int          `json:"index"`
	Steps []StepResult `json:"steps"`
}
