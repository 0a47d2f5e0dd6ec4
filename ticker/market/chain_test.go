package market

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/stretchr/testify/require"
)

func symbols(ins []ticker.Instrument) []string {
	out := make([]string, len(ins))
	for i, in := range ins {
		out[i] = in.Symbol
	}
	return out
}

func TestSelectChain(t *testing.T) {
	ins, err := Universe(UniverseConfig{Date: ymd(2025, 12, 1), Underlyings: legacySpecs(), Futures: -1, Expiries: 3, StrikesPerSide: 10})
	require.NoError(t, err)
	orig := slices.Clone(ins)

	tests := []struct {
		name       string
		underlying string
		spot       float64
		asOfDay    int // day of December 2025
		expiries   int
		side       int
		want       []string
	}{
		{
			name: "nearest strike above spot", underlying: "NIFTY", spot: 24030, asOfDay: 1, expiries: 1, side: 1,
			want: []string{
				"NIFTY25D0224000CE", "NIFTY25D0224000PE", "NIFTY25D0224050CE", "NIFTY25D0224050PE",
				"NIFTY25D0224100CE", "NIFTY25D0224100PE",
			},
		},
		{
			name: "tie goes to the lower strike", underlying: "NIFTY", spot: 24025, asOfDay: 1, expiries: 1, side: 0,
			want: []string{"NIFTY25D0224000CE", "NIFTY25D0224000PE"},
		},
		{
			name: "two expiries, sorted by expiry", underlying: "NIFTY", spot: 24000, asOfDay: 1, expiries: 2, side: 0,
			want: []string{"NIFTY25D0224000CE", "NIFTY25D0224000PE", "NIFTY25D0924000CE", "NIFTY25D0924000PE"},
		},
		{
			name: "expired contracts are left out", underlying: "NIFTY", spot: 24000, asOfDay: 3, expiries: 5, side: 0,
			want: []string{"NIFTY25D0924000CE", "NIFTY25D0924000PE", "NIFTY25D1624000CE", "NIFTY25D1624000PE"},
		},
		{
			name: "spot beyond the listed strikes clamps", underlying: "BANKNIFTY", spot: 90000, asOfDay: 1, expiries: 1, side: 1,
			want: []string{"BANKNIFTY25DEC51900CE", "BANKNIFTY25DEC51900PE", "BANKNIFTY25DEC52000CE", "BANKNIFTY25DEC52000PE"},
		},
		{
			name: "negative side is the ATM strike only", underlying: "BANKNIFTY", spot: 51040, asOfDay: 1, expiries: 1, side: -3,
			want: []string{"BANKNIFTY25DEC51000CE", "BANKNIFTY25DEC51000PE"},
		},
		{name: "unknown underlying", underlying: "FINNIFTY", spot: 24000, asOfDay: 1, expiries: 1, side: 1, want: nil},
		{name: "zero expiries", underlying: "NIFTY", spot: 24000, asOfDay: 1, expiries: 0, side: 1, want: nil},
		{name: "after every expiry", underlying: "NIFTY", spot: 24000, asOfDay: 17, expiries: 1, side: 1, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SelectChain(ins, tt.underlying, tt.spot, ymdhms(2025, 12, tt.asOfDay, 10, 0, 0), tt.expiries, tt.side)
			if tt.want == nil {
				require.Empty(t, got)
				return
			}
			require.Equal(t, tt.want, symbols(got))
		})
	}
	require.Equal(t, orig, ins, "input modified")
}

func TestSelectChainIgnoresInputOrderAndPerExpiryStrikes(t *testing.T) {
	ins, err := Universe(UniverseConfig{Date: ymd(2025, 12, 1), Underlyings: legacySpecs(), Futures: -1, Expiries: 2, StrikesPerSide: 4})
	require.NoError(t, err)
	want := SelectChain(ins, "NIFTY", 24010, ymd(2025, 12, 1), 2, 2)
	require.Len(t, want, 2*5*2)

	shuffled := slices.Clone(ins)
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	require.Equal(t, want, SelectChain(shuffled, "NIFTY", 24010, ymd(2025, 12, 1), 2, 2))

	// Drop the 24000 strike of the second expiry only: that expiry's ATM
	// becomes 24050 (nearest listed), the first keeps 24000.
	var holed []ticker.Instrument
	for _, in := range ins {
		if !(in.Strike == 24000 && in.Expiry.Equal(ymdhms(2025, 12, 9, 15, 30, 0))) {
			holed = append(holed, in)
		}
	}
	got := SelectChain(holed, "NIFTY", 24010, ymd(2025, 12, 1), 2, 0)
	require.Equal(t, []string{"NIFTY25D0224000CE", "NIFTY25D0224000PE", "NIFTY25D0924050CE", "NIFTY25D0924050PE"}, symbols(got))
}
