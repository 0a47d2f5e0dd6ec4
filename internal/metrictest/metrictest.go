// Package metrictest reads metric values back from a Prometheus registry in
// tests, so that each package can assert what it exports without repeating
// the gathering code.
//
// It reads the gathered families through github.com/prometheus/client_model,
// the data model client_golang itself is built on (and requires), so the
// dependency adds no module to the build; only tests import this package.
package metrictest

import (
	"fmt"
	"sort"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Labels selects a series by label values. Labels not named are not checked.
type Labels map[string]string

// Value returns the value of the single series of the named metric family
// whose labels include want. Counters and gauges return their value;
// histograms return their sample count. It returns an error when the family
// is missing or no series (or more than one) matches.
func Value(g prometheus.Gatherer, name string, want Labels) (float64, error) {
	mfs, err := g.Gather()
	if err != nil {
		return 0, err
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		var (
			found bool
			v     float64
		)
		for _, m := range mf.GetMetric() {
			if !matches(m, want) {
				continue
			}
			if found {
				return 0, fmt.Errorf("metrictest: %s%v matches more than one series", name, want)
			}
			found = true
			switch {
			case m.Counter != nil:
				v = m.GetCounter().GetValue()
			case m.Gauge != nil:
				v = m.GetGauge().GetValue()
			case m.Histogram != nil:
				v = float64(m.GetHistogram().GetSampleCount())
			case m.Untyped != nil:
				v = m.GetUntyped().GetValue()
			default:
				return 0, fmt.Errorf("metrictest: %s has an unsupported type", name)
			}
		}
		if !found {
			return 0, fmt.Errorf("metrictest: no series of %s matches %v; have %s", name, want, series(mf))
		}
		return v, nil
	}
	return 0, fmt.Errorf("metrictest: no metric family %s", name)
}

// Names returns the names of every gathered metric family, sorted.
func Names(g prometheus.Gatherer) ([]string, error) {
	mfs, err := g.Gather()
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(mfs))
	for _, mf := range mfs {
		names = append(names, mf.GetName())
	}
	sort.Strings(names)
	return names, nil
}

func matches(m *dto.Metric, want Labels) bool {
	n := 0
	for _, lp := range m.GetLabel() {
		if v, ok := want[lp.GetName()]; ok {
			if v != lp.GetValue() {
				return false
			}
			n++
		}
	}
	return n == len(want)
}

func series(mf *dto.MetricFamily) string {
	var parts []string
	for _, m := range mf.GetMetric() {
		var ls []string
		for _, lp := range m.GetLabel() {
			ls = append(ls, lp.GetName()+"="+lp.GetValue())
		}
		parts = append(parts, "{"+strings.Join(ls, ",")+"}")
	}
	return strings.Join(parts, " ")
}
