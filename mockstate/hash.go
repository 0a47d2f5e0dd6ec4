package mockstate

import (
	"hash/maphash"
	"math/rand/v2"
	"reflect"
	"unsafe"
)

// keyHasher hashes keys with a per-store random seed. Integer keys (any
// type whose underlying type is a fixed-size integer, such as an
// instrument token uint32) and string keys take a fast path; every other
// comparable type goes through maphash.Comparable, which is correct for
// all of them but a few nanoseconds slower.
type keyHasher struct {
	kind  uint8
	iseed uint64 // seed of the integer mix
	seed  maphash.Seed
}

const (
	keyOther uint8 = iota
	keyInt8
	keyInt16
	keyInt32
	keyInt64
	keyString
)

func newKeyHasher[K comparable]() keyHasher {
	h := keyHasher{seed: maphash.MakeSeed(), iseed: rand.Uint64()}
	t := reflect.TypeFor[K]()
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		switch t.Size() {
		case 1:
			h.kind = keyInt8
		case 2:
			h.kind = keyInt16
		case 4:
			h.kind = keyInt32
		case 8:
			h.kind = keyInt64
		}
	case reflect.String:
		h.kind = keyString
	}
	return h
}

// hashKey returns k's hash. Store.Get repeats its two integer cases inline
// (Go does not inline this function); the unsafe reads only reinterpret k
// as the integer or string it is (newKeyHasher checked its kind and size).
func hashKey[K comparable](h *keyHasher, k K) uint64 {
	p := unsafe.Pointer(&k)
	switch h.kind {
	case keyInt64:
		return mix(*(*uint64)(p), h.iseed)
	case keyInt32:
		return mix(uint64(*(*uint32)(p)), h.iseed)
	case keyString:
		return maphash.String(h.seed, *(*string)(p))
	case keyInt16:
		return mix(uint64(*(*uint16)(p)), h.iseed)
	case keyInt8:
		return mix(uint64(*(*uint8)(p)), h.iseed)
	}
	return maphash.Comparable(h.seed, k)
}

// mix spreads an integer over 64 bits: the key, xored with the store's
// random seed, goes through MurmurHash3's 64-bit finalizer (fmix64), a
// bijection in which every output bit depends on every input bit. A single
// multiply-and-fold is not enough: its low bits, which pick the slot, then
// depend on few key bits, and for some seeds keys that differ only in
// their high bits (or by a power-of-two stride) pile up in long runs.
func mix(x, seed uint64) uint64 {
	x ^= seed
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}
