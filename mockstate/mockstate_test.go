package mockstate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/steadfast-go/steadfast/internal/logtest"
	"github.com/steadfast-go/steadfast/internal/metrictest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// quote is a test snapshot whose fields obey an invariant: B == 2*A and
// C == 3*A. A torn snapshot (fields from two versions) would break it.
type quote struct {
	Key     string
	A, B, C int
	Seq     int
	Expiry  time.Time
	Bad     bool // Expired returns an error for it
}

type quoteBuilder struct {
	key    string
	a      int
	seq    int
	expiry time.Time
	bad    bool
}

func buildQuote(b *quoteBuilder) *quote {
	return &quote{Key: b.key, A: b.a, B: 2 * b.a, C: 3 * b.a, Seq: b.seq, Expiry: b.expiry, Bad: b.bad}
}

func setKey(k string) func(*quoteBuilder) { return func(b *quoteBuilder) { b.key = k } }

func bump(b *quoteBuilder) error {
	b.a++
	b.seq++
	return nil
}

func expiredQuote(q *quote, now time.Time) (bool, error) {
	if q.Bad {
		return false, fmt.Errorf("malformed expiry for %s", q.Key)
	}
	return !q.Expiry.IsZero() && !now.Before(q.Expiry), nil
}

func newQuotes(t *testing.T, cfg Config[string, quote]) *Store[string, quote, quoteBuilder] {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s, err := New(buildQuote, cfg)
	require.NoError(t, err)
	return s
}

type evictLog struct {
	mu  sync.Mutex
	got []string
}

func (l *evictLog) record(k string, q *quote, r Reason) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, k+":"+r.String())
}

func (l *evictLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.got...)
}

func metric(t *testing.T, reg prometheus.Gatherer, name string, labels metrictest.Labels) float64 {
	t.Helper()
	v, err := metrictest.Value(reg, name, labels)
	require.NoError(t, err)
	return v
}

func TestEmptyStore(t *testing.T) {
	s := newQuotes(t, Config[string, quote]{Expired: expiredQuote})
	_, ok := s.Get("x")
	require.False(t, ok)
	require.Zero(t, s.Len())
	s.Range(func(string, *quote) bool { t.Fatal("Range visited an entry of an empty store"); return true })
	require.False(t, s.Delete("x"))
	require.Zero(t, s.Cleanup(time.Now()))
	_, err := s.Update("x", bump)
	require.ErrorIs(t, err, ErrNotFound)
	s.Reset()
	require.Zero(t, s.Len())
}

func TestSnapshotUnchangedAfterUpdate(t *testing.T) {
	s := newQuotes(t, Config[string, quote]{})
	p0, created := s.LoadOrInit("NIFTY", func(b *quoteBuilder) { b.key = "NIFTY"; b.a = 10 })
	require.True(t, created)
	before := *p0

	p1, err := s.Update("NIFTY", func(b *quoteBuilder) error { b.a = 20; b.seq = 1; return nil })
	require.NoError(t, err)

	require.Equal(t, before, *p0, "a snapshot handed out earlier changed")
	require.NotSame(t, p0, p1)
	require.Equal(t, 20, p1.A)
	got, ok := s.Get("NIFTY")
	require.True(t, ok)
	require.Same(t, p1, got)
}

func TestLoadOrInitExistingReturnsCurrent(t *testing.T) {
	s := newQuotes(t, Config[string, quote]{})
	p0, created := s.LoadOrInit("a", setKey("a"))
	require.True(t, created)
	p1, created := s.LoadOrInit("a", func(*quoteBuilder) { t.Fatal("init ran for an existing key") })
	require.False(t, created)
	require.Same(t, p0, p1)
	p2, err := s.Update("a", bump)
	require.NoError(t, err)
	p3, created := s.LoadOrInit("a", nil)
	require.False(t, created)
	require.Same(t, p2, p3)

	p4, created := s.LoadOrInit("b", nil) // nil init: zero builder
	require.True(t, created)
	require.Equal(t, quote{}, *p4)
}

func TestConcurrentReadersWritersNoTornSnapshot(t *testing.T) {
	const keys = 16
	s := newQuotes(t, Config[string, quote]{})
	names := make([]string, keys)
	for i := range names {
		names[i] = fmt.Sprint("k", i)
		s.LoadOrInit(names[i], setKey(names[i]))
	}
	var (
		stop    atomic.Bool
		readers sync.WaitGroup
		writers sync.WaitGroup
		reads   atomic.Int64
	)
	errs := make(chan error, 8)
	for r := 0; r < 4; r++ {
		readers.Add(1)
		go func() {
			defer readers.Done()
			last := make([]int, keys)
			for i := 0; !stop.Load(); i++ {
				k := i % keys
				q, ok := s.Get(names[k])
				if !ok {
					errs <- fmt.Errorf("key %s missing", names[k])
					return
				}
				if q.B != 2*q.A || q.C != 3*q.A || q.Key != names[k] {
					errs <- fmt.Errorf("torn snapshot %+v", *q)
					return
				}
				if q.Seq < last[k] {
					errs <- fmt.Errorf("key %s went back from seq %d to %d", names[k], last[k], q.Seq)
					return
				}
				last[k] = q.Seq
				reads.Add(1)
			}
		}()
	}
	for w := 0; w < 2; w++ {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for i := 0; i < 3000; i++ {
				if _, err := s.Update(names[i%keys], bump); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	writers.Wait()
	stop.Store(true)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	require.Positive(t, reads.Load())
	total := 0
	s.Range(func(k string, q *quote) bool {
		require.Equal(t, q.Seq, q.A)
		total += q.Seq
		return true
	})
	require.Equal(t, 6000, total, "an update was lost")
}

func TestLoadOrInitRaceCreatesOnce(t *testing.T) {
	const (
		keys       = 200
		goroutines = 8
	)
	s := newQuotes(t, Config[string, quote]{})
	var inits [keys]atomic.Int32
	var created [keys]atomic.Int32
	snaps := make([][keys]*quote, goroutines)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := 0; i < keys; i++ {
				k := (i + g*17) % keys
				p, c := s.LoadOrInit(fmt.Sprint(k), func(b *quoteBuilder) { inits[k].Add(1); b.a = k })
				if c {
					created[k].Add(1)
				}
				snaps[g][k] = p
			}
		}()
	}
	close(start)
	wg.Wait()
	require.Equal(t, keys, s.Len())
	for k := 0; k < keys; k++ {
		require.EqualValues(t, 1, inits[k].Load(), "init of key %d", k)
		require.EqualValues(t, 1, created[k].Load(), "created for key %d", k)
		for g := 1; g < goroutines; g++ {
			require.Same(t, snaps[0][k], snaps[g][k], "key %d", k)
		}
	}
}

