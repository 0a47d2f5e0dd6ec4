package replica_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/steadfast-go/steadfast/internal/redistest"
	"github.com/steadfast-go/steadfast/ticker/replica"
)

// TestThreeReplicasSplitTheUniverse: three replicas over 2,000 instruments;
// at quiescence every partition has exactly one holder and every
// instrument is published by exactly one replica.
func TestThreeReplicasSplitTheUniverse(t *testing.T) {
	srv := redistest.Start(t)
	g := newGroup(t, srv, universe(2000))
	sub := startSubscriber(t, srv.Addr())
	for _, id := range []string{"r1", "r2", "r3"} {
		g.start(id, replica.Config{})
	}
	took := g.waitSettled("three replicas")

	// A window after quiescence in which every instrument was published:
	// who published what.
	from := time.Now()
	var by map[uint32][]string
	require.Eventually(t, func() bool {
		by = map[uint32][]string{}
		for id, n := range g.nodes {
			for tok := range n.rec.since(from) {
				by[tok] = append(by[tok], id)
			}
		}
		return len(by) == len(g.ins)
	}, waitLong, interval, "every instrument published after quiescence")
	for tok, ids := range by {
		if len(ids) != 1 {
			t.Fatalf("token %d published by %v", tok, ids)
		}
	}
	for _, tok := range []uint32{1, 1000, 2000} {
		require.NotEmpty(t, sub.arrivals(tok), "the subscriber received token %d", tok)
	}
	var loads []string
	for _, id := range []string{"r1", "r2", "r3"} {
		n := g.nodes[id]
		loads = append(loads, fmt.Sprintf("%s %d partitions %d instruments", id, len(n.Owned()), len(n.Engine().Instruments())))
		h := n.Health()
		require.Equal(t, "ok", h.Status, "%s: %+v", id, h.Reasons)
		require.Equal(t, 3, h.Members)
	}
	t.Logf("FIGURES three replicas settled %v after start: %v", took, loads)
}
