package modmatrix_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dlclark/regexp2/v2"
	"github.com/rhysd/actionlint"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
	batchv1 "k8s.io/api/batch/v1"
	sigsyaml "sigs.k8s.io/yaml"

	"modmatrix.dev/modmatrix/harness/kbuild"
	"modmatrix.dev/modmatrix/internal/npmfile"
)

// TestGitHubWorkflowsLint checks action.yml and the GitHub example with
// actionlint, the linter GitHub Actions users run: the example is linted
// in a project of its own where it uses this repository's action as
// ./, so actionlint also reads action.yml and checks every input the
// example passes and every required one it leaves out.
func TestGitHubWorkflowsLint(t *testing.T) {
	proj := t.TempDir()
	workflows := filepath.Join(proj, ".github", "workflows")
	require.NoError(t, os.MkdirAll(workflows, 0o755))
	// A project is a Git repository to actionlint: only then does it
	// read local actions.
	require.NoError(t, os.Mkdir(filepath.Join(proj, ".git"), 0o755))
	action, err := os.ReadFile("action.yml")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(proj, "action.yml"), action, 0o644))
	example, err := os.ReadFile("examples/github-actions.yml")
	require.NoError(t, err)
	require.Contains(t, string(example), "uses: OWNER/modmatrix@main")
	local := strings.ReplaceAll(string(example), "uses: OWNER/modmatrix@main", "uses: ./")
	file := filepath.Join(workflows, "modmatrix.yml")
	require.NoError(t, os.WriteFile(file, []byte(local), 0o644))

	var out bytes.Buffer
	linter, err := actionlint.NewLinter(&out, &actionlint.LinterOptions{WorkingDir: proj, Shellcheck: shellcheck()})
	require.NoError(t, err)
	errs, err := linter.LintFile(file, nil)
	require.NoError(t, err)
	assert.Empty(t, errs, "actionlint:\n%s", out.String())

	// The inputs are action.yml's: a misspelt one is an error.
	misspelt := filepath.Join(workflows, "misspelt.yml")
	require.NoError(t, os.WriteFile(misspelt, []byte(strings.Replace(local, "shard: ${{", "shards: ${{", 1)), 0o644))
	linter, err = actionlint.NewLinter(io.Discard, &actionlint.LinterOptions{WorkingDir: proj})
	require.NoError(t, err)
	errs, err = linter.LintFile(misspelt, nil)
	require.NoError(t, err)
	require.NotEmpty(t, errs, "the lint reads action.yml")
	assert.Contains(t, errs[0].Message, `input "shards" is not defined in action`)
}

// shellcheck is actionlint's checker of run: scripts, where installed.
func shellcheck() string {
	p, _ := exec.LookPath("shellcheck")
	return p
}

// TestActionScriptsShellcheck runs shellcheck on each run: script of
// action.yml, which actionlint does not look into (it lints workflows,
// and a composite action's steps are not a workflow's).
func TestActionScriptsShellcheck(t *testing.T) {
	sc := shellcheck()
	if sc == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("shellcheck is missing (make test-deps installs it)")
		}
		t.Skip("shellcheck is missing")
	}
	raw, err := os.ReadFile("action.yml")
	require.NoError(t, err)
	var action struct {
		Runs struct {
			Using string
			Steps []struct {
				Name, Run, Shell string
			}
		}
	}
	require.NoError(t, yaml.Unmarshal(raw, &action))
	require.Equal(t, "composite", action.Runs.Using)
	expr := regexp.MustCompile(`\$\{\{[^}]*\}\}`)
	scripts := 0
	for i, st := range action.Runs.Steps {
		if st.Run == "" {
			continue
		}
		scripts++
		require.Equal(t, "bash", st.Shell, "step %d (%s): a composite step names its shell", i+1, st.Name)
		// An expression is text GitHub pastes in before bash runs.
		file := filepath.Join(t.TempDir(), "step.sh")
		require.NoError(t, os.WriteFile(file, []byte("#!/usr/bin/env bash\nset -eo pipefail\n"+expr.ReplaceAllString(st.Run, "EXPR")), 0o644))
		out, err := exec.Command(sc, "--shell=bash", file).CombinedOutput()
		assert.NoError(t, err, "step %d (%s):\n%s", i+1, st.Name, out)
	}
	assert.NotZero(t, scripts)
}