func TestBuilderTouchedOnlyUnderLock(t *testing.T) {
	var inside atomic.Int32
	var overlap atomic.Bool
	enter := func() {
		if inside.Add(1) != 1 {
			overlap.Store(true)
		}
	}
	leave := func() { inside.Add(-1) }
	build := func(b *quoteBuilder) *quote {
		enter()
		defer leave()
		return buildQuote(b)
	}
	s, err := New(build, Config[string, quote]{MaxSize: 32, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				k := fmt.Sprint((i * (g + 1)) % 48)
				s.LoadOrInit(k, func(b *quoteBuilder) { enter(); b.key = k; leave() })
				_, _ = s.Update(k, func(b *quoteBuilder) error { enter(); defer leave(); return bump(b) })
				if i%7 == 0 {
					s.Delete(k)
				}
			}
		}()
	}
	wg.Wait()
	require.False(t, overlap.Load(), "two builder functions ran at once")
}

func TestUpdateErrorRestoresBuilder(t *testing.T) {
	s := newQuotes(t, Config[string, quote]{})
	p0, _ := s.LoadOrInit("a", func(b *quoteBuilder) { b.key = "a"; b.a = 1 })
	boom := errors.New("boom")
	_, err := s.Update("a", func(b *quoteBuilder) error { b.a = 99; return boom })
	require.ErrorIs(t, err, boom)
	got, _ := s.Get("a")
	require.Same(t, p0, got, "a failed update published a snapshot")
	p1, err := s.Update("a", bump)
	require.NoError(t, err)
	require.Equal(t, 2, p1.A, "the failed update's change leaked into the builder")

	_, err = s.Update("a", nil)
	require.ErrorIs(t, err, ErrNilFunc)
	_, err = s.Update("missing", bump)
	require.ErrorIs(t, err, ErrNotFound)
	require.EqualError(t, err, "mockstate: key missing not found", "the error names the key")
}

