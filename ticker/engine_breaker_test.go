package ticker_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/steadfast-go/steadfast/breaker"
	"github.com/steadfast-go/steadfast/internal/metrictest"
	"github.com/steadfast-go/steadfast/ticker"
)

// TestEngineDefaultBreakerGrowsFromOneSecond: with a zero Config.Breaker the
// first open period is 1s, Health says when the next probe is due, and each
// failed probe lengthens the period, up to a minute.
func TestEngineDefaultBreakerGrowsFromOneSecond(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, instruments(1), func(c *ticker.Config) { c.Breaker = breaker.Config{} })
		h.start()
		h.pub.failing.Store(true)
		for i := range 10 { // the default FailureThreshold
			h.src.send(tk(1000, float64(i+1)))
			settle()
		}
		hl := h.eng.Health()
		require.Equal(t, "open", hl.Breaker)
		require.False(t, hl.NextProbe.IsZero(), "Health says when the next probe is due")
		require.InDelta(t, time.Second.Seconds(), time.Until(hl.NextProbe).Seconds(), 0.11)
		period := func() float64 {
			return metric(t, h.reg, "steadfast_breaker_open_period_seconds", metrictest.Labels{"name": "ticker/publisher"})
		}
		require.Equal(t, 1.0, period())
		base, last := 1.0, 0.0
		for range 40 { // failed probes: the period grows by 1.2× (±10%) to 60s
			// The loop probes within a second of the breaker half-opening;
			// the next period is longer than that, so this is one probe.
			time.Sleep(time.Until(h.eng.Health().NextProbe) + time.Second)
			settle()
			base = min(base*1.2, 60)
			last = period()
			require.InDelta(t, base, last, base*0.1+1e-9, "the period is 1.2^n s, ±10%%, capped")
			require.LessOrEqual(t, last, 60.0)
		}
		require.Equal(t, 60.0, base)
		require.Greater(t, last, 54.0, "capped at a minute")
		h.pub.failing.Store(false)
		time.Sleep(time.Until(h.eng.Health().NextProbe) + time.Second)
		settle()
		require.Equal(t, "closed", h.eng.Health().Breaker)
		require.True(t, h.eng.Health().NextProbe.IsZero())
		require.NoError(t, h.finish())
	})
}

// TestEngineFixedOpenTimeoutStaysOneFieldAway: OpenTimeout alone gives the
// breaker's fixed period.
func TestEngineFixedOpenTimeoutStaysOneFieldAway(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, instruments(1), func(c *ticker.Config) {
			c.Breaker = breaker.Config{FailureThreshold: 1, OpenTimeout: time.Minute}
		})
		h.start()
		h.pub.failing.Store(true)
		h.src.send(tk(1000, 1))
		settle()
		for range 3 {
			require.InDelta(t, time.Minute.Seconds(), time.Until(h.eng.Health().NextProbe).Seconds(), 1.1)
			time.Sleep(time.Until(h.eng.Health().NextProbe) + time.Second)
			settle()
		}
		h.pub.failing.Store(false)
		require.NoError(t, h.finish())
	})
}

// cachePublisher is a Publisher with a cache beside its feed.
type cachePublisher struct {
	*recorder
	err error
}

func (c *cachePublisher) LatestError() error { return c.err }

// TestEngineHealthShowsAPublisherCacheError: a Publisher's cache error shows
// in Health without degrading it, since the feed works.
func TestEngineHealthShowsAPublisherCacheError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cp := &cachePublisher{recorder: newRecorder(), err: errors.New("OOM command not allowed")}
		h := newHarness(t, instruments(1), func(c *ticker.Config) { c.Publisher = cp })
		h.start()
		h.src.send(tk(1000, 1))
		settle()
		hl := h.eng.Health()
		require.Equal(t, "ok", hl.Status)
		require.Equal(t, "OOM command not allowed", hl.CacheError)
		var _ interface {
			Publish(context.Context, []ticker.Tick) error
		} = cp
		require.NoError(t, h.finish())
	})
}
