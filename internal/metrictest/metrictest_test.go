package metrictest

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

func TestValue(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "x_total", ConstLabels: prometheus.Labels{"name": "a"}}, []string{"result"})
	reg.MustRegister(c)
	c.WithLabelValues("ok").Add(3)
	c.WithLabelValues("bad").Add(1)

	v, err := Value(reg, "x_total", Labels{"result": "ok"})
	require.NoError(t, err)
	require.Equal(t, 3.0, v)

	_, err = Value(reg, "x_total", nil)
	require.ErrorContains(t, err, "more than one series")
	_, err = Value(reg, "x_total", Labels{"result": "none"})
	require.ErrorContains(t, err, "no series")
	_, err = Value(reg, "y_total", nil)
	require.ErrorContains(t, err, "no metric family")

	names, err := Names(reg)
	require.NoError(t, err)
	require.Equal(t, []string{"x_total"}, names)
}
