package replica

import (
	"cmp"
	"hash/fnv"
	"math/bits"
	"slices"
	"time"

	"github.com/steadfast-go/steadfast/ticker"
)

// istOffset is India Standard Time's offset from UTC; expiry dates are
// calendar dates in IST.
const istOffset = 5*time.Hour + 30*time.Minute

// PartitionOf returns the partition, in [0, partitions), of an instrument:
// a stable hash of its underlying and its expiry date (the calendar date in
// IST), so a whole option chain, with its future, lands in one partition.
// An index or a stock (no expiry) is hashed by its underlying alone. It
// returns 0 when partitions is below 1.
//
// The value depends on these two fields and partitions only, on every
// machine and in every version of this package. To compute it elsewhere:
// h = FNV-1a (64-bit) of the underlying, followed, when there is an expiry,
// by "|" and the date as YYYY-MM-DD; h goes through splitmix64's finaliser
// (see mix); the partition is the high 64 bits of h × partitions.
func PartitionOf(in *ticker.Instrument, partitions int) int {
	if partitions < 1 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(in.Underlying))
	if !in.Expiry.IsZero() {
		var d [11]byte
		d[0] = '|'
		h.Write(in.Expiry.UTC().Add(istOffset).AppendFormat(d[:1], time.DateOnly))
	}
	// Multiply-shift maps the 64-bit hash onto [0, partitions) evenly.
	hi, _ := bits.Mul64(mix(h.Sum64()), uint64(partitions))
	return int(hi)
}

// mix is splitmix64's finaliser: every input bit moves every output bit.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// A member's fair share is balance/4 = 1.25 × an even split of the
// partitions. Over random IDs (TestAssignMovesAboutOneNth) an even split
// (balance 4) moved up to 1.5 × partitions/members when a member joined,
// by cascades (an old member over its new share gives partitions to
// another old member); no bound on the share (rendezvous alone) loaded a
// member with up to 2.5 × an even split. 1.25 keeps both low.
const balance = 5

// Member is a replica as the others see it in the membership set.
type Member struct {
	ID       string // unique in the group
	Capacity int    // the most partitions it takes
	Standby  bool   // it takes only what the active members cannot
}

// Assign returns the owner of every partition (the member's ID, or "" when
// no member has room for it) by rendezvous hashing bounded by capacity:
// every pair of a partition and a member gets a pseudo-random weight from
// the two alone, and the pairs are taken heaviest first, each partition by
// the first member with room. Room is the member's Capacity, and at first
// also its fair share, 1.25 × the partitions divided evenly among the
// active members (rounded up), so the load stays even. What the fair
// shares leave over goes to the active members with Capacity to spare,
// then to the standbys in the same way. Because a weight depends on its
// pair only, a member that joins or leaves moves about partitions/members
// of them.
//
// Every replica computes the same answer from the same members, in any
// order. Members with an empty ID or a Capacity below 1 get nothing; of
// members with one ID, the first counts.
func Assign(members []Member, partitions int) []string {
	owner := make([]string, max(partitions, 0))
	seen := make(map[string]bool, len(members))
	var active, standby []Member
	for _, m := range members {
		if m.ID == "" || m.Capacity < 1 || seen[m.ID] {
			continue
		}
		seen[m.ID] = true
		if m.Standby {
			standby = append(standby, m)
		} else {
			active = append(active, m)
		}
	}
	load := make(map[string]int, len(seen))
	left := len(owner)
	for _, group := range [][]Member{active, standby} {
		if left == 0 || len(group) == 0 {
			continue
		}
		pairs := rank(group, owner)
		fair := (left*balance + len(group)*4 - 1) / (len(group) * 4)
		left = fill(pairs, owner, load, left, func(m *Member) int { return min(m.Capacity, fair) })
		left = fill(pairs, owner, load, left, func(m *Member) int { return m.Capacity })
	}
	return owner
}

// pair is a partition and a member with the pair's weight.
type pair struct {
	weight    uint64
	partition int
	member    *Member
}

// rank returns the pairs of the unowned partitions and the members, the
// heaviest first (ties, which need equal 64-bit weights, by ID).
func rank(members []Member, owner []string) []pair {
	pairs := make([]pair, 0, len(members)*len(owner))
	for i := range members {
		m := &members[i]
		h := fnv.New64a()
		h.Write([]byte(m.ID))
		base := h.Sum64()
		for p, o := range owner {
			if o == "" {
				pairs = append(pairs, pair{weight(base, p), p, m})
			}
		}
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		if c := cmp.Compare(b.weight, a.weight); c != 0 {
			return c
		}
		if c := cmp.Compare(a.member.ID, b.member.ID); c != 0 {
			return c
		}
		return cmp.Compare(a.partition, b.partition)
	})
	return pairs
}

// weight is the rendezvous weight of partition p for the member whose ID
// hashes to base.
func weight(base uint64, p int) uint64 {
	return mix(base ^ mix(uint64(p)+0x9e3779b97f4a7c15))
}

// fill gives each unowned partition, heaviest pair first, to the first
// member whose load is below room(member), and returns how many partitions
// are left without an owner.
func fill(pairs []pair, owner []string, load map[string]int, left int, room func(*Member) int) int {
	for _, pr := range pairs {
		if left == 0 {
			break
		}
		if owner[pr.partition] != "" || load[pr.member.ID] >= room(pr.member) {
			continue
		}
		owner[pr.partition] = pr.member.ID
		load[pr.member.ID]++
		left--
	}
	return left
}
