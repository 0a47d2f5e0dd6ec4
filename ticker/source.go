package ticker

import "context"

// Source streams ticks for the instruments subscribed to it. The engine owns
// one Source; the mock source in this package is the default.
type Source interface {
	// Run streams ticks until ctx ends, calling emit for each one. emit never
	// blocks. Run returns nil when ctx ends, or an error when the source fails.
	Run(ctx context.Context, emit func(Tick)) error
	// Subscribe applies a subscription diff: instruments in add start
	// streaming, instruments in remove stop.
	Subscribe(add, remove []Instrument) error
}

// Publisher delivers batches of ticks downstream (to Redis, say).
type Publisher interface {
	// Publish delivers one batch. It must honour ctx's deadline.
	Publish(ctx context.Context, ticks []Tick) error
}
