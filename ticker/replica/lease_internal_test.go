package replica

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/steadfast-go/steadfast/internal/redistest"
	"github.com/steadfast-go/steadfast/ticker"
)

// newTestReplica returns a Replica on the Redis at addr (not run).
func newTestReplica(t *testing.T, addr, id string) *Replica {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { c.Close() })
	r, err := New(Config{
		Client: c, ID: id, LeaseTTL: time.Second,
		Engine: ticker.Config{
			Source:      nopSource{},
			Publisher:   ticker.PublisherFunc(func(context.Context, []ticker.Tick) error { return nil }),
			Instruments: func(context.Context) ([]ticker.Instrument, error) { return nil, nil },
		},
	})
	require.NoError(t, err)
	return r
}

type nopSource struct{}

func (nopSource) Run(ctx context.Context, _ func(ticker.Tick)) error { <-ctx.Done(); return nil }
func (nopSource) Subscribe(_, _ []ticker.Instrument) error           { return nil }

// TestLeaseScripts: epochs rise with every acquisition; a held lease is
// refused to another holder, renewed and released only by its own; an
// acquisition after a lapse is a take-over, after a release it is not; a
// lease the caller holds already is handed back with its epoch.
func TestLeaseScripts(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	a := newTestReplica(t, srv.Addr(), "a")
	b := newTestReplica(t, srv.Addr(), "b")

	got, err := a.acquire(ctx, []int{0, 1})
	require.NoError(t, err)
	require.True(t, got[0].ok && got[1].ok)
	require.False(t, got[0].takeover)
	e0 := got[0].epoch
	require.Greater(t, e0, uint64(time.Now().Add(-time.Hour).UnixMilli()), "an epoch is at least the time on Redis in ms")
	v0 := a.holder + "/" + itoa(e0)

	// Another holder is refused, and told how long the lease has left.
	other, err := b.acquire(ctx, []int{0})
	require.NoError(t, err)
	require.False(t, other[0].ok)
	require.Greater(t, other[0].pttl, 500*time.Millisecond)
	ok, err := b.renew(ctx, []int{0}, []string{b.holder + "/" + itoa(e0)})
	require.NoError(t, err)
	require.False(t, ok[0], "b renewed a's lease")
	require.NoError(t, b.release(ctx, []int{0}, []string{b.holder + "/" + itoa(e0)}))

	// The holder's own acquisition again (its first answer lost): the same
	// epoch, held.
	again, err := a.acquire(ctx, []int{0})
	require.NoError(t, err)
	require.True(t, again[0].ok)
	require.Equal(t, e0, again[0].epoch)

	ok, err = a.renew(ctx, []int{0}, []string{v0})
	require.NoError(t, err)
	require.True(t, ok[0], "b's release removed a's lease")

	// Released: b's acquisition is no take-over, with a higher epoch.
	require.NoError(t, a.release(ctx, []int{0}, []string{v0}))
	got, err = b.acquire(ctx, []int{0})
	require.NoError(t, err)
	require.True(t, got[0].ok)
	require.False(t, got[0].takeover)
	require.Greater(t, got[0].epoch, e0)

	// Partition 1 lapses unreleased: b takes it over.
	time.Sleep(1100 * time.Millisecond)
	got, err = b.acquire(ctx, []int{1})
	require.NoError(t, err)
	require.True(t, got[0].ok && got[0].takeover)

	// Redis loses everything: the next epoch is still higher.
	last := got[0].epoch
	srv.Restart()
	got, err = a.acquire(ctx, []int{1})
	require.NoError(t, err)
	require.True(t, got[0].ok)
	require.Greater(t, got[0].epoch, last)
}

func itoa(v uint64) string { return strconv.FormatUint(v, 10) }
