package probecache

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A stored result is whole or absent: a damaged one is not taken.
func TestStore(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	_, ok := s.Get("k")
	assert.False(t, ok)
	require.NoError(t, s.Put(context.Background(), "k", []byte(`{"x":1}`)))
	data, ok := s.Get("k")
	assert.True(t, ok)
	assert.Equal(t, `{"x":1}`, string(data))
	require.NoError(t, writeFile(s.path("k")+"/"+resultFile, `{"x":2}`))
	_, ok = s.Get("k")
	assert.False(t, ok, "a result that is not what its sums say is not taken")
	assert.Error(t, CheckEntry(s.path("k")))
}

func writeFile(path, text string) error { return os.WriteFile(path, []byte(text), 0o644) }
