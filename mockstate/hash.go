package mockstate

import (
	"hash/maphash"
	"math/bits"
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
	kind uint8
	mul  uint64
	seed maphash.Seed
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
	h := keyHasher{seed: maphash.MakeSeed(), mul: rand.Uint64() | 1}
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
		return mix(*(*uint64)(p), h.mul)
	case keyInt32:
		return mix(uint64(*(*uint32)(p)), h.mul)
	case keyString:
		return maphash.String(h.seed, *(*string)(p))
	case keyInt16:
		return mix(uint64(*(*uint16)(p)), h.mul)
	case keyInt8:
		return mix(uint64(*(*uint8)(p)), h.mul)
	}
	return maphash.Comparable(h.seed, k)
}

// mix spreads an integer over 64 bits: a 64×64→128-bit multiply by a
// random odd constant, folded. Every output bit depends on every input bit,
// so the low bits used to pick a slot are well spread.
func mix(x, mul uint64) uint64 {
	hi, lo := bits.Mul64(x^(mul>>7), mul)
	return hi ^ lo
}