func TestNilSnapshot(t *testing.T) {
	var logs logtest.Buffer
	build := func(b *quoteBuilder) *quote {
		if b.bad {
			return nil
		}
		return buildQuote(b)
	}
	s, err := New(build, Config[string, quote]{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	p, created := s.LoadOrInit("bad", func(b *quoteBuilder) { b.bad = true })
	require.Nil(t, p)
	require.False(t, created)
	require.Zero(t, s.Len())
	require.Contains(t, logs.String(), "nil snapshot")

	p0, _ := s.LoadOrInit("a", setKey("a"))
	_, err = s.Update("a", func(b *quoteBuilder) error { b.bad = true; b.a = 5; return nil })
	require.ErrorIs(t, err, ErrNilSnapshot)
	got, _ := s.Get("a")
	require.Same(t, p0, got)
	p1, err := s.Update("a", bump)
	require.NoError(t, err)
	require.Equal(t, 1, p1.A, "builder not restored after a nil snapshot")
}

// A panic in init, fn or build is contained, whichever writing call runs
// it: recovered, logged with its stack, counted by function, returned as a
// *PanicError (LoadOrInit, which has no error, returns (nil, false)), and the
// store is as it was before the call.
func TestPanicsInBuilderFunctionsAreContained(t *testing.T) {
	explode := false
	build := func(b *quoteBuilder) *quote {
		if explode {
			panic("build")
		}
		return buildQuote(b)
	}
	var logs logtest.Buffer
	reg := prometheus.NewPedanticRegistry()
	s, err := New(build, Config[string, quote]{Name: "p", Registerer: reg, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	panics := func(fn string) float64 {
		return metric(t, reg, "steadfast_mockstate_callback_panics_total", metrictest.Labels{"name": "p", "callback": fn})
	}
	requirePanicError := func(err error, fn string, value any) {
		t.Helper()
		var pe *PanicError
		require.ErrorAs(t, err, &pe)
		require.Equal(t, fn, pe.Func)
		require.Equal(t, "a", pe.Key)
		require.Equal(t, value, pe.Value)
		require.Contains(t, string(pe.Stack), "mockstate_test")
		require.EqualError(t, err, fmt.Sprintf("mockstate: key a: %s panicked: %v", fn, value))
	}

	// init: through LoadOrInit and through Upsert of a new key.
	var p *quote
	var created bool
	require.NotPanics(t, func() { p, created = s.LoadOrInit("a", func(*quoteBuilder) { panic("init") }) })
	require.Nil(t, p)
	require.False(t, created)
	_, err = s.Upsert("a", func(*quoteBuilder) { panic("init") }, bump)
	requirePanicError(err, "init", "init")
	require.Zero(t, s.Len(), "a panicking init inserted an entry")
	require.EqualValues(t, 2, panics("init"))

	// fn: through Upsert of a new key, Update and Upsert of an existing one.
	_, err = s.Upsert("a", setKey("a"), func(b *quoteBuilder) error { panic("fn") })
	requirePanicError(err, "fn", "fn")
	require.Zero(t, s.Len(), "a panicking fn inserted an entry")
	p0, created := s.LoadOrInit("a", func(b *quoteBuilder) { b.key = "a"; b.a = 1 }) // the lock was released
	require.True(t, created)
	_, err = s.Update("a", func(b *quoteBuilder) error { b.a = 50; panic("fn") })
	requirePanicError(err, "fn", "fn")
	_, err = s.Upsert("a", nil, func(b *quoteBuilder) error { b.a = 60; panic("fn") })
	requirePanicError(err, "fn", "fn")
	require.EqualValues(t, 3, panics("fn"))
	got, _ := s.Get("a")
	require.Same(t, p0, got, "a panicking fn published a snapshot")

	// build: through Update, Upsert and LoadOrInit.
	explode = true
	_, err = s.Update("a", bump)
	requirePanicError(err, "build", "build")
	_, err = s.Upsert("a", nil, bump)
	requirePanicError(err, "build", "build")
	p, created = s.LoadOrInit("b", setKey("b"))
	require.Nil(t, p)
	require.False(t, created)
	explode = false
	require.EqualValues(t, 3, panics("build"))
	got, _ = s.Get("a")
	require.Same(t, p0, got, "a panicking build published a snapshot")
	require.Equal(t, 1, s.Len())

	p1, err := s.Update("a", bump)
	require.NoError(t, err)
	require.Equal(t, 2, p1.A, "builder not restored after a panic")

	// An error value unwraps.
	sentinel := errors.New("sentinel")
	_, err = s.Update("a", func(*quoteBuilder) error { panic(sentinel) })
	require.ErrorIs(t, err, sentinel)

	out := logs.String()
	require.Contains(t, out, `msg="init panicked; store unchanged" component=mockstate name=p key=a callback=init panic=init stack=`)
	require.Contains(t, out, `msg="fn panicked; store unchanged"`)
	require.Contains(t, out, `msg="build panicked; store unchanged" component=mockstate name=p key=b`)
	require.NotContains(t, out, `msg="mockstate:`)
	require.Equal(t, 9, strings.Count(out, "stack="), "each contained panic is logged with its stack")
}

// runtime.Goexit in a function run under the lock cannot be stopped: it ends
// the caller's goroutine, but only after the store is restored and unlocked.
func TestGoexitInBuilderFunctionLeavesTheStoreUsable(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	var logs logtest.Buffer
	s := newQuotes(t, Config[string, quote]{Name: "g", Registerer: reg, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	p0, _ := s.LoadOrInit("a", func(b *quoteBuilder) { b.key = "a"; b.a = 1 })
	for _, call := range []func(){
		func() { s.LoadOrInit("b", func(*quoteBuilder) { runtime.Goexit() }) },
		func() { _, _ = s.Update("a", func(b *quoteBuilder) error { b.a = 9; runtime.Goexit(); return nil }) },
		func() { _, _ = s.Upsert("c", nil, func(b *quoteBuilder) error { runtime.Goexit(); return nil }) },
	} {
		done := make(chan struct{})
		go func() { defer close(done); call() }()
		<-done
	}
	got, _ := s.Get("a")
	require.Same(t, p0, got)
	require.Equal(t, 1, s.Len())
	p1, err := s.Update("a", bump)
	require.NoError(t, err, "the lock was released")
	require.Equal(t, 2, p1.A, "the builder was restored")
	require.EqualValues(t, 1, metric(t, reg, "steadfast_mockstate_callback_panics_total", metrictest.Labels{"name": "g", "callback": "init"}))
	require.EqualValues(t, 2, metric(t, reg, "steadfast_mockstate_callback_panics_total", metrictest.Labels{"name": "g", "callback": "fn"}))
	// Logged as the other packages log a Goexit: a panic whose value is
	// runtime.Goexit, with its stack.
	out := logs.String()
	require.Contains(t, out, `msg="init called runtime.Goexit" component=mockstate name=g key=b callback=init panic=runtime.Goexit stack=`)
	require.Equal(t, 3, strings.Count(out, "panic=runtime.Goexit stack=\"goroutine"), out)
}

func TestUpsert(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	var ev evictLog
	s := newQuotes(t, Config[string, quote]{Name: "u", Registerer: reg, MaxSize: 2, OnEvict: ev.record})
	inits := 0
	init := func(b *quoteBuilder) { inits++; b.key = "a"; b.a = 10 }

	// A new key: init, then fn, then one snapshot.
	p, err := s.Upsert("a", init, bump)
	require.NoError(t, err)
	require.Equal(t, quote{Key: "a", A: 11, B: 22, C: 33, Seq: 1}, *p)
	got, _ := s.Get("a")
	require.Same(t, p, got)

	// An existing key: fn only.
	p, err = s.Upsert("a", init, bump)
	require.NoError(t, err)
	require.Equal(t, 12, p.A)
	require.Equal(t, 1, inits, "init runs once per key")

	// fn's error: nothing inserted for a new key; builder restored for an
	// existing one.
	boom := errors.New("boom")
	_, err = s.Upsert("b", setKey("b"), func(*quoteBuilder) error { return boom })
	require.ErrorIs(t, err, boom)
	_, ok := s.Get("b")
	require.False(t, ok)
	_, err = s.Upsert("a", nil, func(b *quoteBuilder) error { b.a = 99; return boom })
	require.ErrorIs(t, err, boom)
	p, err = s.Upsert("a", nil, bump)
	require.NoError(t, err)
	require.Equal(t, 13, p.A)
	_, err = s.Upsert("a", nil, nil)
	require.ErrorIs(t, err, ErrNilFunc)

	// Eviction rules are LoadOrInit's then Update's: an upserted entry is used.
	// b is created by LoadOrInit (not used), c upserted into the full store evicts b, the
	// entry never used, not a.
	s.LoadOrInit("b", setKey("b"))
	_, err = s.Upsert("c", setKey("c"), bump)
	require.NoError(t, err)
	require.Equal(t, []string{"b:size"}, ev.list())
	_, err = s.Upsert("d", setKey("d"), bump) // all used: the hand takes one
	require.NoError(t, err)
	require.Equal(t, 2, s.Len())

	l := metrictest.Labels{"name": "u"}
	require.EqualValues(t, 4, metric(t, reg, "steadfast_mockstate_inserts_total", l))
	require.EqualValues(t, 5, metric(t, reg, "steadfast_mockstate_updates_total", l))
}

func TestUpsertRaceCreatesOnce(t *testing.T) {
	s := newQuotes(t, Config[string, quote]{})
	var inits atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				_, err := s.Upsert("k", func(b *quoteBuilder) { inits.Add(1); b.key = "k" }, bump)
				require.NoError(t, err)
			}
		})
	}
	wg.Wait()
	p, _ := s.Get("k")
	require.EqualValues(t, 1, inits.Load())
	require.Equal(t, 800, p.Seq, "every update applied exactly once")
}

// The logger is looked up when a record is written: a slog.SetDefault after
// New is honoured, with its handler's level.
func TestDefaultLoggerLookedUpWhenLogging(t *testing.T) {
	prev := slog.Default()
	t.Cleanup(func() { slog.SetDefault(prev) })
	s, err := New(buildQuote, Config[string, quote]{Name: "q", Expired: expiredQuote})
	require.NoError(t, err)
	var buf logtest.Buffer
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelError})))
	s.LoadOrInit("bad", func(b *quoteBuilder) { b.key = "bad"; b.bad = true })
	s.Cleanup(time.Now()) // logged at warn level: filtered
	require.Empty(t, buf.String())
	_, _ = s.Update("bad", func(*quoteBuilder) error { panic("fn") })
	require.Contains(t, buf.String(), `level=ERROR msg="fn panicked; store unchanged" component=mockstate name=q`)
}

