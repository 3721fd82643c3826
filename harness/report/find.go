package report

// Find returns the result of scenario on cell; with several kernel
// versions in the run, kernel picks one ("" takes the first).
func (r *Results) Find(kernel, cell, scenario string) (ScenarioResult, bool) {
	for _, s := range r.Results {
		if s.Cell == cell && s.Scenario == scenario && (kernel == "" || s.Kernel == kernel) {
			return s, true
		}
	}
	return ScenarioResult{}, false
}
