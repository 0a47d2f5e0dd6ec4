package mockstate

import (
	"context"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/steadfast-go/steadfast/internal/logattr"
)

// Cleanup removes the entries whose snapshot Config.Expired reports expired
// at now and returns how many it removed. OnEvict is called for each with
// ReasonExpired before Cleanup returns. Without Config.Expired it does
// nothing and returns 0.
//
// Expired is called without the store's lock, on the snapshot current when
// the scan reaches the entry, so a cleanup never delays Get and holds the
// writer lock only to remove what it judged expired. An entry is removed
// only if it is still the same entry with the same snapshot that was judged:
// an entry updated meanwhile is left for the next cleanup, and a key deleted
// and created again meanwhile keeps its new entry. A removed entry is never
// brought back.
//
// An entry whose expiry cannot be judged (Expired returns an error or
// panics) is kept and counted; Cleanup logs one record per call that had
// such entries, with their number and the first key and error, and the
// value and stack of the first panic if there was one.
func (s *Store[K, S, B]) Cleanup(now time.Time) int {
	if s.expired == nil {
		return 0
	}
	type judged struct {
		e *entry[K, S, B]
		p *S
	}
	var (
		expired    []judged
		bad        int
		firstKey   K
		firstErr   error
		firstPanic *PanicError
	)
	for e, p := range s.tab.Load().live {
		ok, err := s.judge(e.key, p, now)
		if err != nil {
			if bad == 0 {
				firstKey, firstErr = e.key, err
			}
			if pe, isPanic := err.(*PanicError); isPanic && firstPanic == nil {
				firstPanic = pe
			}
			bad++
			continue
		}
		if ok {
			expired = append(expired, judged{e, p})
		}
	}
	if bad > 0 {
		s.m.expiryErrors.Add(float64(bad))
		attrs := []slog.Attr{slog.Int("entries", bad), slog.Any("first_key", firstKey), logattr.Err(firstErr)}
		if firstPanic != nil {
			pa := logattr.PanicAttrs(firstPanic.Value, firstPanic.Stack)
			attrs = append(attrs, pa[0], pa[1])
		}
		s.log(slog.LevelWarn, "cannot judge expiry; entries kept", attrs...)
	}
	if len(expired) == 0 {
		return 0
	}
	n := 0
	s.mu.Lock()
	for _, j := range expired {
		// Still the entry and the snapshot we judged? Otherwise it was
		// removed (never bring it back) or updated (judge it next time).
		if j.e.snap.Load() != j.p {
			continue
		}
		s.removeLocked(j.e)
		expired[n] = j
		n++
	}
	s.mu.Unlock()
	s.m.evicted[ReasonExpired].Add(float64(n))
	for _, j := range expired[:n] {
		s.notify(j.e.key, j.p, ReasonExpired)
	}
	return n
}

// judge calls Expired, turning a panic into a *PanicError.
func (s *Store[K, S, B]) judge(k K, p *S, now time.Time) (ok bool, err error) {
	defer func() {
		if v := recover(); v != nil {
			s.m.panics[panicExpired].Inc()
			ok, err = false, &PanicError{Func: panicName(panicExpired), Key: k, Value: v, Stack: debug.Stack()}
		}
	}()
	return s.expired(p, now)
}

// Run calls Cleanup(time.Now()) every CleanupInterval until ctx ends, then
// returns nil (the caller asked it to stop; Run has no failure of its own).
// It starts no goroutine: the cleanups run in the caller's goroutine, one at
// a time. Without Config.Expired it just waits for ctx. Several Run calls
// may run at once, and Run may be called again after it returned; each
// cleans on its own schedule.
func (s *Store[K, S, B]) Run(ctx context.Context) error {
	if s.expired == nil {
		<-ctx.Done()
		return nil
	}
	tk := time.NewTicker(s.interval)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tk.C:
			s.Cleanup(time.Now())
		}
	}
}
