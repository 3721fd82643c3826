//go:build !faultinject

package vm

import "io"

// faultReader is the event file itself: the event stream's fault switch
// exists only in binaries built with -tags faultinject (fault_inject.go),
// for the fault tests.
func faultReader(r io.Reader) io.Reader { return r }
