package ticker_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/kite"
)

func TestEnumsMarshalToWords(t *testing.T) {
	b, err := json.Marshal(map[string]any{
		"kind": ticker.KindPut, "tick": ticker.TickCrossed, "row": kite.RowTokenMismatch,
	})
	require.NoError(t, err)
	require.JSONEq(t, `{"kind":"put","tick":"crossed","row":"token_mismatch"}`, string(b))
	var back struct {
		Kind ticker.Kind       `json:"kind"`
		Tick ticker.TickReason `json:"tick"`
		Row  kite.RowReason    `json:"row"`
	}
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, ticker.KindPut, back.Kind)
	require.Equal(t, ticker.TickCrossed, back.Tick)
	require.Equal(t, kite.RowTokenMismatch, back.Row)
	var k ticker.Kind
	require.ErrorContains(t, k.UnmarshalText([]byte("swap")), `unknown kind "swap"`)
	for r := kite.RowFieldCount; r.String() != "unknown"; r++ {
		var got kite.RowReason
		require.NoError(t, got.UnmarshalText([]byte(r.String())))
		require.Equal(t, r, got)
	}
}
