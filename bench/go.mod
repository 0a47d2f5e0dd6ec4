module github.com/steadfast-go/steadfast/bench

go 1.26.0

replace github.com/steadfast-go/steadfast => ..

require (
	github.com/bep/debounce v1.2.1
	github.com/eapache/go-resiliency v1.7.0
	github.com/failsafe-go/failsafe-go v0.9.8
	github.com/hashicorp/golang-lru/v2 v2.0.7
	github.com/maypok86/otter/v2 v2.4.0
	github.com/sony/gobreaker/v2 v2.4.0
	github.com/sourcegraph/conc v0.3.0
	github.com/thejerf/suture/v4 v4.0.6
	golang.org/x/sync v0.25.0
)

require github.com/bits-and-blooms/bitset v1.24.4 // indirect
