package backoff

import (
	"testing"
	"time"
)

func TestCeiling(t *testing.T) {
	cases := []struct {
		base, max time.Duration
		attempt   int
		want      time.Duration
	}{
		{time.Second, time.Minute, 0, time.Second},
		{time.Second, time.Minute, 1, 2 * time.Second},
		{time.Second, time.Minute, 5, 32 * time.Second},
		{time.Second, time.Minute, 6, time.Minute},
		{time.Second, time.Minute, 1000, time.Minute},
		{0, time.Minute, 3, 0},
		{time.Minute, time.Second, 0, time.Second},
	}
	for _, c := range cases {
		if got := Ceiling(c.base, c.max, c.attempt); got != c.want {
			t.Errorf("Ceiling(%v, %v, %d) = %v, want %v", c.base, c.max, c.attempt, got, c.want)
		}
	}
}

func TestFullWithinCeiling(t *testing.T) {
	for attempt := 0; attempt < 10; attempt++ {
		c := Ceiling(time.Second, time.Minute, attempt)
		for i := 0; i < 100; i++ {
			if d := Full(time.Second, time.Minute, attempt); d < 0 || d > c {
				t.Fatalf("Full(attempt %d) = %v, outside [0, %v]", attempt, d, c)
			}
		}
	}
}

func TestFullHugeCeiling(t *testing.T) {
	const max = time.Duration(1<<63 - 1)
	for attempt := 0; attempt < 70; attempt++ {
		if d := Full(max, max, attempt); d < 0 {
			t.Fatalf("Full(max, max, %d) = %v, want non-negative", attempt, d)
		}
		if d := Full(time.Second, max, attempt); d < 0 {
			t.Fatalf("Full(1s, max, %d) = %v, want non-negative", attempt, d)
		}
	}
}

func TestBounds(t *testing.T) {
	const s, m = time.Second, time.Minute
	cases := []struct {
		lo, hi         time.Duration
		wantLo, wantHi time.Duration
		ok             bool
	}{
		{0, 0, s, m, true},
		{0, 500 * time.Millisecond, 500 * time.Millisecond, 500 * time.Millisecond, true}, // the default lo yields
		{0, 2 * m, s, 2 * m, true},
		{2 * m, 0, 2 * m, 2 * m, true}, // the default hi yields
		{2 * s, 0, 2 * s, m, true},
		{2 * s, 3 * s, 2 * s, 3 * s, true},
		{3 * s, 2 * s, 3 * s, 2 * s, false}, // both set, out of order
	}
	for _, c := range cases {
		lo, hi, ok := Bounds(c.lo, s, c.hi, m)
		if lo != c.wantLo || hi != c.wantHi || ok != c.ok {
			t.Errorf("Bounds(%v, 1s, %v, 1m) = %v, %v, %v; want %v, %v, %v", c.lo, c.hi, lo, hi, ok, c.wantLo, c.wantHi, c.ok)
		}
	}
}
