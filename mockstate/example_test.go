package mockstate_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/steadfast-go/steadfast/mockstate"
)

// quote is the snapshot readers see; quoteBuilder is what writers change.
type quote struct {
	Symbol string
	Last   float64
	Ticks  int
	Expiry time.Time
}

type quoteBuilder struct {
	symbol string
	last   float64
	ticks  int
	expiry time.Time
}

func (b *quoteBuilder) snapshot() *quote {
	return &quote{Symbol: b.symbol, Last: b.last, Ticks: b.ticks, Expiry: b.expiry}
}

func newStore(cfg mockstate.Config[string, quote]) *mockstate.Store[string, quote, quoteBuilder] {
	s, err := mockstate.New((*quoteBuilder).snapshot, cfg)
	if err != nil {
		panic(err)
	}
	return s
}

func ExampleStore() {
	s, err := mockstate.New((*quoteBuilder).snapshot, mockstate.Config[string, quote]{Name: "quotes"})
	if err != nil {
		fmt.Println(err)
		return
	}
	s.LoadOrInit("NIFTY", func(b *quoteBuilder) { b.symbol = "NIFTY"; b.last = 24000 })

	before, _ := s.Get("NIFTY")
	after, _ := s.Update("NIFTY", func(b *quoteBuilder) error {
		b.last += 12.5
		b.ticks++
		return nil
	})
	// The snapshot read before the update has not changed.
	fmt.Println(before.Last, before.Ticks)
	fmt.Println(after.Last, after.Ticks)
	// Output:
	// 24000 0
	// 24012.5 1
}

func ExampleNew() {
	_, err := mockstate.New((*quoteBuilder).snapshot, mockstate.Config[string, quote]{MaxSize: -1})
	fmt.Println(err)
	// Output: mockstate: Config.MaxSize must be >= 0, got -1
}

func ExampleStore_LoadOrInit() {
	s := newStore(mockstate.Config[string, quote]{})
	q, created := s.LoadOrInit("BANKNIFTY", func(b *quoteBuilder) { b.symbol = "BANKNIFTY"; b.last = 51000 })
	fmt.Println(q.Symbol, q.Last, created)
	// A second LoadOrInit finds the entry and does not run init.
	q, created = s.LoadOrInit("BANKNIFTY", func(b *quoteBuilder) { b.last = 0 })
	fmt.Println(q.Symbol, q.Last, created)
	// Output:
	// BANKNIFTY 51000 true
	// BANKNIFTY 51000 false
}

func ExampleStore_Update() {
	s := newStore(mockstate.Config[string, quote]{})
	s.LoadOrInit("NIFTY", func(b *quoteBuilder) { b.last = 24000 })

	errHalted := errors.New("trading halted")
	_, err := s.Update("NIFTY", func(b *quoteBuilder) error {
		b.last = 0
		return errHalted // nothing is published; the builder is restored
	})
	fmt.Println(err)
	q, _ := s.Update("NIFTY", func(b *quoteBuilder) error { b.last += 1; return nil })
	fmt.Println(q.Last)

	_, err = s.Update("SENSEX", func(*quoteBuilder) error { return nil })
	fmt.Println(errors.Is(err, mockstate.ErrNotFound), err)
	// Output:
	// trading halted
	// 24001
	// true mockstate: key SENSEX not found
}

// Upsert is the per-tick call: it updates the entry, creating it first (with
// init) when the key has none, in one lookup under one lock.
func ExampleStore_Upsert() {
	s := newStore(mockstate.Config[string, quote]{})
	tick := func(b *quoteBuilder) error { b.last += 0.05; b.ticks++; return nil }
	for range 3 {
		q, err := s.Upsert("NIFTY", func(b *quoteBuilder) { b.symbol = "NIFTY"; b.last = 24000 }, tick)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s %.2f %d\n", q.Symbol, q.Last, q.Ticks)
	}
	// Output:
	// NIFTY 24000.05 1
	// NIFTY 24000.10 2
	// NIFTY 24000.15 3
}

