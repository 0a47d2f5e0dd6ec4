package breaker_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/steadfast-go/steadfast/breaker"
)

// TestLostPermitDoesNotWedgeHalfOpen: a probe whose Permit is never passed
// to Done (a lost permit, a call that hangs) re-opens the breaker once it has
// run for HalfOpenMaxWait, which defaults to the current open period; the
// next probe is then admitted after a new open period.
func TestLostPermitDoesNotWedgeHalfOpen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		b := newBreaker(t, breaker.Config{Name: "w", FailureThreshold: 1, OpenTimeout: 10 * time.Second, OnStateChange: rec.on})
		require.Error(t, b.Do(t.Context(), fail))
		time.Sleep(10 * time.Second)
		lost, err := b.Allow() // the probe, never reported
		require.NoError(t, err)
		_ = lost

		time.Sleep(10*time.Second - time.Nanosecond)
		require.Equal(t, breaker.HalfOpen, b.State(), "the probe still has time")
		_, err = b.Allow()
		require.ErrorIs(t, err, breaker.ErrTooManyCalls)

		time.Sleep(time.Nanosecond)
		require.Equal(t, breaker.Open, b.State(), "a probe running for HalfOpenMaxWait re-opens it")
		time.Sleep(time.Minute)
		require.Equal(t, breaker.HalfOpen, b.State())
		require.NoError(t, b.Do(t.Context(), succeed))
		require.Equal(t, breaker.Closed, b.State())
		require.Equal(t, []string{"w:closed->open", "w:open->half-open", "w:half-open->open", "w:open->half-open", "w:half-open->closed"}, rec.get())
	})
}
