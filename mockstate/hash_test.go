package mockstate

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// checkKeys inserts keys into a fresh store, reads each back, deletes half
// and checks the rest, and reports the longest probe sequence in the index.
func checkKeys[K comparable](t *testing.T, keys []K) (maxProbe int) {
	t.Helper()
	s, err := New(func(b *K) *K { v := *b; return &v }, Config[K, K]{MaxSize: len(keys)})
	require.NoError(t, err)
	for _, k := range keys {
		_, created := s.LoadOrInit(k, func(b *K) { *b = k })
		require.True(t, created, "%v", k)
	}
	require.Equal(t, len(keys), s.Len())
	for _, k := range keys {
		p, ok := s.Get(k)
		require.True(t, ok, "%v", k)
		require.Equal(t, k, *p)
	}
	tab := s.tab.Load()
	for _, k := range keys {
		h := s.hash(k)
		n := 0
		for i := h & tab.mask; tab.slots[i].Load().key != k; i = (i + 1) & tab.mask {
			n++
		}
		maxProbe = max(maxProbe, n)
	}
	for i, k := range keys {
		if i%2 == 0 {
			require.True(t, s.Delete(k))
		}
	}
	for i, k := range keys {
		_, ok := s.Get(k)
		require.Equal(t, i%2 == 1, ok, "%v", k)
	}
	return maxProbe
}

type token uint32

type pair struct {
	exchange string
	token    uint32
}

func TestKeyKinds(t *testing.T) {
	const n = 5000
	ints := make([]int, n)
	shifted := make([]uint64, n)
	tokens := make([]token, n)
	strs := make([]string, n)
	pairs := make([]pair, n)
	for i := range n {
		ints[i] = i
		shifted[i] = uint64(i) << 32 // only high bits differ
		tokens[i] = token(256265 + 1024*i)
		strs[i] = fmt.Sprintf("NIFTY26NOV%dCE", 20000+50*i)
		pairs[i] = pair{"NFO", uint32(i)}
	}
	small := make([]int8, 0, 256)
	for i := -128; i < 128; i++ {
		small = append(small, int8(i))
	}
	medium := make([]uint16, 0, 4096)
	for i := 0; i < 4096; i++ {
		medium = append(medium, uint16(i*16))
	}
	// With the index at most half full, a good hash keeps probe sequences
	// short; a clustering one would make them run into the hundreds.
	for name, probe := range map[string]int{
		"int":          checkKeys(t, ints),
		"uint64 <<32":  checkKeys(t, shifted),
		"named uint32": checkKeys(t, tokens),
		"string":       checkKeys(t, strs),
		"struct":       checkKeys(t, pairs),
		"int8":         checkKeys(t, small),
		"uint16":       checkKeys(t, medium),
	} {
		require.Less(t, probe, 64, "%s keys: longest probe %d", name, probe)
	}
}

func TestKeyKindDetection(t *testing.T) {
	require.Equal(t, keyInt64, newKeyHasher[int]().kind)
	require.Equal(t, keyInt64, newKeyHasher[uint64]().kind)
	require.Equal(t, keyInt32, newKeyHasher[token]().kind)
	require.Equal(t, keyInt16, newKeyHasher[int16]().kind)
	require.Equal(t, keyInt8, newKeyHasher[uint8]().kind)
	require.Equal(t, keyString, newKeyHasher[string]().kind)
	require.Equal(t, keyOther, newKeyHasher[pair]().kind)
	require.Equal(t, keyOther, newKeyHasher[float64]().kind)
	require.Equal(t, keyOther, newKeyHasher[*int]().kind)
}

// TestMixSpreadsStructuredKeys checks the integer mix for every multiplier
// a store might draw, not only the one a single run happens to get: 5,000
// keys of common shapes (sequential, strided, only high bits set) go into
// a table of 16,384 slots, as in a store at the default size, with linear
// probing. A mix whose low bits depend on few key bits leaves long runs
// for some multipliers, and then Get probes hundreds of slots.
func TestMixSpreadsStructuredKeys(t *testing.T) {
	const (
		keys = 5000
		size = 1 << 14
	)
	shapes := map[string]func(i uint64) uint64{
		"i":      func(i uint64) uint64 { return i },
		"-i":     func(i uint64) uint64 { return -i },
		"i*1024": func(i uint64) uint64 { return i * 1024 },
		"i<<16":  func(i uint64) uint64 { return i << 16 },
		"i<<20":  func(i uint64) uint64 { return i << 20 },
		"i<<32":  func(i uint64) uint64 { return i << 32 },
		"i<<40":  func(i uint64) uint64 { return i << 40 },
		"i<<51":  func(i uint64) uint64 { return i << 51 },
	}
	rng := rand.New(rand.NewPCG(5, 5))
	for name, shape := range shapes {
		for range 200 {
			seed := rng.Uint64()
			var taken [size]bool
			worst := 0
			for i := range uint64(keys) {
				h := mix(shape(i), seed)
				n := 0
				for taken[(h+uint64(n))&(size-1)] {
					n++
				}
				taken[(h+uint64(n))&(size-1)] = true
				worst = max(worst, n)
			}
			require.Less(t, worst, 64, "%s keys, seed %#x: longest probe %d", name, seed, worst)
		}
	}
}