// A *PanicError marshals to words: the function, the key, the value's text
// and the stack, not {}.
func TestPanicErrorMarshalJSON(t *testing.T) {
	s := newQuotes(t, Config[string, quote]{Logger: slog.New(slog.DiscardHandler)})
	s.LoadOrInit("a", setKey("a"))
	_, err := s.Update("a", func(*quoteBuilder) error { panic(errors.New("bad quote")) })
	var pe *PanicError
	require.ErrorAs(t, err, &pe)
	b, err := json.Marshal(pe)
	require.NoError(t, err)
	var m map[string]string
	require.NoError(t, json.Unmarshal(b, &m))
	require.Equal(t, "fn", m["func"])
	require.Equal(t, "a", m["key"])
	require.Equal(t, "bad quote", m["value"])
	require.Contains(t, m["stack"], "goroutine")
}

func TestReasonText(t *testing.T) {
	b, err := json.Marshal(map[string]Reason{"r": ReasonExpired})
	require.NoError(t, err)
	require.JSONEq(t, `{"r":"expired"}`, string(b))
	for r := ReasonSize; r <= ReasonReset; r++ {
		text, err := r.MarshalText()
		require.NoError(t, err)
		var back Reason
		require.NoError(t, back.UnmarshalText(text))
		require.Equal(t, r, back)
	}
	_, err = Reason(9).MarshalText()
	require.Error(t, err)
	var r Reason
	require.EqualError(t, r.UnmarshalText([]byte("lost")), `mockstate: unknown Reason "lost"`)
}

func TestDelete(t *testing.T) {
	var ev evictLog
	s := newQuotes(t, Config[string, quote]{OnEvict: ev.record})
	inits := 0
	s.LoadOrInit("a", func(*quoteBuilder) { inits++ })
	s.LoadOrInit("b", nil)
	require.True(t, s.Delete("a"))
	require.False(t, s.Delete("a"))
	_, ok := s.Get("a")
	require.False(t, ok)
	require.Equal(t, 1, s.Len())
	require.Equal(t, []string{"a:deleted"}, ev.list())
	_, created := s.LoadOrInit("a", func(*quoteBuilder) { inits++ })
	require.True(t, created)
	require.Equal(t, 2, inits, "a deleted key must be initialized afresh")
}

func TestReset(t *testing.T) {
	var ev evictLog
	reg := prometheus.NewPedanticRegistry()
	s := newQuotes(t, Config[string, quote]{OnEvict: ev.record, Registerer: reg})
	old := map[string]*quote{}
	for i := 0; i < 40; i++ {
		k := fmt.Sprint(i)
		old[k], _ = s.LoadOrInit(k, setKey(k))
	}
	s.Reset()
	require.Zero(t, s.Len())
	for k := range old {
		_, ok := s.Get(k)
		require.False(t, ok, k)
	}
	s.Range(func(string, *quote) bool { t.Fatal("Range after Reset visited an entry"); return false })
	require.Len(t, ev.list(), 40)
	for _, e := range ev.list() {
		require.Contains(t, e, ":reset")
	}
	require.EqualValues(t, 40, metric(t, reg, "steadfast_mockstate_evictions_total", metrictest.Labels{"reason": "reset"}))
	require.EqualValues(t, 0, metric(t, reg, "steadfast_mockstate_entries", nil))

	p, created := s.LoadOrInit("3", setKey("3"))
	require.True(t, created, "init must run again after Reset")
	require.NotSame(t, old["3"], p)
	require.Equal(t, 1, s.Len())
}

// The eviction scenario: size 3, insert a, b, c, read b and c,
// insert d: a is evicted.
func TestEvictionReadEntriesSurvive(t *testing.T) {
	var ev evictLog
	s := newQuotes(t, Config[string, quote]{MaxSize: 3, OnEvict: ev.record})
	for _, k := range []string{"a", "b", "c"} {
		s.LoadOrInit(k, setKey(k))
	}
	_, ok := s.Get("b")
	require.True(t, ok)
	_, ok = s.Get("c")
	require.True(t, ok)
	s.LoadOrInit("d", setKey("d"))
	require.Equal(t, []string{"a:size"}, ev.list())
	require.Equal(t, 3, s.Len())
	for _, k := range []string{"b", "c", "d"} {
		_, ok := s.Get(k)
		require.True(t, ok, k)
	}
	_, ok = s.Get("a")
	require.False(t, ok)
}

func TestEvictionFIFOWhenUnread(t *testing.T) {
	var ev evictLog
	reg := prometheus.NewPedanticRegistry()
	s := newQuotes(t, Config[string, quote]{MaxSize: 3, OnEvict: ev.record, Registerer: reg})
	for _, k := range []string{"a", "b", "c", "d", "e", "f"} {
		s.LoadOrInit(k, setKey(k))
		require.LessOrEqual(t, s.Len(), 3)
	}
	require.Equal(t, []string{"a:size", "b:size", "c:size"}, ev.list())
	require.EqualValues(t, 3, metric(t, reg, "steadfast_mockstate_evictions_total", metrictest.Labels{"reason": "size"}))
	require.EqualValues(t, 6, metric(t, reg, "steadfast_mockstate_inserts_total", nil))
	require.EqualValues(t, 3, metric(t, reg, "steadfast_mockstate_entries", nil))
}

func TestEvictionSecondChance(t *testing.T) {
	var ev evictLog
	s := newQuotes(t, Config[string, quote]{MaxSize: 3, OnEvict: ev.record})
	for _, k := range []string{"a", "b", "c"} {
		s.LoadOrInit(k, setKey(k))
	}
	s.Get("a")             // a: used by Get
	s.LoadOrInit("d", nil) // hand clears a, evicts b
	require.Equal(t, []string{"b:size"}, ev.list())
	_, err := s.Update("c", bump) // c: used by Update
	require.NoError(t, err)
	s.LoadOrInit("e", nil) // hand clears c, wraps, evicts a: cleared on the last pass, unused since
	require.Equal(t, []string{"b:size", "a:size"}, ev.list())
	_, created := s.LoadOrInit("d", nil) // d: used by LoadOrInit of an existing key
	require.False(t, created)
	s.LoadOrInit("f", nil) // hand: d used -> cleared, c cleared earlier -> evicted
	require.Equal(t, []string{"b:size", "a:size", "c:size"}, ev.list())
	for _, k := range []string{"d", "e", "f"} {
		_, ok := s.Get(k)
		require.True(t, ok, k)
	}
}

func TestEvictionAllUsedEvictsAtHand(t *testing.T) {
	var ev evictLog
	s := newQuotes(t, Config[string, quote]{MaxSize: 3, OnEvict: ev.record})
	for _, k := range []string{"a", "b", "c"} {
		s.LoadOrInit(k, setKey(k))
		s.Get(k)
	}
	s.LoadOrInit("d", nil) // full pass clears every bit, then a is the first unused
	require.Equal(t, []string{"a:size"}, ev.list())
}

