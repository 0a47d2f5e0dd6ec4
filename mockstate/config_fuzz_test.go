package mockstate_test

import (
	"strings"
	"testing"
	"time"

	"github.com/steadfast-go/steadfast/mockstate"
)

// FuzzNew checks that any Config is either refused with an error naming
// one of its fields or gives a working store; never a panic. The seed
// corpus is in testdata/fuzz/FuzzNew.
func FuzzNew(f *testing.F) {
	f.Fuzz(func(t *testing.T, maxSize int, cleanup int64) {
		s, err := mockstate.New(func(b *int) *int { v := *b; return &v }, mockstate.Config[string, int]{
			MaxSize: maxSize, CleanupInterval: time.Duration(cleanup),
		})
		if err != nil {
			if !strings.Contains(err.Error(), "MaxSize") && !strings.Contains(err.Error(), "CleanupInterval") {
				t.Fatalf("error names no field: %v", err)
			}
			return
		}
		if _, err := s.Upsert("k", nil, func(b *int) error { *b = 1; return nil }); err != nil {
			t.Fatalf("a new store refused an upsert: %v", err)
		}
		if v, ok := s.Get("k"); !ok || *v != 1 {
			t.Fatalf("Get after Upsert = %v, %v", v, ok)
		}
	})
}
