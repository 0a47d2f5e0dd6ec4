package monitoring

import (
	"encoding/json"
	"fmt"
	"iter"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The values the dashboard's variables take for the example's metrics.
var variables = map[string]string{
	"$__rate_interval": "10s", // ten 1 s scrapes
	"$name":            "example",
	"$publisher":       "example",
	"$kite":            "example",
	"$store":           "mock/state",
	"$page":            "example",
}

// expression is one PromQL expression to check, and where it comes from.
type expression struct {
	from  string // "rule X" or "panel X"
	expr  string
	panel bool
}

// TestPrometheus runs the rules and the dashboard's queries in a real
// Prometheus scraping examples/ticker, then kills and restarts its Redis.
func TestPrometheus(t *testing.T) {
	need(t, "prometheus", "prometheus")
	began := time.Now()
	rules, err := os.ReadFile(filepath.Join("..", "..", "deploy", "prometheus", "alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	redis := startRedis(t)
	example := startExample(t, redis.addr)
	prom := startPrometheus(t, example, shortFor(string(rules)))
	t.Logf("redis-server %s, examples/ticker %s, prometheus %s: up after %v",
		redis.addr, example, prom.base, time.Since(began).Round(time.Millisecond))

	// Ten scrapes, so that rates over 10 s have their samples.
	err = poll(60*time.Second, func() error {
		s, err := prom.query(`count_over_time(steadfast_ticker_pending{job="steadfast"}[15s]) >= 11`)
		if err == nil && len(s) == 0 {
			err = errNotYet
		}
		return err
	})
	if err != nil {
		t.Fatalf("waiting for ten scrapes of examples/ticker: %v", err)
	}

	loaded := checkRules(t, prom)
	exposed := exposedNames(t, prom, loaded)
	exprs := dashboardExpressions(t)
	for _, r := range loaded {
		exprs = append(exprs, expression{from: r.Type + " rule " + r.Name, expr: r.Query})
	}
	checkExpressions(t, prom, exprs, exposed)
	checkCalendar(t, prom, loaded)
	if t.Failed() {
		return
	}
	breakerAlert(t, prom, redis)
	t.Logf("%v in all", time.Since(began).Round(time.Millisecond))
}

// shortFor gives every alert of a rule file a "for" of 1 s.
func shortFor(rules string) string {
	return regexp.MustCompile(`(?m)^(\s+)for: \S+`).ReplaceAllString(rules, "${1}for: 1s")
}

// checkRules waits until Prometheus has evaluated every rule of the file,
// and wants each healthy: loaded and evaluated without error.
func checkRules(t *testing.T, prom promAPI) []rule {
	t.Helper()
	var loaded []rule
	err := poll(30*time.Second, func() error {
		var err error
		if loaded, err = prom.rules(); err != nil {
			return err
		}
		for _, r := range loaded {
			if r.Health != "ok" {
				return fmt.Errorf("rule %s: health %q, last error %q", r.Name, r.Health, r.LastError)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded) < 15 {
		t.Fatalf("prometheus loaded %d rules", len(loaded))
	}
	return loaded
}

// exposedNames returns the metric names the scrape exposed, the recording
// rules' names and the Kite source's (see kiteMetricNames), and checks the
// allowlist of names not yet exposed.
func exposedNames(t *testing.T, prom promAPI, loaded []rule) map[string]string {
	t.Helper()
	scraped, err := prom.seriesNames(`{job="steadfast"}`)
	if err != nil {
		t.Fatal(err)
	}
	kite, err := kiteMetricNames()
	if err != nil {
		t.Fatal(err)
	}
	exposed := map[string]string{}
	for n := range kite {
		exposed[n] = "kite"
	}
	for n := range scraped {
		exposed[n] = "scrape"
	}
	for _, r := range loaded {
		if r.Type == "recording" {
			exposed[r.Name] = "scrape" // evaluated like a scraped series
		}
	}
	t.Logf("the scrape exposed %d metric names; Kite's source %d more", len(scraped), len(kite))
	return exposed
}

// dashboardExpressions returns every query of the committed dashboard with
// its variables replaced by the example's values.
func dashboardExpressions(t *testing.T) []expression {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "deploy", "grafana", "steadfast-ticker.json"))
	if err != nil {
		t.Fatal(err)
	}
	type panel struct {
		Title   string
		Panels  []json.RawMessage
		Targets []struct{ Expr string }
	}
	var d struct{ Panels []json.RawMessage }
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	var pairs []string
	for _, v := range slices.Sorted(maps.Keys(variables)) {
		pairs = append(pairs, v, variables[v])
	}
	substitute := strings.NewReplacer(pairs...)
	var out []expression
	var walk func([]json.RawMessage)
	walk = func(raw []json.RawMessage) {
		for _, r := range raw {
			var p panel
			if err := json.Unmarshal(r, &p); err != nil {
				t.Fatal(err)
			}
			walk(p.Panels) // a collapsed row holds its panels
			for _, q := range p.Targets {
				e := substitute.Replace(q.Expr)
				if strings.Contains(e, "$") {
					t.Errorf("panel %q: a variable the test does not know: %s", p.Title, q.Expr)
				}
				out = append(out, expression{from: "panel " + p.Title, expr: e, panel: true})
			}
		}
	}
	walk(d.Panels)
	if len(out) < 30 {
		t.Fatalf("the dashboard has %d queries", len(out))
	}
	return out
}

// checkExpressions evaluates every expression through the HTTP API. Each
// must evaluate without error and name only exposed metrics; each of its
// selectors whose metric the scrape exposed must return data, and so must a
// panel's whole query unless it filters with a comparison.
func checkExpressions(t *testing.T, prom promAPI, exprs []expression, exposed map[string]string) {
	t.Helper()
	checked := map[string]bool{}
	var withData, skipped int
	for _, e := range exprs {
		res, err := prom.query(e.expr)
		if err != nil {
			t.Errorf("%s does not evaluate: %v\n%s", e.from, err, e.expr)
			continue
		}
		complete := true
		for _, s := range selectors(e.expr) {
			switch {
			case exposed[s.name] == "":
				t.Errorf("%s names %s, which the scrape did not expose", e.from, s.name)
				complete = false
				continue
			case exposed[s.name] != "scrape":
				complete = false
				continue
			case checked[s.String()]:
				continue
			}
			checked[s.String()] = true
			got, err := prom.query(s.String())
			if err != nil || len(got) == 0 {
				t.Errorf("%s: %s returns no data (%v)", e.from, s, err)
			}
		}
		switch {
		case !complete:
			skipped++
		case e.panel && !filters(e.expr) && len(res) == 0:
			t.Errorf("%s returns no data:\n%s", e.from, e.expr)
		case len(res) > 0:
			withData++
		}
	}
	t.Logf("%d expressions evaluated: %d returned data, %d name a metric this run cannot show (Kite, or not yet exposed); %d selectors returned data",
		len(exprs), withData, skipped, len(checked))
}

// checkCalendar compares the market-hours rules with the library's NSE
// calendar at every 5 minutes of 2026, 09:15 and 15:30 IST included.
// Prometheus evaluates a recording rule only as time passes, so the test
// sends the rules' expressions with the recording rules they use inlined.
// The date arithmetic, inlined sixteen times, is slow to evaluate at every
// step of a year, so it is checked once a day, the session hours every 5
// minutes, and the whole rule every 5 minutes of a week with a weekend and
// a holiday.
func checkCalendar(t *testing.T, prom promAPI, loaded []rule) {
	t.Helper()
	q := map[string]string{}
	for _, r := range loaded {
		q[r.Name] = r.Query
	}
	for _, name := range []string{"steadfast:nse_session_open", "steadfast:nse_trading_day", "steadfast:nse_ist_date"} {
		if q[name] == "" {
			t.Fatalf("no recording rule %s", name)
		}
	}
	day := strings.ReplaceAll(q["steadfast:nse_trading_day"], "steadfast:nse_ist_date", "("+q["steadfast:nse_ist_date"]+")")
	hours := strings.ReplaceAll(q["steadfast:nse_session_open"], "steadfast:nse_trading_day", "vector(1)")
	session := strings.ReplaceAll(q["steadfast:nse_session_open"], "steadfast:nse_trading_day", "("+day+")")
	ist := time.FixedZone("IST", 19800)

	// Each date of 2026, at 00:00 UTC (05:30 IST the same date).
	tradingDay := map[string]bool{}
	var trading int
	for at, v := range evalRange(t, prom, day, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 365, 24*time.Hour) {
		date := at.In(ist)
		want := nseOpen(time.Date(date.Year(), date.Month(), date.Day(), 12, 0, 0, 0, ist))
		if v != want {
			t.Errorf("%s: steadfast:nse_trading_day says %v, the library %v", date.Format("Mon 2006-01-02"), v, want)
		}
		tradingDay[date.Format(time.DateOnly)] = v
		if v {
			trading++
		}
	}
	// Every 5 minutes of 2026: trading day × session hours, as the rule
	// multiplies them.
	var points, open int
	for m := time.January; m <= time.December; m++ {
		from := time.Date(2026, m, 1, 0, 0, 0, 0, time.UTC)
		n := int(from.AddDate(0, 1, 0).Sub(from) / (5 * time.Minute))
		for at, inHours := range evalRange(t, prom, hours, from, n, 5*time.Minute) {
			got, want := inHours && tradingDay[at.In(ist).Format(time.DateOnly)], nseOpen(at)
			if got != want {
				t.Errorf("at %s: the rules say open=%v, the library %v", at.In(ist), got, want)
			}
			points++
			if got {
				open++
			}
		}
	}
	// The whole rule from Friday 23 January to Tuesday 27 January (Monday
	// the 26th is Republic Day).
	var whole int
	for at, v := range evalRange(t, prom, session, time.Date(2026, 1, 23, 0, 0, 0, 0, ist), 5*288, 5*time.Minute) {
		if want := nseOpen(at); v != want {
			t.Errorf("at %s: steadfast:nse_session_open says %v, the library %v", at.In(ist), v, want)
		}
		whole++
	}
	t.Logf("market-hours rules vs the library's calendar: %d trading days in 2026, %d of %d 5-minute instants open, %d instants of the whole rule",
		trading, open, points, whole)
	if trading != 246 || points != 365*288 || whole != 5*288 {
		t.Errorf("compared %d trading days (want 246: 2026 has 245 weekdays open and one Sunday session), %d instants (want %d), %d of the whole rule (want %d)",
			trading, points, 365*288, whole, 5*288)
	}
}

// evalRange evaluates a 0/1 expression at n instants step apart from start
// and yields each instant and whether the value was 1.
func evalRange(t *testing.T, prom promAPI, expr string, start time.Time, n int, step time.Duration) iter.Seq2[time.Time, bool] {
	t.Helper()
	res, err := prom.queryRange(expr, start, start.Add(time.Duration(n-1)*step), step)
	if err != nil || len(res) != 1 || len(res[0].Values) != n {
		var got int
		if len(res) == 1 {
			got = len(res[0].Values)
		}
		t.Fatalf("evaluating %d instants from %s: %d series, %d values, %v\n%.300s", n, start, len(res), got, err, expr)
	}
	return func(yield func(time.Time, bool) bool) {
		for _, v := range res[0].Values {
			if !yield(time.Unix(int64(v[0].(float64)), 0), v[1] == "1") {
				return
			}
		}
	}
}

// breakerAlert kills redis-server, waits for SteadfastPublisherCircuitOpen
// to fire, starts redis-server again and waits for the alert to resolve.
func breakerAlert(t *testing.T, prom promAPI, redis *redisServer) {
	t.Helper()
	const name = "SteadfastPublisherCircuitOpen"
	state := func() (string, error) {
		as, err := prom.alerts()
		for _, a := range as {
			if a.Labels["alertname"] == name && a.Labels["name"] == "example" {
				return a.State, err
			}
		}
		return "inactive", err
	}
	if s, err := state(); err != nil || s != "inactive" {
		t.Fatalf("%s is %s before any fault (%v)", name, s, err)
	}

	killed := time.Now()
	redis.kill()
	err := poll(90*time.Second, func() error {
		s, err := state()
		if err == nil && s != "firing" {
			err = fmt.Errorf("%s is %s: %w", name, s, errNotYet)
		}
		return err
	})
	if err != nil {
		t.Fatalf("after redis-server was killed: %v", err)
	}
	t.Logf("%s fired %v after redis-server was killed", name, time.Since(killed).Round(time.Millisecond))

	restarted := time.Now()
	redis.start()
	// The breaker probes after its open period (the example's engine
	// keeps the default, 60 s on this branch) and closes on success.
	err = poll(150*time.Second, func() error {
		s, err := state()
		if err == nil && s != "inactive" {
			err = fmt.Errorf("%s is %s: %w", name, s, errNotYet)
		}
		return err
	})
	if err != nil {
		t.Fatalf("after redis-server was restarted: %v", err)
	}
	t.Logf("%s resolved %v after redis-server was restarted", name, time.Since(restarted).Round(time.Millisecond))
}