func TestEvictionAfterDeleteFillsHole(t *testing.T) {
	var ev evictLog
	s := newQuotes(t, Config[string, quote]{MaxSize: 3, OnEvict: ev.record})
	for _, k := range []string{"a", "b", "c"} {
		s.LoadOrInit(k, setKey(k))
	}
	s.Delete("b")
	s.LoadOrInit("d", nil) // room left by b: nothing evicted
	require.Equal(t, []string{"b:deleted"}, ev.list())
	require.Equal(t, 3, s.Len())
	s.LoadOrInit("e", nil)
	require.Equal(t, []string{"b:deleted", "a:size"}, ev.list())
}

func TestEvictionUnderConcurrentAccess(t *testing.T) {
	const max = 64
	var evictions atomic.Int64
	reg := prometheus.NewPedanticRegistry()
	s := newQuotes(t, Config[string, quote]{MaxSize: max, Registerer: reg,
		OnEvict: func(k string, q *quote, r Reason) {
			if r != ReasonSize || q == nil || q.Key != k {
				panic(fmt.Sprintf("bad eviction %s %v %v", k, q, r))
			}
			evictions.Add(1)
		}})
	var wg sync.WaitGroup
	var bad atomic.Value
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for i := 0; i < 4000; i++ {
				k := fmt.Sprint(rng.IntN(400))
				if g%2 == 0 {
					s.LoadOrInit(k, setKey(k))
				}
				if q, ok := s.Get(k); ok && q.Key != k {
					bad.Store(fmt.Sprintf("Get(%s) returned %s", k, q.Key))
				}
				if n := s.Len(); n > max {
					bad.Store(fmt.Sprintf("Len %d > MaxSize", n))
				}
			}
		}()
	}
	wg.Wait()
	require.Nil(t, bad.Load())
	require.Equal(t, max, s.Len())
	inserts := metric(t, reg, "steadfast_mockstate_inserts_total", nil)
	evicted := metric(t, reg, "steadfast_mockstate_evictions_total", metrictest.Labels{"reason": "size"})
	require.EqualValues(t, evictions.Load(), evicted)
	require.EqualValues(t, max, inserts-evicted)
	require.Zero(t, metric(t, reg, "steadfast_mockstate_callback_panics_total", metrictest.Labels{"callback": "on_evict"}))
	n := 0
	s.Range(func(k string, q *quote) bool {
		require.Equal(t, k, q.Key)
		n++
		return true
	})
	require.Equal(t, max, n)
}

func TestGetDuringIndexGrowthAndChurn(t *testing.T) {
	s := newQuotes(t, Config[string, quote]{MaxSize: 100000})
	const stable = 100
	for i := 0; i < stable; i++ {
		k := fmt.Sprint("s", i)
		s.LoadOrInit(k, setKey(k))
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	var missed atomic.Value
	for r := 0; r < 2; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				k := fmt.Sprint("s", i%stable)
				if q, ok := s.Get(k); !ok || q.Key != k {
					missed.Store(k)
				}
			}
		}()
	}
	for i := 0; i < 20000; i++ { // grows the index, then churns tombstones
		k := fmt.Sprint("t", i%3000)
		s.LoadOrInit(k, setKey(k))
		if i >= 3000 {
			s.Delete(fmt.Sprint("t", (i+1500)%3000))
		}
	}
	stop.Store(true)
	wg.Wait()
	require.Nil(t, missed.Load(), "a stable key was missed while the index changed")
	require.Equal(t, stable+1500, s.Len())
}

func TestConfigValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config[string, quote]
		want string
	}{
		{"negative MaxSize", Config[string, quote]{MaxSize: -1}, "mockstate: Config.MaxSize"},
		{"huge MaxSize", Config[string, quote]{MaxSize: 1 << 31}, "mockstate: Config.MaxSize"},
		{"negative CleanupInterval", Config[string, quote]{CleanupInterval: -time.Second}, "mockstate: Config.CleanupInterval"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(buildQuote, tc.cfg)
			require.ErrorContains(t, err, tc.want)
		})
	}
	_, err := New[string, quote, quoteBuilder](nil, Config[string, quote]{})
	require.ErrorContains(t, err, "mockstate: build")

	s, err := New(buildQuote, Config[string, quote]{})
	require.NoError(t, err, "Config{} must be valid")
	require.Equal(t, DefaultMaxSize, s.max)
	require.Equal(t, DefaultCleanupInterval, s.interval)

	reg := prometheus.NewPedanticRegistry()
	_, err = New(buildQuote, Config[string, quote]{Name: "one", Registerer: reg})
	require.NoError(t, err)
	_, err = New(buildQuote, Config[string, quote]{Name: "two", Registerer: reg})
	require.NoError(t, err, "stores with different names share a registry")
	_, err = New(buildQuote, Config[string, quote]{Name: "one", Registerer: reg})
	require.ErrorContains(t, err, `mockstate: metrics for name "one" are already registered`)
	var are prometheus.AlreadyRegisteredError
	require.ErrorAs(t, err, &are)
	_, err = New(buildQuote, Config[string, quote]{Name: "three", Registerer: reg})
	require.NoError(t, err, "a failed registration must not leave metrics behind")
}

func TestDefaultMaxSize(t *testing.T) {
	s := newQuotes(t, Config[string, quote]{})
	for i := 0; i < DefaultMaxSize+10; i++ {
		s.LoadOrInit(fmt.Sprint(i), nil)
	}
	require.Equal(t, DefaultMaxSize, s.Len())
}

func TestCleanupExpired(t *testing.T) {
	var ev evictLog
	reg := prometheus.NewPedanticRegistry()
	s := newQuotes(t, Config[string, quote]{Expired: expiredQuote, OnEvict: ev.record, Registerer: reg})
	now := time.Date(2026, 11, 26, 15, 30, 0, 0, time.UTC)
	s.LoadOrInit("past", func(b *quoteBuilder) { b.key = "past"; b.expiry = now.Add(-time.Hour) })
	s.LoadOrInit("now", func(b *quoteBuilder) { b.key = "now"; b.expiry = now })
	s.LoadOrInit("future", func(b *quoteBuilder) { b.key = "future"; b.expiry = now.Add(time.Hour) })
	s.LoadOrInit("never", setKey("never"))

	require.Equal(t, 2, s.Cleanup(now))
	require.ElementsMatch(t, []string{"past:expired", "now:expired"}, ev.list())
	require.Equal(t, 2, s.Len())
	_, ok := s.Get("past")
	require.False(t, ok)
	require.Zero(t, s.Cleanup(now), "a second cleanup at the same time removes nothing")
	require.Equal(t, 1, s.Cleanup(now.Add(2*time.Hour)))
	_, ok = s.Get("never")
	require.True(t, ok)
	require.EqualValues(t, 3, metric(t, reg, "steadfast_mockstate_evictions_total", metrictest.Labels{"reason": "expired"}))
}

