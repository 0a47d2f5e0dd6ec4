package promreg

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

func TestRegisterAllRollsBack(t *testing.T) {
	reg := prometheus.NewRegistry()
	taken := prometheus.NewCounter(prometheus.CounterOpts{Name: "b_total"})
	require.NoError(t, reg.Register(taken))

	a := prometheus.NewCounter(prometheus.CounterOpts{Name: "a_total"})
	b := prometheus.NewCounter(prometheus.CounterOpts{Name: "b_total"})
	require.Error(t, RegisterAll(reg, a, b))
	require.True(t, reg.Unregister(taken))
	// a was rolled back: registering the same set again succeeds.
	require.NoError(t, RegisterAll(reg, a, b))
}
