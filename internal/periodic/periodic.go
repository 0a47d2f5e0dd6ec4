// Package periodic runs a function on a fixed period until a context ends.
package periodic

import (
	"context"
	"time"
)

// Run calls fn every d, in the caller's goroutine, until ctx ends. It starts
// no goroutine; a call of fn that takes longer than d delays the next one
// (a time.Ticker drops the ticks missed meanwhile). d must be positive.
func Run(ctx context.Context, d time.Duration, fn func()) {
	tk := time.NewTicker(d)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
			fn()
		}
	}
}