func TestCleanupMalformedExpiry(t *testing.T) {
	var logs logtest.Buffer
	reg := prometheus.NewPedanticRegistry()
	s, err := New(buildQuote, Config[string, quote]{
		Expired: func(q *quote, now time.Time) (bool, error) {
			if q.Key == "panics" {
				panic("bad date")
			}
			return expiredQuote(q, now)
		},
		Registerer: reg,
		Logger:     slog.New(slog.NewTextHandler(&logs, nil)),
	})
	require.NoError(t, err)
	now := time.Now()
	s.LoadOrInit("bad", func(b *quoteBuilder) { b.key = "bad"; b.bad = true; b.expiry = now.Add(-time.Hour) })
	s.LoadOrInit("panics", func(b *quoteBuilder) { b.key = "panics"; b.expiry = now.Add(-time.Hour) })
	s.LoadOrInit("old", func(b *quoteBuilder) { b.key = "old"; b.expiry = now.Add(-time.Hour) })

	require.Equal(t, 1, s.Cleanup(now))
	require.Equal(t, 2, s.Len(), "unjudgeable entries must be kept")
	for _, k := range []string{"bad", "panics"} {
		_, ok := s.Get(k)
		require.True(t, ok, k)
	}
	require.EqualValues(t, 2, metric(t, reg, "steadfast_mockstate_expiry_errors_total", nil))
	require.EqualValues(t, 1, metric(t, reg, "steadfast_mockstate_callback_panics_total", metrictest.Labels{"callback": "expired"}))
	require.Contains(t, logs.String(), "cannot judge expiry")
	require.Contains(t, logs.String(), "entries=2")
}

func TestNoExpiry(t *testing.T) {
	s := newQuotes(t, Config[string, quote]{})
	s.LoadOrInit("a", func(b *quoteBuilder) { b.expiry = time.Unix(0, 0) })
	require.Zero(t, s.Cleanup(time.Now()))
	require.Equal(t, 1, s.Len())
}

// Cleanup judges outside the lock while writers delete and re-create the
// same keys. A fresh entry must never be removed by a judgement made on an
// older one, and a removed entry must never come back.
func TestCleanupRacingInserts(t *testing.T) {
	var (
		mu      sync.Mutex
		removed = map[*quote]bool{}
	)
	s := newQuotes(t, Config[string, quote]{
		Expired: expiredQuote,
		OnEvict: func(k string, q *quote, r Reason) {
			mu.Lock()
			defer mu.Unlock()
			if removed[q] {
				panic("entry removed twice: " + k)
			}
			removed[q] = true
		},
	})
	old := time.Unix(1, 0)
	var stop atomic.Bool
	var cleaner sync.WaitGroup
	cleaner.Add(1)
	go func() {
		defer cleaner.Done()
		for !stop.Load() {
			s.Cleanup(time.Now())
		}
	}()
	const keys = 300
	fresh := make([]*quote, keys)
	var writers sync.WaitGroup
	for g := 0; g < 2; g++ {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for round := 0; round < 5; round++ {
				for i := g; i < keys; i += 2 {
					k := fmt.Sprint(i)
					s.LoadOrInit(k, func(b *quoteBuilder) { b.key = k; b.expiry = old }) // expired at birth
					s.Delete(k)
					s.LoadOrInit(k, func(b *quoteBuilder) { b.key = k; b.expiry = old })
					if round == 4 {
						s.Delete(k)
						p, created := s.LoadOrInit(k, setKey(k)) // never expires
						if !created {
							panic("key " + k + " was not created afresh")
						}
						fresh[i] = p
					}
				}
			}
		}()
	}
	writers.Wait()
	stop.Store(true)
	cleaner.Wait()
	s.Cleanup(time.Now())

	require.Equal(t, keys, s.Len())
	for i, p := range fresh {
		got, ok := s.Get(fmt.Sprint(i))
		require.True(t, ok, "fresh entry %d lost", i)
		require.Same(t, p, got)
	}
	s.Range(func(k string, q *quote) bool {
		require.False(t, removed[q], "removed entry %s came back", k)
		return true
	})
}

func TestRunCleansOnFakeClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ev evictLog
		s := newQuotes(t, Config[string, quote]{
			Expired:         expiredQuote,
			CleanupInterval: time.Minute,
			OnEvict:         ev.record,
		})
		start := time.Now()
		s.LoadOrInit("soon", func(b *quoteBuilder) { b.key = "soon"; b.expiry = start.Add(90 * time.Second) })
		s.LoadOrInit("later", func(b *quoteBuilder) { b.key = "later"; b.expiry = start.Add(150 * time.Second) })
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()

		time.Sleep(time.Minute + time.Second) // first cleanup at 1m: nothing expired yet
		synctest.Wait()
		require.Equal(t, 2, s.Len())
		time.Sleep(time.Minute) // second at 2m: "soon" expired
		synctest.Wait()
		require.Equal(t, []string{"soon:expired"}, ev.list())
		time.Sleep(time.Minute) // third at 3m: "later" expired
		synctest.Wait()
		require.Zero(t, s.Len())

		cancel()
		require.NoError(t, <-done, "Run returns nil when its context ends")
	})
}

func TestRunWithoutExpiryWaitsForContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newQuotes(t, Config[string, quote]{})
		ctx, cancel := context.WithTimeout(t.Context(), time.Hour)
		defer cancel()
		require.NoError(t, s.Run(ctx))
		require.ErrorIs(t, ctx.Err(), context.DeadlineExceeded)
	})
}

func TestRange(t *testing.T) {
	s := newQuotes(t, Config[string, quote]{})
	for i := 0; i < 50; i++ {
		k := fmt.Sprint(i)
		s.LoadOrInit(k, setKey(k))
	}
	seen := map[string]int{}
	s.Range(func(k string, q *quote) bool {
		seen[k]++
		// fn may call the store: Range holds no lock.
		_, err := s.Update(k, bump)
		require.NoError(t, err)
		return true
	})
	require.Len(t, seen, 50)
	for k, n := range seen {
		require.Equal(t, 1, n, k)
	}
	calls := 0
	s.Range(func(string, *quote) bool { calls++; return calls < 3 })
	require.Equal(t, 3, calls, "Range must stop when fn returns false")
	s.Range(nil)
}

