// Command mockstate shows a mockstate.Store holding the latest state of a
// small option chain: two writers move prices, four readers (-readers) read
// every contract on each pass without locking, a cleanup loop removes
// contracts as they expire, and the bound evicts contracts nobody reads. It
// runs for about half a second (-duration) and exits; -h lists the flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/steadfast-go/steadfast/mockstate"
)

// contract is the immutable snapshot readers get.
type contract struct {
	Token   uint32
	Strike  float64
	Last    float64
	Updates int
	Expiry  time.Time
}

// builder is the mutable state only the store's writer lock touches.
type builder struct {
	token   uint32
	strike  float64
	last    float64
	updates int
	expiry  time.Time
}

func (b *builder) snapshot() *contract {
	return &contract{Token: b.token, Strike: b.strike, Last: b.last, Updates: b.updates, Expiry: b.expiry}
}

func main() {
	fs := flag.NewFlagSet("mockstate", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: go run ./examples/mockstate [flags]

Shows a mockstate.Store holding a small option chain for -duration: two
writers move prices, -readers readers read every contract without locking,
a cleanup loop removes contracts as they expire, and the size bound evicts
the late listings nobody reads. Then it prints what happened.

Flags:
`)
		fs.PrintDefaults()
	}
	duration := fs.Duration("duration", 500*time.Millisecond, "how long it runs, in [100ms, 1m]")
	readers := fs.Int("readers", 4, "goroutines reading every contract on each pass, in [1, 64]")
	switch err := fs.Parse(os.Args[1:]); {
	case errors.Is(err, flag.ErrHelp):
		return
	case err != nil:
		os.Exit(2)
	case fs.NArg() > 0:
		fmt.Fprintf(os.Stderr, "mockstate example: unexpected argument %q (-h lists the flags)\n", fs.Arg(0))
		os.Exit(2)
	}
	switch {
	case *duration < 100*time.Millisecond || *duration > time.Minute:
		fmt.Fprintf(os.Stderr, "mockstate example: -duration must be in [100ms, 1m], got %v\n", *duration)
		os.Exit(2)
	case *readers < 1 || *readers > 64:
		fmt.Fprintf(os.Stderr, "mockstate example: -readers must be in [1, 64], got %d\n", *readers)
		os.Exit(2)
	}
	if err := run(*duration, *readers); err != nil {
		fmt.Fprintln(os.Stderr, "mockstate example:", err)
		os.Exit(1)
	}
}

func run(duration time.Duration, readers int) error {
	start := time.Now()
	var expired, evicted, evictedUnread atomic.Int64
	store, err := mockstate.New((*builder).snapshot, mockstate.Config[uint32, contract]{
		Name:            "chain",
		MaxSize:         40,
		CleanupInterval: 50 * time.Millisecond,
		Expired: func(c *contract, now time.Time) (bool, error) {
			return !now.Before(c.Expiry), nil
		},
		OnEvict: func(token uint32, _ *contract, r mockstate.Reason) {
			switch r {
			case mockstate.ReasonExpired:
				expired.Add(1)
			case mockstate.ReasonSize:
				evicted.Add(1)
				if token >= 2000 {
					evictedUnread.Add(1)
				}
			}
		},
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
	if err != nil {
		return err
	}

	// 30 contracts; the first 10 expire 40% into the run.
	for i := range 30 {
		token := uint32(1000 + i)
		expiry := start.Add(time.Hour)
		if i < 10 {
			expiry = start.Add(duration * 2 / 5)
		}
		store.LoadOrInit(token, func(b *builder) {
			b.token, b.strike, b.last, b.expiry = token, 24000+50*float64(i), 100, expiry
		})
	}

	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var wg sync.WaitGroup

	wg.Add(1)
	go func() { // the cleanup loop: ends when ctx does
		defer wg.Done()
		if err := store.Run(ctx); err != nil { // nil when ctx ends
			fmt.Fprintln(os.Stderr, "cleanup loop:", err)
		}
	}()

	for w := range 2 { // writers: random walks on the live contracts
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for ctx.Err() == nil {
				token := uint32(1000 + rng.IntN(30))
				_, _ = store.Update(token, func(b *builder) error {
					b.last = max(0.05, b.last+rng.NormFloat64())
					b.updates++
					return nil
				}) // ErrNotFound once a contract has expired
				time.Sleep(100 * time.Microsecond)
			}
		}()
	}

	var reads, torn atomic.Int64
	for range readers { // readers: every contract, every pass, no lock
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				for i := range 30 {
					c, ok := store.Get(uint32(1000 + i))
					if !ok {
						continue
					}
					if c.Token != uint32(1000+i) || c.Last < 0.05 {
						torn.Add(1)
					}
					reads.Add(1)
				}
				time.Sleep(time.Millisecond)
			}
		}()
	}

	// Late listings: 25 more contracts into a store bounded at 40. The
	// readers only read the first 30 tokens, so the new ones that nobody
	// reads are the first to be evicted when room runs out.
	time.Sleep(duration * 3 / 5)
	for i := range 25 {
		token := uint32(2000 + i)
		store.LoadOrInit(token, func(b *builder) { b.token, b.last, b.expiry = token, 10, start.Add(time.Hour) })
	}

	wg.Wait()
	fmt.Printf("entries now:         %d (bound 40)\n", store.Len())
	fmt.Printf("expired and removed: %d\n", expired.Load())
	fmt.Printf("evicted for room:    %d (of them unread late listings: %d)\n", evicted.Load(), evictedUnread.Load())
	fmt.Printf("lock-free reads:     %d, inconsistent: %d\n", reads.Load(), torn.Load())
	if c, ok := store.Get(1015); ok {
		fmt.Printf("token 1015:          strike %.0f, last %.2f after %d updates\n", c.Strike, c.Last, c.Updates)
	}
	return nil
}
