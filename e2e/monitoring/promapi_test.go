package monitoring

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startPrometheus runs Prometheus on a free loopback port with a temporary
// storage, scraping target every second and evaluating rules (the text of
// a rule file) every second. It returns the API's base URL once ready.
func startPrometheus(t *testing.T, target, rules string) promAPI {
	t.Helper()
	bin := need(t, "prometheus", "prometheus")
	dir := t.TempDir()
	config := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - rules.yml
scrape_configs:
  - job_name: steadfast
    static_configs:
      - targets: [%q]
`, target)
	for name, text := range map[string]string{"prometheus.yml": config, "rules.yml": rules} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	addr := freeAddr(t)
	p := start(t, "prometheus", syscall.SIGTERM, bin,
		"--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--log.level=warn")
	api := promAPI{t: t, base: "http://" + addr}
	err := poll(60*time.Second, func() error {
		p.exited(t)
		resp, err := http.Get(api.base + "/-/ready")
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/-/ready: %s", resp.Status)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("prometheus on %s is not ready: %v", addr, err)
	}
	return api
}

// promAPI calls Prometheus's HTTP API.
type promAPI struct {
	t    *testing.T
	base string
}

// call GETs path with the query form and decodes the response's data into out, or
// returns the API's error.
func (p promAPI) call(path string, form url.Values, out any) error {
	c := http.Client{Timeout: 90 * time.Second}
	resp, err := c.Get(p.base + path + "?" + form.Encode())
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	var r struct {
		Status    string          `json:"status"`
		Data      json.RawMessage `json:"data"`
		ErrorType string          `json:"errorType"`
		Error     string          `json:"error"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("%s: %s: %.200s", path, resp.Status, body)
	}
	if r.Status != "success" {
		return fmt.Errorf("%s: %s: %s", path, r.ErrorType, r.Error)
	}
	return json.Unmarshal(r.Data, out)
}

// sample is one series of a query's result.
type sample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
	Values [][2]any          `json:"values"`
}

// query evaluates expr now and returns its series (one for a scalar).
func (p promAPI) query(expr string) ([]sample, error) {
	var r struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := p.call("/api/v1/query", url.Values{"query": {expr}}, &r); err != nil {
		return nil, err
	}
	switch r.ResultType {
	case "vector", "matrix":
		var s []sample
		return s, json.Unmarshal(r.Result, &s)
	case "scalar", "string":
		return []sample{{}}, nil
	}
	return nil, fmt.Errorf("unknown result type %q", r.ResultType)
}

// queryRange evaluates expr at every step from start to end and returns
// its series.
func (p promAPI) queryRange(expr string, start, end time.Time, step time.Duration) ([]sample, error) {
	var r struct {
		Result []sample `json:"result"`
	}
	err := p.call("/api/v1/query_range", url.Values{"query": {expr},
		"start": {fmt.Sprint(start.Unix())}, "end": {fmt.Sprint(end.Unix())}, "step": {fmt.Sprint(step.Seconds())}}, &r)
	return r.Result, err
}

// rule is a rule as Prometheus loaded and last evaluated it.
type rule struct {
	Group     string `json:"-"`
	Name      string `json:"name"`
	Query     string `json:"query"`
	Type      string `json:"type"` // "alerting" or "recording"
	Health    string `json:"health"`
	LastError string `json:"lastError"`
}

func (p promAPI) rules() ([]rule, error) {
	var r struct {
		Groups []struct {
			Name  string `json:"name"`
			Rules []rule `json:"rules"`
		} `json:"groups"`
	}
	if err := p.call("/api/v1/rules", nil, &r); err != nil {
		return nil, err
	}
	var out []rule
	for _, g := range r.Groups {
		for _, rl := range g.Rules {
			rl.Group = g.Name
			out = append(out, rl)
		}
	}
	return out, nil
}

// alert is a pending or firing alert.
type alert struct {
	Labels map[string]string `json:"labels"`
	State  string            `json:"state"`
}

