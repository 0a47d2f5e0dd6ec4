package bench

// The peers this module measures against. Listing them here keeps go.mod
// stable while individual benchmark files come and go.
import (
	_ "github.com/bep/debounce"
	_ "github.com/eapache/go-resiliency/breaker"
	_ "github.com/failsafe-go/failsafe-go"
	_ "github.com/failsafe-go/failsafe-go/circuitbreaker"
	_ "github.com/hashicorp/golang-lru/v2"
	_ "github.com/hashicorp/golang-lru/v2/expirable"
	_ "github.com/maypok86/otter/v2"
	_ "github.com/sony/gobreaker/v2"
	_ "github.com/sourcegraph/conc"
	_ "github.com/thejerf/suture/v4"
	_ "golang.org/x/sync/errgroup"
)
