// Package replica runs ticker engines as replicas coordinated on Redis, so
// that several processes on several machines share a universe too big for
// one broker key, and take over from each other when one of them dies.
//
//	r, err := replica.New(replica.Config{
//		Client:   client,   // go-redis, made with ContextTimeoutEnabled
//		ID:       "ticker-a", // stable across restarts; default the host name
//		Capacity: 24,       // partitions this replica's broker key can stream
//		Engine: ticker.Config{
//			Source:      src,      // this replica's own feed
//			Publisher:   pub,      // e.g. a redispub.Publisher
//			Instruments: universe, // the whole universe, the same on every replica
//		},
//	})
//	err = r.Run(ctx) // returns nil when ctx ends, after releasing its leases
//
// # How it works
//
// The universe is split into Config.Partitions (default 64) by PartitionOf,
// a stable hash of underlying and expiry date, so an option chain stays
// together. Every LeaseTTL/3 (LeaseTTL defaults to 5s) a replica renews its
// membership, with its Capacity, in a sorted set that expires members after
// LeaseTTL, and computes the owner of every partition from the live members
// (Assign: rendezvous hashing bounded by capacity and by 1.25 × an even
// share, so a join or a leave moves about partitions/members of them). It
// then releases what is no longer its own, renews its leases, and acquires
// the free leases of its own partitions. A lease is a key set NX with PX =
// LeaseTTL; only its holder renews or deletes it. The Replica runs one
// ticker.Engine whose Instruments returns the held partitions' instruments
// and reloads it when ownership changes: it composes the engine, it does
// not change it.
//
// Each acquisition gives the partition a new epoch: one above the last, and
// at least the time on Redis in milliseconds, so epochs keep rising when
// Redis restarts without its data (as long as its clock does not step back
// by more than the restart took). The Publisher wrapper stamps every tick
// with its partition's epoch (ticker.Tick.Epoch, "epoch" in the redispub
// payload) and drops, counting them, the ticks of partitions not validly
// held. A consumer keeps, per instrument, the tick with the highest epoch
// and drops older epochs; market data is latest-value, so the brief overlap
// of two holders around a take-over is harmless and never seen by such a
// consumer.
//
// Self-fencing: a lease lives LeaseTTL from when Redis ran the renewal; the
// replica counts LeaseTTL − FenceMargin (default LeaseTTL/5) from when it
// sent it, and publishes a partition only before then, with that instant
// as the deadline of the Publish. The margin covers a publish in flight, a
// stop of the process (a GC pause, a descheduled VM) between the check and
// the write, and clock-rate drift, which is parts per million. With the
// defaults a replica survives two failed renewals in a row; after the
// third it stops. While Redis cannot be reached a replica keeps publishing
// what it holds until then, and stops: no split brain beyond the TTL.
// Health says since when Redis is unreachable and when publishing stops.
//
// A crashed replica's partitions are taken over once its leases lapse: a
// gap of at most about LeaseTTL (the others look again just after its
// membership expires). A replica that stops cleanly releases its leases
// and leaves, and the others take over at their next round.
//
// # Modes
//
// Scale-out: give each replica the Capacity its broker key allows; the
// universe is spread over them. Active/standby is the special case of a
// replica whose Capacity covers the universe with others that have Standby
// set: a standby takes only what the active members cannot hold, so it
// waits until the primary dies, then takes everything, and gives it back
// when the primary returns.
//
// # Redis
//
// The leases are written on go-redis Lua scripts rather than with
// github.com/bsm/redislock: its latest release (v0.9.4) offers no fencing
// token, and a token must be issued in the same atomic step as the lease,
// from the same store. Every script reads the time from Redis, so member
// expiries and epochs come from one clock. A group's keys share the hash
// tag {Group}, so a Redis Cluster keeps them in one slot. Partitions must
// be the same on every replica of a group; Health reports a member that
// disagrees.
//
// # Observability
//
// Health (JSON) gives the status and its reasons, the partitions owned, the
// members seen, the time since the last renewal, when the held leases stop
// being published, the counts and the engine's own Health. Metrics, with
// the constant label name: steadfast_replica_partitions_owned, _members,
// _seconds_since_renew and _redis_unreachable (gauges), and the counters
// _leases_acquired_total, _leases_taken_over_total, _leases_renewed_total,
// _leases_lost_total, _leases_released_total and _fenced_ticks_total; the
// engine registers its own on the same Registerer.
//
// A Replica is safe for concurrent use. Run starts two goroutines, the
// engine's Run and the coordination loop, and returns after both have
// ended and the leases were released (or the release timed out after one
// renew interval).
package replica
