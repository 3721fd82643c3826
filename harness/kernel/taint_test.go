package kernel

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTaintMask(t *testing.T) {
	m, err := TaintMask("RO")
	require.NoError(t, err)
	assert.Equal(t, uint64(4104), m)
	m, err = TaintMask("PJ")
	require.NoError(t, err)
	assert.Equal(t, uint64(1|1<<19), m)
	_, err = TaintMask("G")
	assert.EqualError(t, err, "unknown taint letter 'G' (known: PFSRMBUDAWCIOELKXTNJ)")
}

func TestTaintString(t *testing.T) {
	for _, tc := range []struct {
		mask uint64
		want string
	}{
		{0, ""},
		{4096, "O"},
		{4104, "RO"},
		{1<<0 | 1<<9 | 1<<13, "PWE"},
		{1 << 19, "J"},
		{1<<12 | 1<<21, "O[21]"},
	} {
		assert.Equal(t, tc.want, TaintString(tc.mask), "mask %d", tc.mask)
	}
}

func TestHarmlessTaint(t *testing.T) {
	assert.Equal(t, "OE", TaintString(HarmlessTaint))
	m, err := TaintMask("OE")
	require.NoError(t, err)
	assert.Equal(t, uint64(HarmlessTaint), m)
}
