package ticker

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// MockConfig.Now is the user's code: Subscribe must not call it with the
// source's lock held (a clock that reads the source would deadlock).
func TestMockNowCalledWithoutLock(t *testing.T) {
	at := time.Date(2025, 12, 1, 10, 0, 0, 0, IST())
	var m *MockSource
	calls := 0
	now := func() time.Time {
		calls++
		if !m.mu.TryLock() {
			t.Error("MockConfig.Now called with the source's lock held")
		} else {
			m.mu.Unlock()
		}
		return at
	}
	m, err := NewMockSource(MockConfig{Now: now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	ins, err := Universe(UniverseConfig{Date: at, Expiries: 1, StrikesPerSide: 1})
	require.NoError(t, err)
	require.NoError(t, m.Subscribe(ins, nil))
	require.Positive(t, calls)
	require.Len(t, m.Instruments(), len(ins))
}

// The seam between the two halves: the broker's dump, parsed, feeds the mock.
// Its index (underlying "NIFTY 50"), futures and options tick; instruments
// the mock has no model for are refused one by one; when the weekly expiry
// passes, the next one the dump already lists is kept and no duplicate of it
// is rolled in.
func TestMockStreamsParsedDump(t *testing.T) {
	ins, rep := parseFile(t, "testdata/instruments.csv", ParseConfig{})
	require.Zero(t, rep.Skipped)
	monday := ymdhms(2025, 12, 1, 10, 0, 0)
	m, err := NewMockSource(MockConfig{Seed: 1, Now: func() time.Time { return monday },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	err = m.Subscribe(ins, nil)
	require.ErrorIs(t, err, ErrUnknownUnderlying)
	for _, name := range []string{"RELIANCE", "HDFCBANK", "INFY", "TCS", "NIFTY FIN SERVICE"} {
		require.ErrorContains(t, err, strconv.Quote(name))
	}
	require.Len(t, m.Instruments(), len(ins)-5)

	byToken := map[uint32]Instrument{}
	for _, in := range ins {
		byToken[in.Token] = in
	}
	check := func(now time.Time) map[string]bool {
		expiries := map[string]bool{}
		m.Step(now, func(tk Tick) {
			require.NoError(t, tk.Validate())
			in, ok := byToken[tk.Token]
			if !ok {
				t.Errorf("token %d ticked but is not in the dump", tk.Token)
				return
			}
			require.Positive(t, tk.LastPrice, in.Symbol)
			if in.Kind.IsOption() {
				require.Positive(t, tk.IV, in.Symbol)
				expiries[in.Expiry.Format(time.DateOnly)] = true
			}
		})
		return expiries
	}
	require.Equal(t, map[string]bool{"2025-12-02": true, "2025-12-09": true, "2025-12-30": true}, check(monday))
	// After Tuesday's close: the 2 December options are gone, 9 December's
	// stay, and NIFTY's lost expiry is replaced by a synthetic one (16 December).
	after := ymdhms(2025, 12, 2, 15, 31, 0)
	m.Step(after, nil)
	for _, in := range m.Instruments() {
		byToken[in.Token] = in
	}
	got := check(after.Add(time.Minute))
	require.False(t, got["2025-12-02"])
	require.True(t, got["2025-12-09"])
	require.True(t, got["2025-12-16"])
	require.True(t, got["2025-12-30"])
	n := map[string]int{}
	for _, in := range m.Instruments() {
		if in.Kind.IsOption() && in.Underlying == "NIFTY" {
			n[in.Expiry.Format(time.DateOnly)]++
		}
	}
	require.Equal(t, 2*(2*DefaultMockRollStrikes+1), n["2025-12-16"])
	require.Less(t, n["2025-12-09"], 2*(2*DefaultMockRollStrikes+1), "the dump's 9 December strikes, none added")
}

// lockCheckHandler is a slog.Handler that reports a record logged while the
// mock's lock is held: the Logger's handler is the caller's code too.
type lockCheckHandler struct {
	t       *testing.T
	m       **MockSource
	records *int
}

func (h lockCheckHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h lockCheckHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h lockCheckHandler) WithGroup(string) slog.Handler            { return h }
func (h lockCheckHandler) Handle(_ context.Context, r slog.Record) error {
	*h.records++
	if m := *h.m; m != nil {
		if !m.mu.TryLock() {
			h.t.Errorf("%q logged with the mock's lock held", r.Message)
		} else {
			m.mu.Unlock()
		}
	}
	return nil
}

func TestMockLogsWithoutLock(t *testing.T) {
	var m *MockSource
	records := 0
	monday := ymdhms(2025, 12, 1, 10, 0, 0)
	spec := NIFTY()
	m, err := NewMockSource(MockConfig{Seed: 1, Now: func() time.Time { return monday }, MaxSize: 8,
		Underlyings: []UnderlyingSpec{spec}, Logger: slog.New(lockCheckHandler{t, &m, &records})})
	require.NoError(t, err)
	ins, err := Universe(UniverseConfig{Seed: 1, Date: monday, Underlyings: []UnderlyingSpec{spec}, Expiries: 1, StrikesPerSide: 1})
	require.NoError(t, err)
	require.NoError(t, m.Subscribe(ins, nil))
	m.Step(ymdhms(2025, 12, 2, 15, 30, 0), nil) // rolls: logs the roll and that the store is full
	require.GreaterOrEqual(t, records, 2)
}
