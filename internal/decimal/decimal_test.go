package decimal_test

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/steadfast-go/steadfast/internal/decimal"
)

func TestAppend(t *testing.T) {
	for _, c := range []struct {
		f      float64
		places int
		want   string
	}{
		{413.40000000000003, 2, "413.4"},          // 413.4 computed as 413.3 + 0.1
		{59458.200000000004, 2, "59458.2"},        // an ask from 59458.15 + 0.05
		{182.35, 2, "182.35"},                     // already the nearest float
		{24000, 2, "24000"},                       // no point for an integer
		{0.05, 2, "0.05"},                         // leading zeros kept
		{-3.42, 6, "-3.42"},                       // negative, trailing zeros trimmed
		{-0.001, 2, "0"},                          // rounds to zero: no "-0"
		{math.Copysign(0, -1), 2, "0"},            // negative zero
		{0.125, 2, "0.13"},                        // half away from zero
		{-0.125, 2, "-0.13"},                      // likewise below zero
		{83.2525, 7, "83.2525"},                   // a CDS price
		{83.25250000000001, 7, "83.2525"},         // with noise
		{0.0000001, 7, "0.0000001"},               // the smallest CDS step
		{0.00041234567, 8, "0.00041235"},          // a gamma
		{1234.5678, 0, "1235"},                    // no places: an integer
		{9007199254740991, 0, "9007199254740991"}, // 2^53-1, the largest
		{-9007199254740991, 0, "-9007199254740991"},
		{1e-20, 15, "0"},
	} {
		got, ok := decimal.Append([]byte("x"), c.f, c.places)
		if !ok || string(got) != "x"+c.want {
			t.Errorf("Append(%v, %d) = %q, %v; want %q", c.f, c.places, got, ok, "x"+c.want)
		}
	}
}

func TestAppendRefuses(t *testing.T) {
	for _, c := range []struct {
		f      float64
		places int
	}{
		{math.NaN(), 2}, {math.Inf(1), 2}, {math.Inf(-1), 0},
		{1, -1}, {1, decimal.MaxPlaces + 1},
		{1 << 53, 0}, {-(1 << 53), 0}, {1e12, 7}, {math.MaxFloat64, 2},
	} {
		if got, ok := decimal.Append([]byte("x"), c.f, c.places); ok || string(got) != "x" {
			t.Errorf("Append(%v, %d) = %q, %v; want nothing appended and false", c.f, c.places, got, ok)
		}
	}
}

// On a grid of decimals (never a half), Append writes what strconv writes at
// that precision, trimmed, for the value and for the value with noise.
func TestAppendMatchesStrconv(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 200_000 {
		places := r.IntN(9)
		scale := math.Pow10(places)
		n := r.Int64N(1 << 40)
		if r.IntN(2) == 0 {
			n = -n
		}
		f := float64(n) / scale
		noisy := []float64{f, math.Nextafter(f, math.Inf(1)), math.Nextafter(f, math.Inf(-1))}
		if places > 0 {
			step := 1 / scale
			noisy = append(noisy, (f-step)+step) // a sum, as a price update makes
		}
		want := trim(strconv.FormatFloat(f, 'f', places, 64))
		for _, g := range noisy {
			got, ok := decimal.Append(nil, g, places)
			if !ok || string(got) != want {
				t.Fatalf("Append(%v, %d) = %q, %v; want %q", g, places, got, ok, want)
			}
		}
	}
}

// trim drops trailing fraction zeros and a bare point, and a minus sign
// before zero.
func trim(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

func TestAppendAllocatesNothing(t *testing.T) {
	buf := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() { buf, _ = decimal.Append(buf[:0], 59458.200000000004, 2) }); n != 0 {
		t.Errorf("Append allocates %v times, want 0", n)
	}
}

func TestPricePlaces(t *testing.T) {
	for seg, want := range map[string]int{
		"NFO-OPT": 2, "NFO-FUT": 2, "NSE": 2, "INDICES": 2, "BSE": 2, "BFO-OPT": 2, "MCX-FUT": 2, "": 2,
		"CDS-FUT": 7, "CDS-OPT": 7, "CDS": 7, "BCD-FUT": 4, "BCD-OPT": 4, "BCD": 4, "CDSX": 2,
	} {
		if got := decimal.PricePlaces(seg); got != want {
			t.Errorf("PricePlaces(%q) = %d, want %d", seg, got, want)
		}
	}
	for token, want := range map[uint32]int{256265: 2, 13368834: 2, 0x1203: 7, 0x1206: 4, 0x1209: 2, 3: 7} {
		if got := decimal.TokenPlaces(token); got != want {
			t.Errorf("TokenPlaces(%#x) = %d, want %d", token, got, want)
		}
	}
}

// Whatever the input, Append never panics, and what it writes parses back
// to within half a unit of the last place.
func FuzzAppend(f *testing.F) {
	f.Add(413.40000000000003, 2)
	f.Add(-0.125, 2)
	f.Add(math.NaN(), 7)
	f.Add(1e300, 15)
	f.Fuzz(func(t *testing.T, v float64, places int) {
		got, ok := decimal.Append(nil, v, places)
		if !ok {
			if len(got) != 0 {
				t.Fatalf("Append(%v, %d) refused but wrote %q", v, places, got)
			}
			return
		}
		back, err := strconv.ParseFloat(string(got), 64)
		if err != nil {
			t.Fatalf("Append(%v, %d) wrote %q: %v", v, places, got, err)
		}
		half := 0.5 / math.Pow10(places)
		if d := math.Abs(back - v); d > half*(1+1e-9)+math.Abs(v)*1e-15 {
			t.Fatalf("Append(%v, %d) wrote %q, %v away", v, places, got, d)
		}
		if strings.ContainsAny(string(got), "eE+") || strings.HasSuffix(string(got), ".") {
			t.Fatalf("Append(%v, %d) wrote %q", v, places, got)
		}
	})
}

func BenchmarkAppend(b *testing.B) {
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = decimal.Append(buf[:0], 59458.200000000004, 2)
	}
}
