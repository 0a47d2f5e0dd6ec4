package ticker

import (
	"io"
	"log/slog"
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
