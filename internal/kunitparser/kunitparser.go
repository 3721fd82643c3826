// Package kunitparser reads a KTAP file with the kernel's own parser,
// tools/testing/kunit/kunit_parser.py from a kernel source tree, for tests:
// what modmatrix writes as KTAP must be what kernel CI tooling reads.
//
// The parser is run, not copied: a short Python program imports it from
// the tree and prints its verdict on the file as JSON.
package kunitparser

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"modmatrix.dev/modmatrix/harness/ksrc"
)

// Result is what kunit_parser made of a file: the top-level status
// (TestStatus's name: SUCCESS, FAILURE, TEST_CRASHED, SKIPPED, NO_TESTS,
// FAILURE_TO_PARSE_TESTS), its TestCounts, and every error it recorded.
type Result struct {
	Status  string   `json:"status"`
	Passed  int      `json:"passed"`
	Failed  int      `json:"failed"`
	Crashed int      `json:"crashed"`
	Skipped int      `json:"skipped"`
	Errors  []string `json:"errors"`
}

// program parses argv[2] with the kunit_parser in directory argv[1]. Its
// summary goes to stderr; stdout carries only the JSON.
const program = `
import json, sys
sys.path.insert(0, sys.argv[1])
import kunit_parser, kunit_printer
kunit_printer.stdout = kunit_printer.Printer(sys.stderr)
kunit_parser.stdout = kunit_printer.stdout
errors = []
record = kunit_parser.Test.add_error
def add_error(test, message):
    errors.append("%s: %s" % (test.name, message))
    record(test, message)
kunit_parser.Test.add_error = add_error
with open(sys.argv[2]) as f:
    test = kunit_parser.parse_run_tests(f.readlines())
c = test.counts
print(json.dumps(dict(status=test.status.name, passed=c.passed, failed=c.failed,
    crashed=c.crashed, skipped=c.skipped, errors=errors)))
`

// Parse runs the kernel tree src's kunit_parser on file.
func Parse(ctx context.Context, src, file string) (Result, error) {
	dir := filepath.Join(src, "tools", "testing", "kunit")
	cmd := exec.CommandContext(ctx, "python3", "-c", program, dir, file)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return Result{}, fmt.Errorf("kunit_parser on %s: %w\n%s", file, err, stderr.String())
	}
	var r Result
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		return Result{}, fmt.Errorf("kunit_parser on %s: %w: %s", file, err, stdout.String())
	}
	return r, nil
}

// Check is the tests' one way to read a KTAP file with the kernel's
// parser, from Debian's 6.12 source unpacked into cacheDir as a run does:
// skipped under -short and where the source or python3 is missing, except
// under CI=true, where that fails the test.
func Check(t testing.TB, cacheDir, file string) Result {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: kunit_parser is read from the kernel source unpacked into the cache")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	src, err := ksrc.Debian(ctx, cacheDir, "6.12")
	if err == nil {
		_, err = exec.LookPath("python3")
	}
	if err != nil && os.Getenv("CI") != "true" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatalf("CI must check KTAP with the kernel's own parser: %v", err)
	}
	r, err := Parse(ctx, src.Dir, file)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
