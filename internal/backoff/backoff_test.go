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
