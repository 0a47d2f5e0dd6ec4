// Package backoff computes exponential backoff delays with full jitter, shared
// by the packages that retry (taskmon and reloader).
package backoff

import (
	"math"
	"math/rand/v2"
	"time"
)

// Ceiling returns the upper bound of the delay before retry number attempt
// (0 for the first retry): base doubled attempt times, capped at max.
func Ceiling(base, max time.Duration, attempt int) time.Duration {
	if base <= 0 {
		return 0
	}
	d := base
	for i := 0; i < attempt; i++ {
		if d >= max/2 {
			return max
		}
		d *= 2
	}
	if d > max {
		return max
	}
	return d
}

// Full returns a delay drawn uniformly from [0, Ceiling(base, max, attempt)]
// ("full jitter"), which spreads retries of many clients apart.
func Full(base, max time.Duration, attempt int) time.Duration {
	c := Ceiling(base, max, attempt)
	if c <= 0 {
		return 0
	}
	if c == math.MaxInt64 {
		return time.Duration(rand.Int64N(int64(c))) // [0, c) : c+1 would overflow
	}
	return time.Duration(rand.Int64N(int64(c) + 1))
}

// Bounds fills in the defaults of a lower and an upper bound, each zero when
// the user left it unset, so that a default yields to the bound the user
// set: an unset lo is loDef shrunk to hi, an unset hi is hiDef grown to lo.
// It reports false, with the values unchanged, when the user set both and
// hi is below lo; the caller words the error with its field names.
func Bounds(lo, loDef, hi, hiDef time.Duration) (time.Duration, time.Duration, bool) {
	switch {
	case lo == 0 && hi == 0:
		return loDef, max(hiDef, loDef), true
	case lo == 0:
		return min(loDef, hi), hi, true
	case hi == 0:
		return lo, max(hiDef, lo), true
	}
	return lo, hi, hi >= lo
}