// gitlabSchema is GitLab's own JSON schema of .gitlab-ci.yml
// (app/assets/javascripts/editor/schema/ci.json in gitlab-org/gitlab, MIT
// licensed), as the npm package gitlab-ci-local ships it.
const (
	gitlabSchemaPackage = "gitlab-ci-local@4.50.0"
	gitlabSchemaMember  = "package/src/schema/schema.json"
)

// TestGitLabExampleSchema validates examples/gitlab-ci.yml against GitLab's
// CI schema.
func TestGitLabExampleSchema(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the schema comes from npm into the cache")
	}
	if _, err := exec.LookPath("npm"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the GitLab schema check needs npm (make test-deps installs it)")
		}
		t.Skip("the GitLab schema check needs npm")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	path, err := npmfile.Fetch(ctx, kbuild.DefaultCacheDir(), gitlabSchemaPackage, gitlabSchemaMember, "gitlab-ci.json")
	require.NoError(t, err)
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	// GitLab's patterns are JavaScript's (lookaheads): so is the engine.
	c.UseRegexpEngine(ecmaScript)
	require.NoError(t, c.AddResource("gitlab-ci.json", doc))
	schema, err := c.Compile("gitlab-ci.json")
	require.NoError(t, err)

	validate := func(text []byte) error {
		var v any
		require.NoError(t, yaml.Unmarshal(text, &v))
		// The validator takes JSON's types: round-trip the YAML through JSON.
		b, err := json.Marshal(v)
		require.NoError(t, err)
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		require.NoError(t, err)
		return schema.Validate(inst)
	}
	example, err := os.ReadFile("examples/gitlab-ci.yml")
	require.NoError(t, err)
	assert.NoError(t, validate(example))
	// The schema is strict enough to catch a misspelt key.
	assert.Error(t, validate(bytes.Replace(example, []byte("artifacts:"), []byte("artifact:"), 1)))
}

// TestKubernetesExample decodes each object of the Kubernetes example into
// the API's own batch/v1 Job type, refusing unknown fields, and checks
// that the shards are an Indexed Job that tells modmatrix their count.
func TestKubernetesExample(t *testing.T) {
	raw, err := os.ReadFile("examples/kubernetes-indexed-job.yaml")
	require.NoError(t, err)
	var jobs []batchv1.Job
	for _, doc := range strings.Split(string(raw), "\n---\n") {
		var job batchv1.Job
		require.NoError(t, sigsyaml.UnmarshalStrict([]byte(doc), &job))
		require.Equal(t, "batch/v1", job.APIVersion)
		require.Equal(t, "Job", job.Kind)
		jobs = append(jobs, job)
	}
	require.Len(t, jobs, 2, "the shards and the merge")
	shards := jobs[0].Spec
	require.NotNil(t, shards.CompletionMode)
	assert.Equal(t, batchv1.IndexedCompletion, *shards.CompletionMode)
	require.NotNil(t, shards.Completions)
	c := shards.Template.Spec.Containers[0]
	var total string
	for _, e := range c.Env {
		if e.Name == "MODMATRIX_SHARD_TOTAL" {
			total = e.Value
		}
	}
	assert.Equal(t, "3", total)
	assert.EqualValues(t, 3, *shards.Completions, "MODMATRIX_SHARD_TOTAL is the number of completions")
	assert.Contains(t, strings.Join(c.Args, " "), "modmatrix run")
	assert.Contains(t, strings.Join(jobs[1].Spec.Template.Spec.Containers[0].Args, " "), "modmatrix merge")
}

// ecmaScript compiles a schema's pattern as JSON Schema says it is: an
// ECMA-262 regular expression.
func ecmaScript(expr string) (jsonschema.Regexp, error) {
	re, err := regexp2.Compile(expr, regexp2.ECMAScript)
	if err != nil {
		return nil, err
	}
	return ecmaRegexp{re}, nil
}

type ecmaRegexp struct{ *regexp2.Regexp }

func (r ecmaRegexp) MatchString(s string) bool {
	ok, err := r.Regexp.MatchString(s)
	return ok && err == nil
}
