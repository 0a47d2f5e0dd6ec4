package main

import (
	"errors"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestSplit(t *testing.T) {
	for _, c := range []struct {
		name, group, impl string
		ok                bool
	}{
		{"BenchmarkTaskmonEach/impl=errgroup-2", "BenchmarkTaskmonEach-2", "errgroup", true},
		{"BenchmarkTaskmonEach/impl=taskmon+metrics", "BenchmarkTaskmonEach", "taskmon+metrics", true},
		{"BenchmarkX/impl=a/size=10-8", "BenchmarkX/size=10-8", "a", true},
		{"BenchmarkX/size=10-8", "", "", false},
		{"BenchmarkX/implementation=a-8", "", "", false},
	} {
		group, impl, ok := split(c.name, "impl")
		if group != c.group || impl != c.impl || ok != c.ok {
			t.Errorf("split(%q) = %q, %q, %v; want %q, %q, %v", c.name, group, impl, ok, c.group, c.impl, c.ok)
		}
	}
}

// Two rounds, as a loop around the test binary writes them: the n-th
// results of each implementation are paired, not pooled.
const twoRounds = `goos: linux
BenchmarkE/impl=errgroup-2   200000   400.0 ns/op   112 B/op   3 allocs/op
BenchmarkE/impl=taskmon-2    200000   440.0 ns/op   128 B/op   2 allocs/op
BenchmarkB/impl=taskmon-2    200000   250.0 ns/op
PASS
BenchmarkE/impl=errgroup-2   200000   800.0 ns/op   112 B/op   3 allocs/op
BenchmarkE/impl=taskmon-2    200000   960.0 ns/op   128 B/op   2 allocs/op
BenchmarkB/impl=taskmon-2    200000   260.0 ns/op
ok
`

func TestCompare(t *testing.T) {
	res, err := parse(strings.NewReader(twoRounds), "impl")
	if err != nil {
		t.Fatal(err)
	}
	rows := compare(res, "taskmon")
	if len(rows) != 1 {
		t.Fatalf("got %d rows, want 1 (group B has no other implementation): %+v", len(rows), rows)
	}
	r := rows[0]
	if r.group != "BenchmarkE-2" || r.impl != "errgroup" {
		t.Fatalf("row %s %s, want BenchmarkE-2 errgroup", r.group, r.impl)
	}
	// Paired: 440/400 and 960/800. Pooled medians would give 700/600.
	if len(r.ratios) != 2 || r.ratios[0] != 1.1 || r.ratios[1] != 1.2 {
		t.Fatalf("ratios %v, want [1.1 1.2]", r.ratios)
	}
	if m := median(r.ratios); m != 1.15 {
		t.Fatalf("median %v, want 1.15", m)
	}
}

func TestParseRefusesBadValue(t *testing.T) {
	_, err := parse(strings.NewReader("BenchmarkE/impl=a-2 10 NaN ns/op\n"), "impl")
	if err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("err = %v, want one naming line 1", err)
	}
}

func TestInterval(t *testing.T) {
	seq := func(n int) []float64 {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = float64(i + 1)
		}
		return xs
	}
	// The order statistics of the binomial tables: for n = 6 the extremes
	// (coverage 1 - 2/64), for n = 10 the 2nd and 9th, for n = 20 the 6th
	// and 15th.
	for _, c := range []struct {
		n      int
		lo, hi float64
	}{{6, 1, 6}, {10, 2, 9}, {20, 6, 15}} {
		lo, hi, err := interval(seq(c.n))
		if err != nil || lo != c.lo || hi != c.hi {
			t.Errorf("interval of 1..%d = %v, %v, %v; want %v, %v", c.n, lo, hi, err, c.lo, c.hi)
		}
	}
	if _, _, err := interval(seq(5)); !errors.Is(err, errTooFew) {
		t.Errorf("interval of 5 samples: err = %v, want errTooFew", err)
	}
}
