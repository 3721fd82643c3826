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
	// Each module's lifetime, twice: the second load is where what the
	// first left behind shows.
	lifetime := []string{
		"load lib", "load user", "load forever",
		"unload forever",
		"unload user", "check user",
		"unload lib", "check lib",
	}
	assert.Equal(t, append(lifetime, lifetime...), got)
	unloading := func(s string) string { return map[string]string{"MODULES": "y", "MODULE_UNLOAD": "y"}[s] }
	noUnloading := func(s string) string { return map[string]string{"MODULES": "y"}[s] }
	errno := func(st Step, lookup func(string) string) string {
		exp := st.Applicable(lookup)
		require.NotEmpty(t, exp, st.Describe())
		return *exp[len(exp)-1].Errno
	}
	// A permanent module is refused with EBUSY where unloading exists, and
	// so is still there for the second load.
	assert.Equal(t, "EBUSY", errno(sc.Steps[3], unloading))
	assert.Equal(t, "EEXIST", errno(sc.Steps[10], unloading))
	// The others load again where they could be unloaded, and are still
	// there where they could not.
	assert.Equal(t, "", errno(sc.Steps[8], unloading))
	assert.Equal(t, "EEXIST", errno(sc.Steps[8], noUnloading))
	assert.Equal(t, protocol.ActionLoad, sc.Steps[0].Action)

	_, _, err = Default("/src/loop", "f", []ModuleInfo{{Name: "a", Depends: []string{"b"}}, {Name: "b", Depends: []string{"a"}}})
	assert.ErrorContains(t, err, "cycle: a → b → a")
}
