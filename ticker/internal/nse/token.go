package nse

import (
	"math"

	"github.com/steadfast-go/steadfast/ticker"
)

// SegIndices is Kite's segment code of the INDICES segment, the low byte of
// an index's instrument token.
const SegIndices = 9

// ContractHash is FNV-1a over a contract's identity.
func ContractHash(name string, d Day, strike float64, kind ticker.Kind) uint64 {
	const offset64, prime64 = 14695981039346656037, 1099511628211
	h := uint64(offset64)
	for i := 0; i < len(name); i++ {
		h = (h ^ uint64(name[i])) * prime64
	}
	for _, v := range [3]uint64{uint64(d), uint64(int64(math.Round(strike * 100))), uint64(kind)} {
		for i := 0; i < 8; i++ {
			h = (h ^ (v & 0xff)) * prime64
			v >>= 8
		}
	}
	return h
}

// TokenRound returns the exchange token of a contract's round'th try: the
// hash keyed by the seed, folded to 24 bits, never zero.
func TokenRound(seed, h, round uint64) uint32 {
	x := Mix(h ^ seed ^ (round * 0x9e3779b97f4a7c15))
	ex := uint32(x^x>>24^x>>48) & 0xFFFFFF
	if ex == 0 {
		ex = 1
	}
	return ex
}

// SyntheticRounds bounds the rehash rounds IsSynthetic tries: a universe of
// n contracts needs a k-th round with probability about (n/2²⁴)^k.
const SyntheticRounds = 4

// IsSynthetic reports whether in's token is one that market.Universe gives it for
// seed: the mock rolls only such contracts, since tokens and lot sizes of a
// real listing cannot be invented. A contract of another listing passes
// only if its exchange token equals the hash by chance (about 4 in 2²⁴).
func IsSynthetic(seed uint64, in *ticker.Instrument) bool {
	if in.Token&0xFF == SegIndices || in.Token&0xFF == 0 {
		return false
	}
	strike := in.Strike
	if in.Kind == ticker.KindFuture {
		strike = 0
	}
	h := ContractHash(in.Underlying, DayOf(in.Expiry), strike, in.Kind)
	for round := uint64(0); round < SyntheticRounds; round++ {
		if TokenRound(seed, h, round) == in.Token>>8 {
			return true
		}
	}
	return false
}

// Mix is the splitmix64 finaliser.
func Mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
