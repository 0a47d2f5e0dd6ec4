package ticker

import "context"

// Source streams ticks for the instruments subscribed to it. The engine owns
// one Source: ticker/mock's simulated market, ticker/kite's live feed, or
// any type with these two methods.
type Source interface {
	// Run streams ticks until ctx ends, calling emit for each one. emit never
	// blocks. Run returns nil when ctx ends, or an error when the source fails;
	// the engine counts a return before ctx ends as a failure too.
	Run(ctx context.Context, emit func(Tick)) error
	// Subscribe applies a subscription diff: instruments in remove stop
	// streaming, then instruments in add start (an instrument whose
	// description changed is in both). It must be idempotent: after it
	// returns an error the engine sends the same diff again on its next
	// reload, so adding an instrument already subscribed, or removing one
	// that is not, must do nothing.
	Subscribe(add, remove []Instrument) error
}

// Publisher delivers batches of ticks downstream (to Redis, say).
type Publisher interface {
	// Publish delivers one batch. It must honour ctx's deadline.
	Publish(ctx context.Context, ticks []Tick) error
}
