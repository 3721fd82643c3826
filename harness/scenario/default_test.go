package scenario

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/protocol"
)

func TestDefaultOrdersByDependencies(t *testing.T) {
	mods := []ModuleInfo{
		{Name: "user", File: "user.ko", Depends: []string{"lib", "crc32c"}},
		{Name: "lib", File: "lib.ko"},
		{Name: "forever", File: "forever.ko", Permanent: true},
	}
	sc, text, err := Default("/src/mymods", "/out/mymods.scenario.yaml", mods)
	require.NoError(t, err, "%s", text)
	assert.True(t, sc.Generated)
	assert.Equal(t, "mymods", sc.Name)
	var got []string
	for _, st := range sc.Steps {
		got = append(got, st.Describe())
	}
	assert.Equal(t, []string{
		"load lib", "load user", "load forever",
		"unload forever",
		"unload user", "check user",
		"unload lib", "check lib",
	}, got)
	// A permanent module is refused with EBUSY where unloading exists.
	unloadForever := sc.Steps[3]
	unload := unloadForever.Applicable(func(s string) string {
		return map[string]string{"MODULES": "y", "MODULE_UNLOAD": "y"}[s]
	})
	require.NotEmpty(t, unload)
	assert.Equal(t, "EBUSY", *unload[len(unload)-1].Errno)
	assert.Equal(t, protocol.ActionLoad, sc.Steps[0].Action)

	_, _, err = Default("/src/loop", "f", []ModuleInfo{{Name: "a", Depends: []string{"b"}}, {Name: "b", Depends: []string{"a"}}})
	assert.ErrorContains(t, err, "cycle: a → b → a")
}
