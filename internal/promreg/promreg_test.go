package promreg

import (
	"errors"
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

func TestRegisterNamesPackageAndName(t *testing.T) {
	reg := prometheus.NewRegistry()
	mk := func() prometheus.Collector {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: "x_total", Help: "x", ConstLabels: prometheus.Labels{"name": "a"}})
	}
	if err := Register(reg, "breaker", "a", mk()); err != nil {
		t.Fatal(err)
	}
	err := Register(reg, "breaker", "a", mk())
	var are prometheus.AlreadyRegisteredError
	if err == nil || !errors.As(err, &are) || err.Error()[:len(`breaker: metrics for name "a" are already registered`)] != `breaker: metrics for name "a" are already registered` {
		t.Fatalf("err = %v", err)
	}
}

func TestTrackerRollback(t *testing.T) {
	reg := prometheus.NewRegistry()
	tr := Track(reg)
	a := prometheus.NewCounter(prometheus.CounterOpts{Name: "a_total", Help: "a"})
	b := prometheus.NewCounter(prometheus.CounterOpts{Name: "b_total", Help: "b"})
	require.NoError(t, tr.Register(a))
	tr.MustRegister(b)
	require.Error(t, tr.Register(prometheus.NewCounter(prometheus.CounterOpts{Name: "a_total", Help: "a"})))
	tr.Rollback()
	require.NoError(t, reg.Register(a), "a was taken back")
	require.NoError(t, reg.Register(b), "b was taken back")
	require.Nil(t, Track(nil))
	var none *Tracker
	none.Rollback() // a nil Tracker has nothing to take back
}
