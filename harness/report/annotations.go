package report

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"modmatrix.dev/modmatrix/harness/verdict"
)

// GitHubAnnotationLimit is how many error annotations GitHub shows of one
// step (and 50 of a job); the rest are dropped without a word.
const GitHubAnnotationLimit = 10

// WriteGitHubAnnotations writes GitHub Actions workflow commands that put
// what did not pass on the lines that expected otherwise: an error per
// scenario at its scenario file's line (the first step that went wrong;
// the expect block whose check failed, where one did), and one per cell
// that could not run instead of one per scenario of it. Files outside
// workspace (the built-in scenarios of an installed binary) are named in
// the title only. After limit errors a notice says how many more there
// are and where to read them.
func (r *Results) WriteGitHubAnnotations(w io.Writer, workspace string, limit int) error {
	type annotation struct {
		file, title, message string
		line                 int
	}
	var all []annotation
	broken := map[[2]string]bool{}
	for _, c := range r.Cells {
		if c.Error != "" {
			broken[[2]string{c.Kernel, c.Cell}] = true
			all = append(all, annotation{title: fmt.Sprintf("%s %s could not run", c.Kernel, c.Cell), message: firstLines(c.Error, 5)})
		}
	}
	files := map[string]string{}
	for _, sc := range r.Scenarios {
		files[sc.Name] = sc.File
	}
	for _, s := range r.Results {
		if s.Verdict == verdict.Pass || s.Verdict == verdict.Skip || broken[[2]string{s.Kernel, s.Cell}] {
			continue
		}
		a := annotation{title: fmt.Sprintf("%s on %s %s (%s)", s.Scenario, s.Kernel, s.Cell, s.Verdict), message: firstLines(s.Reason, 5)}
		file := files[s.Scenario]
		if rel, ok := within(workspace, file); ok {
			a.file, a.line = rel, wrongLine(s.Steps)
		} else if file != "" {
			a.title += " in " + filepath.Base(filepath.Dir(file)) + "/" + filepath.Base(file)
		}
		all = append(all, a)
	}
	var b strings.Builder
	for i, a := range all {
		if i == limit {
			fmt.Fprintf(&b, "::notice title=modmatrix::%s\n", escapeData(fmt.Sprintf(
				"%d more did not pass: the job summary (--summary-md) and results.json list them all", len(all)-limit)))
			break
		}
		props := []string{}
		if a.file != "" {
			props = append(props, "file="+escapeProperty(a.file))
			if a.line > 0 {
				props = append(props, fmt.Sprintf("line=%d", a.line))
			}
		}
		props = append(props, "title="+escapeProperty(a.title))
		fmt.Fprintf(&b, "::error %s::%s\n", strings.Join(props, ","), escapeData(a.message))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// wrongLine is the line of the first step that went wrong: the failed
// check's expect block, else the step's own line; 0 when none says.
func wrongLine(steps []StepRecord) int {
	for _, st := range steps {
		if len(st.Mismatches) > 0 && st.Mismatches[0].Line > 0 {
			return st.Mismatches[0].Line
		}
		if len(st.Mismatches) > 0 || st.Error != "" || st.Hung || st.Died {
			return st.Line
		}
	}
	return 0
}

// within is path relative to dir, when it lies inside it.
func within(dir, path string) (string, bool) {
	if dir == "" || path == "" {
		return "", false
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", false
	}
	rel, err := filepath.Rel(dir, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", false
	}
	return rel, true
}

// escapeData and escapeProperty are the workflow commands' own escapes.
var (
	escapeData     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace
	escapeProperty = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace
)
