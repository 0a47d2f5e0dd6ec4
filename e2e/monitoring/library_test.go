package monitoring

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/steadfast-go/steadfast/ticker/kite"
	"github.com/steadfast-go/steadfast/ticker/market"
)

// The only uses of the library's API in this package, kept here so that a
// rename touches one file.

// nseOpen is the library's NSE calendar: whether the regular session is
// open at t.
func nseOpen(t time.Time) bool {
	return market.Hours{Holidays: market.Holidays2026()}.Open(t)
}

// kiteMetricNames returns the names of the metrics a kite.Source exports.
// The example streams Kite only with live credentials in market hours, so
// the scrape cannot show them; a Source that never runs registers the same
// collector.
func kiteMetricNames() (map[string]bool, error) {
	reg := prometheus.NewRegistry()
	if _, err := kite.New(kite.Config{APIKey: "key", AccessToken: "token", Name: "example", Registerer: reg}); err != nil {
		return nil, err
	}
	mfs, err := reg.Gather()
	names := map[string]bool{}
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	return names, err
}
