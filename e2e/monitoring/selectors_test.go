package monitoring

import (
	"slices"
	"testing"
)

func TestSelectors(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`rate(a_total{name="x", result=~"b|c"}[5m]) > 0.01`, []string{`a_total{name="x", result=~"b|c"}`}},
		{`sum without (result) (rate(a{r="}"}[1m])) / rate(b[1m])`, []string{`a{r="}"}`, "b"}},
		{`histogram_quantile(0.99, sum by (le, name) (rate(h_bucket[5m]))) > 1e3`, []string{"h_bucket"}},
		{`x == 1 or x == 2 and on () y:z == 1`, []string{"x", "x", "y:z"}},
		{"steadfast:a\n  * (b == bool 20260126)   # Republic Day, not a name\n", []string{"steadfast:a", "b"}},
		{`go_goroutines and on (job, instance) p{name="$name"}`, []string{"go_goroutines", `p{name="$name"}`}},
		{`label_replace(vector(1), "dst", "v", "src", "(.*)")`, nil},
		{`max(m offset 5m) - min_over_time(n[10m:1m])`, []string{"m", "n"}},
	} {
		var got []string
		for _, s := range selectors(tc.expr) {
			got = append(got, s.String())
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("selectors(%q) = %q, want %q", tc.expr, got, tc.want)
		}
	}
}

func TestFilters(t *testing.T) {
	for expr, want := range map[string]bool{
		`rate(a{r!="x"}[1m])`:        false,
		`rate(a[1m]) > 0`:            true,
		`a{r=~"<b>"} / b`:            false,
		`a == bool 1`:                true,
		`sum by (r) (rate(a[1m]))`:   false,
		`time() - (a{r="x"} > 0)`:    true,
		`histogram_quantile(0.5, a)`: false,
	} {
		if got := filters(expr); got != want {
			t.Errorf("filters(%q) = %v, want %v", expr, got, want)
		}
	}
}
