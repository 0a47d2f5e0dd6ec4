package mockstate

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type version struct{ key, v int }

// TestAgainstModel drives a store with random operations from one goroutine
// and checks every answer against a plain map kept in step through
// OnEvict. A small key range exercises tombstone reuse and index rebuilds;
// a small MaxSize exercises eviction.
func TestAgainstModel(t *testing.T) {
	for _, max := range []int{7, 64, 100000} {
		rng := rand.New(rand.NewPCG(uint64(max), 42))
		model := map[int]int{}
		var evictErr string
		s, err := New(func(b *version) *version { v := *b; return &v }, Config[int, version]{
			MaxSize: max,
			Expired: func(p *version, _ time.Time) (bool, error) { return p.v%5 == 3, nil },
			OnEvict: func(k int, p *version, r Reason) {
				if v, ok := model[k]; !ok || v != p.v || p.key != k {
					evictErr = "evicted an entry the model does not hold"
				}
				delete(model, k)
			},
		})
		require.NoError(t, err)
		for op := 0; op < 60000; op++ {
			k := rng.IntN(300)
			switch x := rng.IntN(100); {
			case x < 30:
				p, ok := s.Get(k)
				v, want := model[k]
				require.Equal(t, want, ok, "Get(%d)", k)
				if ok {
					require.Equal(t, version{k, v}, *p)
				}
			case x < 55:
				_, had := model[k]
				p, created := s.LoadOrInit(k, func(b *version) { b.key = k })
				require.Equal(t, !had, created, "LoadOrInit(%d)", k)
				if created {
					model[k] = 0
				}
				require.Equal(t, version{k, model[k]}, *p)
			case x < 80:
				p, err := s.Update(k, func(b *version) error { b.v++; return nil })
				if _, had := model[k]; !had {
					require.ErrorIs(t, err, ErrNotFound)
					break
				}
				require.NoError(t, err)
				model[k]++
				require.Equal(t, version{k, model[k]}, *p)
			case x < 95:
				_, had := model[k]
				require.Equal(t, had, s.Delete(k), "Delete(%d)", k)
			case x < 99:
				want := 0
				for _, v := range model {
					if v%5 == 3 {
						want++
					}
				}
				require.Equal(t, want, s.Cleanup(time.Now()))
			default:
				s.Reset()
				require.Empty(t, model)
			}
			require.Empty(t, evictErr)
			require.Equal(t, len(model), s.Len())
			require.LessOrEqual(t, s.Len(), max)
		}
		seen := map[int]int{}
		s.Range(func(k int, p *version) bool { seen[k] = p.v; return true })
		require.Equal(t, model, seen)
	}
}