func (p promAPI) alerts() ([]alert, error) {
	var r struct {
		Alerts []alert `json:"alerts"`
	}
	return r.Alerts, p.call("/api/v1/alerts", nil, &r)
}

// seriesNames returns the metric names of the series that match sel in the
// last 5 minutes.
func (p promAPI) seriesNames(sel string) (map[string]bool, error) {
	var r []map[string]string
	err := p.call("/api/v1/series", url.Values{"match[]": {sel},
		"start": {fmt.Sprint(time.Now().Add(-5 * time.Minute).Unix())}}, &r)
	names := map[string]bool{}
	for _, s := range r {
		names[s["__name__"]] = true
	}
	return names, err
}

// selector is a vector selector in a PromQL expression: a metric name and
// its label matchers with their braces ("" when none).
type selector struct{ name, matchers string }

func (s selector) String() string { return s.name + s.matchers }

var (
	// grouping keywords are followed by a list of label names.
	grouping = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true,
		"group_left": true, "group_right": true}
	// words are PromQL's operators, modifiers and aggregations, which may
	// stand without parentheses right after them.
	words = map[string]bool{"and": true, "or": true, "unless": true, "bool": true, "offset": true,
		"inf": true, "nan": true, "atan2": true, "sum": true, "min": true, "max": true, "avg": true,
		"group": true, "stddev": true, "stdvar": true, "count": true, "count_values": true,
		"bottomk": true, "topk": true, "quantile": true, "limitk": true, "limit_ratio": true}
)

func identStart(c byte) bool {
	return c == '_' || c == ':' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func identChar(c byte) bool { return identStart(c) || '0' <= c && c <= '9' }

// selectors returns the vector selectors of a PromQL expression: every name
// that is not a function, a keyword or a label, with its matchers. It
// skips comments, strings, ranges and label lists.
func selectors(expr string) []selector {
	var out []selector
	skipTo := func(i int, end byte) int {
		for i++; i < len(expr) && expr[i] != end; i++ {
			if expr[i] == '\\' && end != '\n' {
				i++
			}
		}
		return i + 1
	}
	// skipBraces returns the index after the "}" that closes the "{" at i,
	// past any quoted "}".
	skipBraces := func(i int) int {
		for i++; i < len(expr) && expr[i] != '}'; i++ {
			if q := expr[i]; q == '"' || q == '\'' || q == '`' {
				i = skipTo(i, q) - 1
			}
		}
		return i + 1
	}
	skipSpace := func(i int) int {
		for i < len(expr) && strings.IndexByte(" \t\r\n", expr[i]) >= 0 {
			i++
		}
		return i
	}
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '#':
			i = skipTo(i, '\n')
		case c == '"' || c == '\'' || c == '`':
			i = skipTo(i, c)
		case c == '{':
			i = skipBraces(i)
		case c == '[':
			i = skipTo(i, ']')
		case identStart(c) && (i == 0 || !identChar(expr[i-1]) && expr[i-1] != '.'):
			j := i
			for j < len(expr) && identChar(expr[j]) {
				j++
			}
			word, k := expr[i:j], skipSpace(j)
			switch {
			case grouping[word] && k < len(expr) && expr[k] == '(':
				i = skipTo(k, ')')
			case words[word] || grouping[word]:
				i = j
			case k < len(expr) && expr[k] == '(': // a function
				i = j
			case k < len(expr) && expr[k] == '{':
				e := min(skipBraces(k), len(expr))
				out = append(out, selector{word, expr[k:e]})
				i = e
			default:
				out = append(out, selector{word, ""})
				i = j
			}
		default:
			i++
		}
	}
	return out
}

var comparison = regexp.MustCompile(`[<>]|==|!=`)

// filters reports whether expr compares without bool at some point, so
// that an empty result can be right: "x > 0" when nothing is above zero.
func filters(expr string) bool {
	stripped := regexp.MustCompile(`\{[^}]*\}|"[^"]*"`).ReplaceAllString(expr, "")
	return comparison.MatchString(stripped)
}
