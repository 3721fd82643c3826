package matrix

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"modmatrix.dev/modmatrix/harness/kconfig"
	"modmatrix.dev/modmatrix/harness/ksrc"
	"modmatrix.dev/modmatrix/harness/scenario"
)

// The kernels other cells' scenarios wait for build first, within each
// source; the rest keep the matrix's order.
func TestNeededFirst(t *testing.T) {
	s612, s61 := &ksrc.Source{Version: "6.12.118"}, &ksrc.Source{Version: "6.1.192"}
	var units []unit
	for _, src := range []*ksrc.Source{s612, s61} {
		for _, c := range []string{"debug", "force-unload", "unload", "unload-off"} {
			units = append(units, unit{src: src, cell: kconfig.Cell{Name: c}})
		}
	}
	vermagic := &scenario.Scenario{Name: "vermagic", Steps: []scenario.Step{
		{BuiltFor: &scenario.BuiltFor{Cell: "unload"}}, {BuiltFor: &scenario.BuiltFor{LocalVersion: "-x"}}, {BuiltFor: &scenario.BuiltFor{Cell: "unload-off"}},
	}}
	var got []string
	for _, u := range neededFirst(units, []*scenario.Scenario{vermagic}) {
		got = append(got, u.src.Version+" "+u.cell.Name)
	}
	assert.Equal(t, []string{
		"6.12.118 unload", "6.12.118 unload-off", "6.12.118 debug", "6.12.118 force-unload",
		"6.1.192 unload", "6.1.192 unload-off", "6.1.192 debug", "6.1.192 force-unload",
	}, got)
	assert.Equal(t, units, neededFirst(units, nil), "no scenario waits: the matrix's order")
}
