package periodic

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 3500*time.Millisecond)
		defer cancel()
		start, n := time.Now(), 0
		Run(ctx, time.Second, func() {
			n++
			if got, want := time.Since(start), time.Duration(n)*time.Second; got != want {
				t.Errorf("call %d at %v, want %v", n, got, want)
			}
		})
		if n != 3 {
			t.Fatalf("%d calls in 3.5s, want 3", n)
		}
	})
}