// A panic in a function the store runs under its lock is contained: it is
// logged with its stack, counted, and returned as a *PanicError; the entry
// keeps its last snapshot.
func ExamplePanicError() {
	s := newStore(mockstate.Config[string, quote]{Logger: slog.New(slog.DiscardHandler)})
	s.LoadOrInit("NIFTY", func(b *quoteBuilder) { b.last = 24000 })
	_, err := s.Update("NIFTY", func(b *quoteBuilder) error {
		var prices map[string]float64
		prices["NIFTY"] = b.last // a bug: assignment to a nil map
		return nil
	})
	var pe *mockstate.PanicError
	if errors.As(err, &pe) {
		fmt.Println(pe.Func, pe.Key, pe.Value)
	}
	q, _ := s.Get("NIFTY")
	fmt.Println(q.Last)
	// Output:
	// fn NIFTY assignment to entry in nil map
	// 24000
}

func ExampleStore_Range() {
	s := newStore(mockstate.Config[string, quote]{})
	for i, sym := range []string{"NIFTY", "BANKNIFTY", "FINNIFTY"} {
		s.LoadOrInit(sym, func(b *quoteBuilder) { b.symbol = sym; b.last = float64(1000 * (i + 1)) })
	}
	// Range's order is unspecified; sort for stable output.
	var lines []string
	s.Range(func(k string, q *quote) bool {
		lines = append(lines, fmt.Sprintf("%s %.0f", k, q.Last))
		return true
	})
	slices.Sort(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
	fmt.Println(s.Len())
	// Output:
	// BANKNIFTY 2000
	// FINNIFTY 3000
	// NIFTY 1000
	// 3
}

func ExampleStore_Cleanup() {
	expiry := time.Date(2026, 11, 26, 15, 30, 0, 0, time.UTC)
	s := newStore(mockstate.Config[string, quote]{
		Expired: func(q *quote, now time.Time) (bool, error) {
			if q.Expiry.IsZero() {
				return false, fmt.Errorf("%s has no expiry date", q.Symbol)
			}
			return !now.Before(q.Expiry), nil
		},
		OnEvict: func(k string, q *quote, r mockstate.Reason) { fmt.Println("removed", k, r) },
		Logger:  slog.New(slog.DiscardHandler),
	})
	s.LoadOrInit("NIFTY26NOV24000CE", func(b *quoteBuilder) { b.symbol = "NIFTY26NOV24000CE"; b.expiry = expiry })
	s.LoadOrInit("NIFTY31DEC24000CE", func(b *quoteBuilder) { b.symbol = "NIFTY31DEC24000CE"; b.expiry = expiry.AddDate(0, 1, 5) })
	s.LoadOrInit("BROKEN", func(b *quoteBuilder) { b.symbol = "BROKEN" }) // cannot be judged: kept

	fmt.Println(s.Cleanup(expiry.Add(time.Minute)), s.Len())
	// Output:
	// removed NIFTY26NOV24000CE expired
	// 1 2
}

func ExampleReason() {
	s := newStore(mockstate.Config[string, quote]{
		MaxSize: 3,
		OnEvict: func(k string, _ *quote, r mockstate.Reason) { fmt.Println(k, r) },
	})
	for _, k := range []string{"a", "b", "c"} {
		s.LoadOrInit(k, nil)
	}
	s.Get("b")
	s.Get("c")
	s.LoadOrInit("d", nil) // full: a was never read, so a goes
	s.Delete("b")
	s.Reset()

	// A Reason marshals as its word.
	b, _ := json.Marshal(struct{ Reason mockstate.Reason }{mockstate.ReasonExpired})
	fmt.Println(string(b))
	// Output:
	// a size
	// b deleted
	// d reset
	// c reset
	// {"Reason":"expired"}
}

func ExampleConfig() {
	// The zero Config is valid: MaxSize 5000, CleanupInterval 5m, nothing
	// expires, no metrics, contained failures logged to slog.Default().
	s, err := mockstate.New((*quoteBuilder).snapshot, mockstate.Config[string, quote]{})
	fmt.Println(err, s.Len(), mockstate.DefaultMaxSize, mockstate.DefaultCleanupInterval)
	// Output: <nil> 0 5000 5m0s
}