func TestOnEvictPanicContained(t *testing.T) {
	var logs logtest.Buffer
	reg := prometheus.NewPedanticRegistry()
	s, err := New(buildQuote, Config[string, quote]{
		MaxSize:    1,
		OnEvict:    func(string, *quote, Reason) { panic("callback") },
		Registerer: reg,
		Logger:     slog.New(slog.NewTextHandler(&logs, nil)),
	})
	require.NoError(t, err)
	s.LoadOrInit("a", nil)
	_, created := s.LoadOrInit("b", nil)
	require.True(t, created)
	require.True(t, s.Delete("b"))
	_, created = s.LoadOrInit("c", nil)
	require.True(t, created)
	require.EqualValues(t, 2, metric(t, reg, "steadfast_mockstate_callback_panics_total", metrictest.Labels{"callback": "on_evict"}))
	require.Contains(t, logs.String(), `msg="OnEvict panicked" component=mockstate name="" key=a reason=size panic=callback stack=`)
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	s := newQuotes(t, Config[string, quote]{Name: "chain", Registerer: reg, MaxSize: 2})
	s.LoadOrInit("a", nil)
	s.LoadOrInit("b", nil)
	s.LoadOrInit("c", nil)
	_, _ = s.Update("c", bump)
	_, _ = s.Update("c", bump)
	s.Delete("c")
	l := metrictest.Labels{"name": "chain"}
	require.EqualValues(t, 3, metric(t, reg, "steadfast_mockstate_inserts_total", l))
	require.EqualValues(t, 2, metric(t, reg, "steadfast_mockstate_updates_total", l))
	require.EqualValues(t, 1, metric(t, reg, "steadfast_mockstate_entries", l))
	require.EqualValues(t, 1, metric(t, reg, "steadfast_mockstate_evictions_total", metrictest.Labels{"name": "chain", "reason": "size"}))
	require.EqualValues(t, 1, metric(t, reg, "steadfast_mockstate_evictions_total", metrictest.Labels{"name": "chain", "reason": "deleted"}))
	require.EqualValues(t, 0, metric(t, reg, "steadfast_mockstate_expiry_errors_total", l))
	s.Reset()
	require.EqualValues(t, 3, metric(t, reg, "steadfast_mockstate_inserts_total", l), "counters are cumulative across Reset")
}

func TestReasonString(t *testing.T) {
	require.Equal(t, "size", ReasonSize.String())
	require.Equal(t, "expired", ReasonExpired.String())
	require.Equal(t, "deleted", ReasonDeleted.String())
	require.Equal(t, "reset", ReasonReset.String())
	require.Equal(t, "Reason(9)", Reason(9).String())
}

func TestGetDoesNotAllocate(t *testing.T) {
	s, err := New(func(b *int) *int { v := *b; return &v }, Config[int, int]{})
	require.NoError(t, err)
	for i := 0; i < 1000; i++ {
		s.LoadOrInit(i, func(b *int) { *b = i })
	}
	allocs := testing.AllocsPerRun(100, func() {
		for i := 0; i < 1000; i += 7 {
			if p, ok := s.Get(i); !ok || *p != i {
				panic("miss")
			}
		}
		s.Get(-1)
	})
	require.Zero(t, allocs)
	allocs = testing.AllocsPerRun(100, func() { _, _ = s.Update(5, func(b *int) error { *b++; return nil }) })
	require.EqualValues(t, 1, allocs, "Update allocates only the new snapshot")
}

// While a writer holds the lock (its fn is blocked), Get, Len and Range
// still answer: readers never wait for writers.
func TestReadersNotBlockedByWriter(t *testing.T) {
	s := newQuotes(t, Config[string, quote]{})
	p0, _ := s.LoadOrInit("a", func(b *quoteBuilder) { b.key = "a"; b.a = 1 })
	inside, release := make(chan struct{}), make(chan struct{})
	done := make(chan *quote)
	go func() {
		p, _ := s.Update("a", func(b *quoteBuilder) error {
			close(inside)
			<-release
			b.a = 2
			return nil
		})
		done <- p
	}()
	<-inside // the writer holds the lock now
	got, ok := s.Get("a")
	require.True(t, ok)
	require.Same(t, p0, got, "a reader saw a snapshot before it was published")
	require.Equal(t, 1, s.Len())
	n := 0
	s.Range(func(string, *quote) bool { n++; return true })
	require.Equal(t, 1, n)
	close(release)
	p1 := <-done
	got, _ = s.Get("a")
	require.Same(t, p1, got)
	require.Equal(t, 2, got.A)
}

// A slow Expired runs without the lock: writers proceed meanwhile.
func TestCleanupDoesNotBlockWriters(t *testing.T) {
	inside, release := make(chan struct{}), make(chan struct{})
	s := newQuotes(t, Config[string, quote]{Expired: func(q *quote, now time.Time) (bool, error) {
		if q.Key == "slow" {
			close(inside)
			<-release
		}
		return false, nil
	}})
	s.LoadOrInit("slow", setKey("slow"))
	done := make(chan int)
	go func() { done <- s.Cleanup(time.Now()) }()
	<-inside
	_, created := s.LoadOrInit("b", setKey("b"))
	require.True(t, created)
	_, err := s.Update("slow", bump)
	require.NoError(t, err)
	require.True(t, s.Delete("b"))
	close(release)
	require.Zero(t, <-done)
}

// Range visits every entry present for the whole call exactly once, even
// while the index grows under it.
func TestRangeDuringGrowth(t *testing.T) {
	s := newQuotes(t, Config[string, quote]{MaxSize: 100000})
	for i := 0; i < 200; i++ {
		k := fmt.Sprint("s", i)
		s.LoadOrInit(k, setKey(k))
	}
	var done atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // grows the index through several rebuilds, then stops
		defer wg.Done()
		defer done.Store(true)
		for i := 0; i < 30000; i++ {
			k := fmt.Sprint("g", i)
			s.LoadOrInit(k, setKey(k))
		}
	}()
	for round := 0; round < 3 || !done.Load(); round++ {
		seen := map[string]int{}
		s.Range(func(k string, q *quote) bool {
			seen[k]++
			return true
		})
		for i := 0; i < 200; i++ {
			require.Equal(t, 1, seen[fmt.Sprint("s", i)], "round %d key s%d", round, i)
		}
		for k, n := range seen {
			require.Equal(t, 1, n, k)
		}
	}
	wg.Wait()
	require.Equal(t, 30200, s.Len())
}

