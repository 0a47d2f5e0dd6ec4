package breaker

import (
	"math/bits"
	"sync/atomic"
	"unsafe"
)

// The per-generation counts live in striped counters so that concurrent
// calls on different CPUs do not write one shared cache line. Each counter
// word holds the low 32 bits of the generation in its top half and a count
// in its low half, and is incremented by compare-and-swap only while its
// generation matches the caller's permit. The caller checks the whole state
// word just before, so a tag can match a wrong generation only if 2^32 state
// changes happen between that check and the compare-and-swap. A state change re-tags every
// counter under the lock (folding the old counts into the cumulative totals)
// before it publishes the new state word, so a late result of an earlier
// generation can never count in the new one.
//
// Stripes are padded to their own cache lines; there are eight per
// GOMAXPROCS (as of New), rounded up to a power of two and at most 64. A
// goroutine picks one by hashing the address of its stack, so each goroutine
// keeps reusing its own stripe and two running goroutines share one with a
// probability of about one in the number of stripes, which costs speed, never
// correctness (stacks move when they grow; the address is only a hint). Two
// goroutines that do share a stripe keep sharing it while they run, and
// because the runtime reuses freed stacks, a few long-lived workers restarted
// together may land on the same pair of stripes again: sharing then costs
// them a contended compare-and-swap (about 4× the uncontended path; see
// bench/breaker.md). Sharing never costs exactness (see above).
const (
	countBits = 32
	countMask = 1<<countBits - 1
	// foldAt is the count at which a counter is folded into genBase/cum so
	// that it never overflows: every add that reaches it folds, and calls
	// in flight would need another 2^31 increments to overflow.
	foldAt = 1 << (countBits - 1)
)

// stripe holds one counter per result kind, padded so that two stripes never
// share a cache line (or an adjacent-line prefetch pair).
type stripe struct {
	c [numResults]counter
	_ [128 - numResults*8]byte
}

type counter struct{ atomic.Uint64 }

// tagOf returns the counter tag of the generation in state word w.
func tagOf(w uint64) uint64 { return (w >> genShift) << countBits }

// sameGen reports whether counter value v is tagged with w's generation.
func sameGen(v, w uint64) bool { return v&^countMask == tagOf(w) }

// add counts one call for the generation of w and returns the new count, or
// reports false, counting nothing, when the counter is tagged with another
// generation.
func (c *counter) add(w uint64) (uint64, bool) {
	tag := tagOf(w)
	for {
		v := c.Load()
		if v&^countMask != tag {
			return 0, false
		}
		if c.CompareAndSwap(v, v+1) {
			return (v + 1) & countMask, true
		}
	}
}

// stripe returns the stripe for the calling goroutine. It hashes the address
// of a stack variable: goroutines have distinct stacks, so concurrent callers
// usually land on distinct stripes, while one goroutine keeps reusing its own
// (warm) stripe. Any stripe is correct; the choice only affects speed.
func (b *Breaker) stripe() *stripe {
	var x byte
	return &b.stripes[stripeIndex(uint64(uintptr(unsafe.Pointer(&x))), b.shift)]
}

// stripeIndex hashes a stack address to a stripe index below 1<<(64-shift).
//
// Goroutine stacks sit at small multiples d of 2 KiB from one another, so the
// hash must separate h and h+d for every small d, not only on average: a
// single multiplication (Fibonacci hashing) sends h and h+d to stripes a
// fixed distance apart, and for some d (13, 21, ..., 233) to the same one
// nearly always. A second round, after folding the high half into the low
// one, makes every d collide with probability about 1/stripes.
func stripeIndex(addr uint64, shift uint8) uint64 {
	h := addr >> 11 // 2 KiB: the smallest goroutine stack
	h *= 0x9e3779b97f4a7c15
	h ^= h >> 32
	h *= 0x9e3779b97f4a7c15
	return h >> shift
}

// stripeCount returns the number of stripes for procs Ps: eight per P,
// rounded up to a power of two, at most 64. Goroutines pick stripes by hash,
// so two running at once share one with probability about 1/stripes.
func stripeCount(procs int) int {
	n := 1 << bits.Len(uint(max(procs, 1)*8-1))
	return min(n, 64)
}

// log2 returns floor(log2(n)) for n > 0.
func log2(n int) int { return bits.Len(uint(n)) - 1 }

// retag tags every stripe counter with the generation of state word w,
// moving the counts of the generation of old into the cumulative totals.
// Under mu (or before the breaker is shared).
func (b *Breaker) retag(old, w uint64) {
	for i := range b.stripes {
		for r := range b.stripes[i].c {
			if v := b.stripes[i].c[r].Swap(tagOf(w)); sameGen(v, old) {
				b.cum[r].Add(v & countMask)
			}
		}
	}
}

// fold moves the counts for r of every stripe that reached foldAt into
// genBase and cum before they can overflow. Under mu.
func (b *Breaker) fold(w uint64, r result) {
	for i := range b.stripes {
		c := &b.stripes[i].c[r]
		if v := c.Load(); !sameGen(v, w) || v&countMask < foldAt {
			continue
		}
		n := c.Swap(tagOf(w)) & countMask
		b.genBase[r] += n
		b.cum[r].Add(n)
	}
}

// counted returns the results of kind r in the generation of w: those folded
// into genBase plus those on the stripes. Under mu.
func (b *Breaker) counted(w uint64, r result) uint64 {
	return b.genBase[r] + b.sum(w, r)
}

// sum adds up the stripes' counts of r for the generation of w.
func (b *Breaker) sum(w uint64, r result) uint64 {
	var n uint64
	for i := range b.stripes {
		if v := b.stripes[i].c[r].Load(); sameGen(v, w) {
			n += v & countMask
		}
	}
	return n
}
