// Command ratio reports, from the output of several rounds of
// `go test -bench`, how one implementation's time per operation compares
// with each other implementation's, round by round.
//
// Usage:
//
//	ratio [-of name] [-key key] [file ...]
//
// The benchmarks compared are sub-benchmarks named key=name (by default
// impl=name) under the same parent, such as BenchmarkTaskmonEach/impl=errgroup-2
// and BenchmarkTaskmonEach/impl=taskmon-2. The n-th result of one
// implementation is paired with the n-th result of each other one in the same
// group: with rounds run one after the other (a loop around the test binary,
// or -count), the n-th results come from the same round, measured a few
// seconds apart, so a change of machine speed between rounds affects both
// sides of a ratio alike.
//
// For every group and every other implementation X, ratio prints the median
// over rounds of ns/op(of) ÷ ns/op(X), and a distribution-free 95% confidence
// interval of that median (order statistics of the binomial distribution, as
// benchstat uses for its medians). A ratio above 1 means that -of took longer
// than X. Files are read in order; with none, standard input.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

func main() {
	of := flag.String("of", "taskmon", "the implementation whose ns/op is divided by each other's")
	key := flag.String("key", "impl", "the name of the sub-benchmark key that names an implementation")
	flag.Parse()

	res, err := parseFiles(flag.Args(), *key)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ratio:", err)
		os.Exit(1)
	}
	rows := compare(res, *of)
	if len(rows) == 0 {
		fmt.Fprintf(os.Stderr, "ratio: no group has results for %s=%s and another implementation\n", *key, *of)
		os.Exit(1)
	}
	write(os.Stdout, *of, rows)
}

// parseFiles parses the named files in order, or standard input if there
// are none.
func parseFiles(names []string, key string) (*results, error) {
	if len(names) == 0 {
		return parse(os.Stdin, key)
	}
	var in []io.Reader
	for _, name := range names {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		in = append(in, f)
	}
	return parse(io.MultiReader(in...), key)
}

// results holds ns/op by group, then by implementation, in input order.
type results struct {
	groups []string // in order of first appearance
	impls  map[string][]string
	nsop   map[string]map[string][]float64
}

// parse reads benchmark result lines: Benchmark<name> <iterations>
// <value> <unit> ... Lines without an ns/op value, or whose name has no
// key=name element, are skipped.
func parse(r io.Reader, key string) (*results, error) {
	res := &results{impls: map[string][]string{}, nsop: map[string]map[string][]float64{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		group, impl, ok := split(f[0], key)
		if !ok {
			continue
		}
		for i := 2; i+1 < len(f); i += 2 {
			if f[i+1] != "ns/op" {
				continue
			}
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil || !(v > 0) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("line %d: bad ns/op value %q", line, f[i])
			}
			byImpl := res.nsop[group]
			if byImpl == nil {
				byImpl = map[string][]float64{}
				res.nsop[group] = byImpl
				res.groups = append(res.groups, group)
			}
			if _, seen := byImpl[impl]; !seen {
				res.impls[group] = append(res.impls[group], impl)
			}
			byImpl[impl] = append(byImpl[impl], v)
		}
	}
	return res, sc.Err()
}

// split splits a benchmark name into its group (the name without the
// key=value element, keeping the -procs suffix) and the value.
func split(name, key string) (group, impl string, ok bool) {
	procs := ""
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			name, procs = name[:i], name[i:]
		}
	}
	elems := strings.Split(name, "/")
	for i, e := range elems {
		if v, found := strings.CutPrefix(e, key+"="); found {
			rest := slices.Delete(slices.Clone(elems), i, i+1)
			return strings.Join(rest, "/") + procs, v, true
		}
	}
	return "", "", false
}

// row is one comparison: of ÷ impl within group.
type row struct {
	group, impl string
	ratios      []float64 // one per round, sorted; never empty
}

// compare pairs, in every group that has results for of, the n-th result
// of of with the n-th result of each other implementation.
func compare(res *results, of string) []row {
	var rows []row
	for _, g := range res.groups {
		base, ok := res.nsop[g][of]
		if !ok {
			continue
		}
		for _, impl := range res.impls[g] {
			if impl == of {
				continue
			}
			other := res.nsop[g][impl]
			n := min(len(base), len(other))
			r := make([]float64, n)
			for i := range n {
				r[i] = base[i] / other[i]
			}
			slices.Sort(r)
			rows = append(rows, row{g, impl, r})
		}
	}
	return rows
}

// median returns the median of sorted xs.
func median(xs []float64) float64 {
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// errTooFew says that n samples are too few for a 95% interval of the
// median: even the widest one, from the least to the greatest sample,
// covers the median with probability 1 - 2^(1-n) < 95% (n < 6).
var errTooFew = errors.New("too few rounds for a 95% interval")

// interval returns a distribution-free confidence interval, at level 95%
// or more, for the median of the population sorted xs were drawn from:
// [xs[j], xs[n-1-j]] for the largest j such that the probability that
// fewer than j+1 samples fall below the median, P(Binomial(n, 1/2) ≤ j),
// is at most 2.5%.
func interval(xs []float64) (lo, hi float64, err error) {
	n := len(xs)
	j := -1
	cdf := 0.0
	for k := 0; k < n; k++ {
		cdf += binomial(n, k) * math.Pow(0.5, float64(n))
		if cdf > 0.025 {
			break
		}
		j = k
	}
	if j < 0 {
		return 0, 0, errTooFew
	}
	return xs[j], xs[n-1-j], nil
}

// binomial returns n choose k.
func binomial(n, k int) float64 {
	c := 1.0
	for i := 1; i <= k; i++ {
		c = c * float64(n-k+i) / float64(i)
	}
	return c
}

// write prints rows as a Markdown table.
func write(w io.Writer, of string, rows []row) {
	fmt.Fprintf(w, "| benchmark | %s ÷ | rounds | median | 95%% interval |\n", of)
	fmt.Fprintln(w, "|---|---|---:|---:|---|")
	for _, r := range rows {
		ci := errTooFew.Error()
		if lo, hi, err := interval(r.ratios); err == nil {
			ci = fmt.Sprintf("%.3f – %.3f", lo, hi)
		}
		med := fmt.Sprintf("%.3f", median(r.ratios))
		fmt.Fprintf(w, "| %s | %s | %d | %s | %s |\n", r.group, r.impl, len(r.ratios), med, ci)
	}
}
