// Package replica runs ticker engines as replicas coordinated on Redis.
// Several processes on several machines share a universe too big for one
// broker key, and take over from each other when one of them dies.
//
//	r, err := replica.New(replica.Config{
//		Client:   client,     // go-redis, made with ContextTimeoutEnabled
//		ID:       "ticker-a", // stable across restarts
//		Capacity: 24,         // partitions this replica's broker key can stream
//		Engine: ticker.Config{
//			Source:      src,      // this replica's own feed
//			Publisher:   pub,      // e.g. a redispub.Publisher
//			Instruments: universe, // the whole universe, the same on every replica
//		},
//	})
//	err = r.Run(ctx) // nil when ctx ends, after releasing its leases
//
// Config documents each default on its field.
//
// # Ownership
//
// PartitionOf splits the universe into Config.Partitions by a stable hash
// of underlying and expiry date, so an option chain stays together. Every
// round a replica renews its membership and computes the owner of every
// partition from the live members (Assign: rendezvous hashing bounded by
// capacity and by 1.25 × an even share). It releases what is no longer its
// own, renews its leases and acquires the free leases of its own
// partitions. A lease is a Redis key with a TTL; only its holder renews or
// deletes it. The Replica runs one ticker.Engine whose Instruments returns
// the held partitions' instruments. It composes the engine and does not
// change it.
//
// # Epochs and fencing
//
// Each acquisition gives the partition a new, higher epoch. The Publisher
// wrapper stamps every tick with its partition's epoch (Tick.Epoch,
// "epoch" in the redispub payload). It drops, and counts, the ticks of
// partitions not validly held. A consumer keeps, per instrument, the tick
// with the highest epoch. Market data is latest-value, so the brief overlap
// of two holders around a take-over is never seen by such a consumer.
//
// A replica publishes a partition only until LeaseTTL − FenceMargin after
// it sent the last renewal, with that instant as the Publish deadline.
// While Redis cannot be reached, a replica keeps publishing what it holds
// until then, and stops: no split brain beyond the TTL. A crashed replica's
// partitions are taken over once its leases lapse, within about LeaseTTL.
// A replica that stops cleanly releases its leases.
//
// # Modes
//
// Scale-out: give each replica the Capacity its broker key allows. The
// universe is spread over them. Active/standby: one replica's Capacity
// covers the universe, and the others set Standby. A standby takes only
// what the active members cannot hold. So it waits until the primary dies,
// takes everything, and gives it back when the primary returns.
//
// A group's keys share the hash tag {Group}, so a Redis Cluster keeps them
// in one slot. Partitions must be the same on every replica of a group.
// Health reports a member that disagrees.
//
// # Observability
//
// Health (JSON) gives the status and its reasons, the partitions owned,
// the members seen, when the held leases stop being published, the counts
// and the engine's own Health. Metrics (constant label "name"):
// steadfast_replica_partitions_owned, _members, _seconds_since_renew,
// _redis_unreachable, _leases_acquired_total, _leases_taken_over_total,
// _leases_renewed_total, _leases_lost_total, _leases_released_total and
// _fenced_ticks_total.
//
// A Replica is safe for concurrent use. Run starts two goroutines, the
// engine's Run and the coordination loop. It returns after both have ended
// and the leases were released.
package replica
