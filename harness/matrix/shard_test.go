package matrix

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/kconfig"
	"modmatrix.dev/modmatrix/harness/scenario"
)

func TestShards(t *testing.T) {
	for _, n := range []int{1, 2, 3, 7} {
		counts := make([]int, 10)
		for i := 1; i <= n; i++ {
			s, err := ParseShard(Shard{i, n}.String())
			require.NoError(t, err)
			for k := range counts {
				if s.Holds(k) {
					counts[k]++
				}
			}
		}
		for k, c := range counts {
			assert.Equal(t, 1, c, "unit %d of 10 with %d shards", k, n)
		}
	}
	for _, bad := range []string{"0/3", "4/3", "1/0", "x/2", "3"} {
		_, err := ParseShard(bad)
		assert.Error(t, err, bad)
	}
}

func TestShardFromEnv(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		total int
		want  Shard
		ok    bool
		err   string
	}{
		{name: "none", env: nil},
		{name: "explicit", env: map[string]string{"MODMATRIX_SHARD": "2/5"}, want: Shard{2, 5}, ok: true},
		{name: "gitlab", env: map[string]string{"CI_NODE_INDEX": "3", "CI_NODE_TOTAL": "4"}, want: Shard{3, 4}, ok: true},
		{name: "kubernetes", env: map[string]string{"JOB_COMPLETION_INDEX": "0"}, total: 3, want: Shard{1, 3}, ok: true},
		{name: "kubernetes env total", env: map[string]string{"JOB_COMPLETION_INDEX": "2", "MODMATRIX_SHARD_TOTAL": "3"}, want: Shard{3, 3}, ok: true},
		{name: "kubernetes without total", env: map[string]string{"JOB_COMPLETION_INDEX": "2"}, ok: true, err: "needs a shard total"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, ok, err := ShardFromEnv(func(k string) string { return tc.env[k] }, tc.total)
			assert.Equal(t, tc.ok, ok)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, s)
		})
	}
}

// TestIDIgnoresLeftoverGeneratedFile: a --module run's default scenario
// lives under OUT; what an earlier run left there must not change the ID,
// or shards of one matrix written into reused folders refuse to merge.
func TestIDIgnoresLeftoverGeneratedFile(t *testing.T) {
	out := t.TempDir()
	base := filepath.Join(t.TempDir(), "base.config")
	require.NoError(t, os.WriteFile(base, []byte("CONFIG_64BIT=y\n"), 0o644))
	file := filepath.Join(out, "generated", "mydriver", "scenario.yaml")
	m := &Matrix{
		base:      &kconfig.Fragment{Path: base},
		scenarios: []*scenario.Scenario{{Name: "mydriver", File: file}},
		generated: []generated{{file: file, text: []byte("steps: [{load: mydriver}]\n")}},
	}
	fresh := m.ID()
	require.NoError(t, os.MkdirAll(filepath.Dir(file), 0o755))
	require.NoError(t, os.WriteFile(file, []byte("# an earlier run's, edited by hand\nsteps: []\n"), 0o644))
	assert.Equal(t, fresh, m.ID())
	m.generated[0].text = []byte("steps: [{load: other}]\n")
	assert.NotEqual(t, fresh, m.ID(), "the scenario itself still counts")
}
