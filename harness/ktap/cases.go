package ktap

import (
	"fmt"
	"strings"
)

// Case is one leaf test (a KUnit test case, or one parameter of a
// parameterised case) with the suites above it.
type Case struct {
	// Suite is the path of the tests above, joined by dots: "suite", or
	// "suite.case" for a parameter.
	Suite string `json:"suite"`
	// Name is the case's name; "#N" for a result the plan announced but
	// the log never printed (its name is unknown).
	Name   string `json:"case"`
	Status Status `json:"status"`
	// Reason is the SKIP directive's text.
	Reason     string   `json:"reason,omitempty"`
	Log        []string `json:"log,omitempty"`
	DurationUS int64    `json:"duration_us,omitempty"`
}

// ID is the case's full name, "suite.case", as scenario files name it.
func (c Case) ID() string {
	if c.Suite == "" {
		return c.Name
	}
	return c.Suite + "." + c.Name
}

// Cases lists the leaves below t in log order, and any test that crashed
// (no result line) with no crashed leaf to show for it. The root's name
// is not part of any path.
func (t *Test) Cases() []Case {
	var out []Case
	// walk returns whether it listed a crashed case.
	var walk func(t *Test, path []string) bool
	walk = func(t *Test, path []string) bool {
		crashed := false
		for _, s := range t.Subtests {
			name := s.Name
			if name == "" {
				name = fmt.Sprintf("#%d", s.Number)
			}
			if len(s.Subtests) > 0 {
				below := walk(s, append(path, name))
				if s.Status == Crash && !below {
					// It never printed its result line, yet every result
					// below it did (a parameterised case has no plan to
					// miss): the crash shows as the test itself.
					out = append(out, Case{Suite: strings.Join(path, "."), Name: name, Status: Crash, Log: s.Log, DurationUS: s.DurationUS})
					below = true
				}
				crashed = crashed || below
				continue
			}
			out = append(out, Case{
				Suite: strings.Join(path, "."), Name: name, Status: s.Status,
				Reason: s.Directive, Log: s.Log, DurationUS: s.DurationUS,
			})
			crashed = crashed || s.Status == Crash
		}
		return crashed
	}
	walk(t, nil)
	return out
}