// OnEvict runs after the writer lock is released, for every reason, so it
// may call any method of the store.
func TestOnEvictRunsOutsideLock(t *testing.T) {
	var s *Store[string, quote, quoteBuilder]
	var got []string
	s = newQuotes(t, Config[string, quote]{
		MaxSize: 2,
		Expired: expiredQuote,
		OnEvict: func(k string, q *quote, r Reason) {
			if !s.mu.TryLock() {
				t.Errorf("OnEvict(%s, %v) called with the writer lock held", k, r)
				return
			}
			s.mu.Unlock()
			require.Equal(t, k, q.Key)
			got = append(got, k+":"+r.String())
		},
	})
	s.LoadOrInit("a", func(b *quoteBuilder) { b.key = "a"; b.expiry = time.Unix(1, 0) })
	s.LoadOrInit("b", setKey("b"))
	s.LoadOrInit("c", setKey("c")) // evicts a (size)
	s.Delete("b")                  // deleted
	s.LoadOrInit("d", func(b *quoteBuilder) { b.key = "d"; b.expiry = time.Unix(1, 0) })
	s.Cleanup(time.Unix(2, 0)) // d expired
	s.Reset()                  // c reset
	require.Equal(t, []string{"a:size", "b:deleted", "d:expired", "c:reset"}, got)
}

func TestUpdateBuildPanicRestoresBuilder(t *testing.T) {
	explode := false
	s, err := New(func(b *quoteBuilder) *quote {
		if explode {
			panic("build")
		}
		return buildQuote(b)
	}, Config[string, quote]{Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	p0, _ := s.LoadOrInit("a", func(b *quoteBuilder) { b.key = "a"; b.a = 1 })
	explode = true
	_, err = s.Update("a", bump)
	var pe *PanicError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, "build", pe.Func)
	explode = false
	got, _ := s.Get("a")
	require.Same(t, p0, got, "a panicking build published a snapshot")
	p1, err := s.Update("a", bump) // the lock was released
	require.NoError(t, err)
	require.Equal(t, 2, p1.A, "builder not restored after build panicked")
}

// A Get that loaded the index before it was rebuilt or reset goes on
// probing the old table. Through it, every entry still live is found with
// its current snapshot, and no removed entry is found: removal is marked on
// the entry, not only in the table it was removed from.
func TestOldTableAfterRebuildAndReset(t *testing.T) {
	s, err := New(func(b *[2]int) *[2]int { v := *b; return &v }, Config[int, [2]int]{MaxSize: 100000})
	require.NoError(t, err)
	for k := 0; k < 100; k++ {
		s.LoadOrInit(k, func(b *[2]int) { *b = [2]int{k, 1} })
	}
	old := s.tab.Load()
	for k := 1000; k < 3000; k++ { // several rebuilds
		s.LoadOrInit(k, nil)
	}
	require.NotSame(t, old, s.tab.Load(), "the index was not rebuilt")
	for k := 0; k < 50; k++ { // removed after the rebuild: old still holds them
		require.True(t, s.Delete(k))
	}
	for k := 50; k < 100; k++ {
		_, err := s.Update(k, func(b *[2]int) error { b[1] = 2; return nil })
		require.NoError(t, err)
	}
	s.LoadOrInit(0, func(b *[2]int) { *b = [2]int{0, 3} }) // a new entry for a removed key
	for k := 0; k < 100; k++ {
		e := old.find(s.hash(k), k)
		if k < 50 {
			require.Nil(t, e, "removed key %d found through the old table", k)
			continue
		}
		require.NotNil(t, e, "live key %d missed through the old table", k)
		require.Equal(t, [2]int{k, 2}, *e.snap.Load())
	}
	p, ok := s.Get(0)
	require.True(t, ok)
	require.Equal(t, [2]int{0, 3}, *p)

	cur := s.tab.Load()
	s.Reset()
	for k := 0; k < 3000; k++ {
		require.Nil(t, cur.find(s.hash(k), k), "key %d found through the table replaced by Reset", k)
	}

	// Entries evicted for room, after the table a reader holds was replaced.
	small, err := New(func(b *[2]int) *[2]int { v := *b; return &v }, Config[int, [2]int]{MaxSize: 20})
	require.NoError(t, err)
	for k := 0; k < 20; k++ {
		small.LoadOrInit(k, nil)
	}
	old = small.tab.Load()
	for k := 20; k < 40; k++ { // evicts 0..19; tombstones force a rebuild
		small.LoadOrInit(k, nil)
	}
	require.NotSame(t, old, small.tab.Load(), "the index was not rebuilt")
	for k := 0; k < 20; k++ {
		require.Nil(t, old.find(small.hash(k), k), "evicted key %d found through the old table", k)
	}
}

// Cleanup judges without the lock, then removes under it only what is
// unchanged. Entries deleted, re-created or updated after they were judged
// expired are left alone: no second removal, no loss of the new entry, and
// an updated entry waits for the next cleanup.
func TestCleanupSkipsEntriesChangedAfterJudging(t *testing.T) {
	var ev evictLog
	var calls atomic.Int32
	judged, release := make(chan struct{}), make(chan struct{})
	s := newQuotes(t, Config[string, quote]{
		OnEvict: ev.record,
		Expired: func(q *quote, now time.Time) (bool, error) {
			if calls.Add(1) == 4 { // every entry has been read; hold the last verdict
				close(judged)
				<-release
			}
			return expiredQuote(q, now)
		},
	})
	past := time.Unix(1, 0)
	for _, k := range []string{"a", "b", "c", "d"} {
		s.LoadOrInit(k, func(b *quoteBuilder) { b.key = k; b.expiry = past })
	}
	done := make(chan int)
	go func() { done <- s.Cleanup(time.Unix(2, 0)) }()
	<-judged
	require.True(t, s.Delete("a"))
	fresh, created := s.LoadOrInit("a", setKey("a")) // never expires
	require.True(t, created)
	_, err := s.Update("b", bump) // still expired, but not the snapshot judged
	require.NoError(t, err)
	require.True(t, s.Delete("d"))
	close(release)

	require.Equal(t, 1, <-done, "only c was unchanged")
	require.ElementsMatch(t, []string{"a:deleted", "d:deleted", "c:expired"}, ev.list())
	got, ok := s.Get("a")
	require.True(t, ok, "the entry created after judging was lost")
	require.Same(t, fresh, got)
	_, ok = s.Get("b")
	require.True(t, ok)

	require.Equal(t, 1, s.Cleanup(time.Unix(2, 0)), "the next cleanup judges b's new snapshot")
	_, ok = s.Get("b")
	require.False(t, ok)
	_, ok = s.Get("a")
	require.True(t, ok)
}
