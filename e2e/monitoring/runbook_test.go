package monitoring

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const runbookURL = "https://github.com/steadfast-go/steadfast/blob/main/docs/runbook.md#"

// Every alert has a summary, a severity and a runbook_url that points at a
// section of docs/runbook.md named after it, and every section of the
// runbook's alerts belongs to an alert.
func TestRunbookLinks(t *testing.T) {
	rules, err := os.ReadFile(filepath.Join("..", "..", "deploy", "prometheus", "alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	book, err := os.ReadFile(filepath.Join("..", "..", "docs", "runbook.md"))
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^## (Steadfast\w+)$`).FindAllStringSubmatch(string(book), -1) {
		sections[m[1]] = true
	}
	// Each alert's text runs from its "- alert:" line to the next rule.
	blocks := regexp.MustCompile(`(?m)^\s+- (?:alert|record): `).Split(string(rules), -1)
	alerts := 0
	for _, b := range blocks[1:] {
		name, _, _ := strings.Cut(b, "\n")
		if !strings.HasPrefix(name, "Steadfast") {
			continue // a recording rule
		}
		alerts++
		for _, want := range []string{"summary: ", "severity: ", "runbook_url: " + runbookURL + strings.ToLower(name) + "\n"} {
			if !strings.Contains(b, want) {
				t.Errorf("alert %s has no %q", name, want)
			}
		}
		if !sections[name] {
			t.Errorf("docs/runbook.md has no section \"## %s\"", name)
		}
		delete(sections, name)
	}
	for s := range sections {
		t.Errorf("docs/runbook.md has a section for %s, which is no alert", s)
	}
	if alerts < 15 {
		t.Errorf("found %d alerts", alerts)
	}
	// Links inside the runbook point at its sections.
	for _, m := range regexp.MustCompile(`\]\(#([a-z0-9-]+)\)`).FindAllStringSubmatch(string(book), -1) {
		if !regexp.MustCompile(`(?mi)^## ` + m[1] + `$`).Match(book) {
			t.Errorf("docs/runbook.md links to #%s, which is no section of it", m[1])
		}
	}
}
