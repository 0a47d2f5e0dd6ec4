package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"regexp"
	"slices"
	"testing"

	"go.uber.org/goleak"
)

var update = flag.Bool("update", false, "rewrite steadfast-ticker.json with the generator's output")

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// The committed dashboard is what the generator writes: nobody edits the
// JSON by hand, and nobody forgets to regenerate it.
func TestCommittedJSONIsGenerated(t *testing.T) {
	want, err := render()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("steadfast-ticker.json", want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("steadfast-ticker.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("steadfast-ticker.json differs from the generator's output; run `go run .` in deploy/grafana (or go test -update) and commit it")
	}
}

type panel struct {
	Type        string `json:"type"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Datasource  *struct {
		UID string `json:"uid"`
	} `json:"datasource"`
	GridPos struct{ X, Y, W, H int } `json:"gridPos"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

// Every panel says what it shows, reads the chosen data source, fits the
// grid, and uses only variables the dashboard defines.
func TestPanels(t *testing.T) {
	b, err := render()
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels     []panel `json:"panels"`
		Templating struct {
			List []struct {
				Name string `json:"name"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	vars := []string{"__rate_interval"} // Grafana's own
	for _, v := range d.Templating.List {
		vars = append(vars, v.Name)
	}
	if !slices.Contains(vars, "name") {
		t.Error("no variable \"name\" selects the engine")
	}
	use := regexp.MustCompile(`\$\{?(\w+)`)
	titles := map[string]bool{}
	n := 0
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		n++
		switch {
		case p.Title == "" || p.Description == "":
			t.Errorf("panel %q has no title or no description", p.Title)
		case titles[p.Title]:
			t.Errorf("two panels are titled %q", p.Title)
		case p.Datasource == nil || p.Datasource.UID != "${datasource}":
			t.Errorf("panel %q does not read the $datasource", p.Title)
		case len(p.Targets) == 0:
			t.Errorf("panel %q has no query", p.Title)
		case p.GridPos.X+p.GridPos.W > 24:
			t.Errorf("panel %q overflows the 24-column grid: %+v", p.Title, p.GridPos)
		}
		titles[p.Title] = true
		for _, q := range p.Targets {
			for _, m := range use.FindAllStringSubmatch(q.Expr, -1) {
				if !slices.Contains(vars, m[1]) {
					t.Errorf("panel %q uses $%s, which the dashboard does not define: %s", p.Title, m[1], q.Expr)
				}
			}
		}
	}
	if n < 15 {
		t.Errorf("only %d panels", n)
	}
}
