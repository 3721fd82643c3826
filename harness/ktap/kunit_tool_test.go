package ktap

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/kbuild"
	"modmatrix.dev/modmatrix/harness/ksrc"
)

// kunitToolTestData finds tools/testing/kunit/test_data in Debian's 6.12
// source, unpacked into the cache as a run does (once, under its lock), so
// the test does not depend on what an earlier run left there.
func kunitToolTestData(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: reads the kernel source unpacked into the cache")
	}
	src, err := ksrc.Debian(context.Background(), kbuild.DefaultCacheDir(), "6.12")
	if err != nil && os.Getenv("CI") != "true" {
		t.Skip(err)
	}
	require.NoError(t, err, "CI must check the parser on the kernel's own logs")
	return filepath.Join(src.Dir, "tools", "testing", "kunit", "test_data")
}

// TestKunitToolTestData parses the logs the kernel's own parser is tested
// on (kunit_tool_test.py, read from the kernel source at test time) and
// checks the outcomes kunit_tool_test.py asserts for them.
func TestKunitToolTestData(t *testing.T) {
	dir := kunitToolTestData(t)
	tests := []struct {
		file   string
		status Status
		counts *Counts // nil: not checked
		errors int     // -1: not checked
		first  string  // name of the first suite, "" not checked
	}{
		{file: "test_is_test_passed-all_passed.log", status: Pass, errors: 0},
		{file: "test_is_test_passed-all_passed_nested.log", status: Pass, errors: 0},
		{file: "test_is_test_passed-kselftest.log", status: Pass, errors: 0},
		{file: "test_is_test_passed-failure.log", status: Fail, errors: 0},
		{file: "test_is_test_passed-missing_plan.log", status: Pass, counts: &Counts{Passed: 10}},
		{file: "test_is_test_passed-no_tests_run_with_header.log", status: NoTests, errors: 1},
		{file: "test_is_test_passed-no_tests_no_plan.log", status: Pass, counts: &Counts{Passed: 1, Errors: 1}},
		{file: "test_skip_tests.log", status: Pass, counts: &Counts{Passed: 4, Skipped: 1}},
		{file: "test_skip_all_tests.log", status: Skip, counts: &Counts{Skipped: 5}},
		{file: "test_strip_hyphen.log", status: Pass, errors: -1, first: "sysctl_test"},
		{file: "test_config_printk_time.log", status: Pass, errors: 0, first: "kunit-resource-test"},
		{file: "test_pound_sign.log", status: Pass, errors: 0, first: "kunit-resource-test"},
		{file: "test_pound_no_prefix.log", status: Pass, errors: 0, first: "kunit-resource-test"},
		{file: "test_kernel_panic_interrupt.log", status: Crash, errors: -1, first: "kunit-resource-test"},
		{file: "test_parse_ktap_output.log", status: Pass, counts: &Counts{Passed: 3}, first: "suite"},
		{file: "test_parse_attributes.log", status: Pass, counts: &Counts{Passed: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, tc.file))
			require.NoError(t, err)
			root, found := Parse(Lines(strings.Split(strings.TrimRight(string(raw), "\n"), "\n")...))
			require.True(t, found)
			assert.Equal(t, tc.status, root.Status, "errors: %v", allErrors(root))
			if tc.counts != nil {
				assert.Equal(t, *tc.counts, root.Counts, "errors: %v", allErrors(root))
			}
			if tc.errors >= 0 && tc.counts == nil {
				assert.Equal(t, tc.errors, root.Counts.Errors, "errors: %v", allErrors(root))
			}
			if tc.first != "" {
				require.NotEmpty(t, root.Subtests)
				assert.Equal(t, tc.first, root.Subtests[0].Name)
			}
		})
	}
}

func allErrors(t *Test) []string {
	out := append([]string(nil), t.Errors...)
	for _, s := range t.Subtests {
		for _, e := range allErrors(s) {
			out = append(out, s.Name+": "+e)
		}
	}
	return out
}
