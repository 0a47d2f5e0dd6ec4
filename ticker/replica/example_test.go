package replica_test

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/redispub"
	"github.com/steadfast-go/steadfast/ticker/replica"
)

// A replica of a group on a Redis that also carries the ticks. Run it on
// each machine with its own ID, source and broker key. (Not run here: it
// needs a Redis and a feed.)
func ExampleReplica() {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", ContextTimeoutEnabled: true, MaxRetries: -1, DialerRetries: 1})
	defer client.Close()
	pub, err := redispub.New(redispub.Config{Client: client})
	if err != nil {
		panic(err)
	}
	var src ticker.Source                                           // this machine's feed
	var universe func(context.Context) ([]ticker.Instrument, error) // every instrument of the group
	r, err := replica.New(replica.Config{
		Client:   client,
		ID:       "ticker-a",
		Capacity: 24,
		LeaseTTL: 5 * time.Second,
		Engine:   ticker.Config{Source: src, Publisher: pub, Instruments: universe},
	})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = r.Run(ctx) }()
	fmt.Println(r.Health().Status)
}

// A chain, with its future, lands in one partition.
func ExamplePartitionOf() {
	expiry := time.Date(2026, 12, 29, 15, 30, 0, 0, time.FixedZone("IST", 5*3600+1800))
	call := ticker.Instrument{Underlying: "NIFTY", Kind: ticker.KindCall, Strike: 24000, Expiry: expiry}
	put := ticker.Instrument{Underlying: "NIFTY", Kind: ticker.KindPut, Strike: 23000, Expiry: expiry}
	fut := ticker.Instrument{Underlying: "NIFTY", Kind: ticker.KindFuture, Expiry: expiry}
	bank := ticker.Instrument{Underlying: "BANKNIFTY", Kind: ticker.KindCall, Strike: 52000, Expiry: expiry}
	fmt.Println(replica.PartitionOf(&call, 64), replica.PartitionOf(&put, 64), replica.PartitionOf(&fut, 64), replica.PartitionOf(&bank, 64))
	// Output: 0 0 0 14
}

// Three members share 64 partitions; a fourth joins and takes its share.
func ExampleAssign() {
	ms := []replica.Member{{ID: "a", Capacity: 64}, {ID: "b", Capacity: 64}, {ID: "c", Capacity: 64}}
	before := replica.Assign(ms, 64)
	after := replica.Assign(append(ms, replica.Member{ID: "d", Capacity: 64}), 64)
	load := map[string]int{}
	moved := 0
	for p := range after {
		load[after[p]]++
		if before[p] != after[p] {
			moved++
		}
	}
	fmt.Println(load, "moved:", moved)
	// Output: map[a:17 b:16 c:12 d:19] moved: 19
}

// Active/standby: the standby holds nothing while the primary covers the
// universe.
func ExampleMember() {
	ms := []replica.Member{{ID: "primary", Capacity: 64}, {ID: "standby", Capacity: 64, Standby: true}}
	load := map[string]int{}
	for _, owner := range replica.Assign(ms, 64) {
		load[owner]++
	}
	fmt.Println(load)
	ms = ms[1:] // the primary died
	load = map[string]int{}
	for _, owner := range replica.Assign(ms, 64) {
		load[owner]++
	}
	fmt.Println(load)
	// Output:
	// map[primary:64]
	// map[standby:64]
}

// Health before Run: stopped, holding nothing.
func ExampleHealth() {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", ContextTimeoutEnabled: true})
	defer client.Close()
	r, err := replica.New(replica.Config{
		Client: client,
		ID:     "ticker-a",
		Engine: ticker.Config{
			Source:      ticker.Source(nopSource{}),
			Publisher:   ticker.PublisherFunc(func(context.Context, []ticker.Tick) error { return nil }),
			Instruments: func(context.Context) ([]ticker.Instrument, error) { return nil, nil },
		},
	})
	if err != nil {
		panic(err)
	}
	h := r.Health()
	fmt.Println(h.Status, h.ID, h.Partitions, h.Owned, h.Stats)
	// Output: stopped ticker-a 64 0 {0 0 0 0 0 0}
}

type nopSource struct{}

func (nopSource) Run(ctx context.Context, _ func(ticker.Tick)) error { <-ctx.Done(); return nil }
func (nopSource) Subscribe(_, _ []ticker.Instrument) error           { return nil }
