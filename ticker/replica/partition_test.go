package replica_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/replica"
)

// TestPartitionOfIsStable: the partition of an instrument depends on its
// underlying and its expiry date in IST only, and never changes between
// versions (consumers and replicas of several versions must agree).
func TestPartitionOfIsStable(t *testing.T) {
	exp := time.Date(2026, 12, 29, 15, 30, 0, 0, ist)
	call := ticker.Instrument{Token: 1, Underlying: "NIFTY", Kind: ticker.KindCall, Strike: 24000, Expiry: exp}
	put := ticker.Instrument{Token: 2, Underlying: "NIFTY", Kind: ticker.KindPut, Strike: 25000, Expiry: exp.Add(-15*time.Hour - 30*time.Minute)}
	fut := ticker.Instrument{Token: 3, Underlying: "NIFTY", Kind: ticker.KindFuture, Expiry: exp.UTC()}
	p := replica.PartitionOf(&call, 64)
	if replica.PartitionOf(&put, 64) != p || replica.PartitionOf(&fut, 64) != p {
		t.Errorf("one chain in several partitions: %d, %d, %d", p, replica.PartitionOf(&put, 64), replica.PartitionOf(&fut, 64))
	}
	// Golden values: changing them re-partitions every deployment.
	for _, c := range []struct {
		in   ticker.Instrument
		n    int
		want int
	}{
		{call, 64, 0},
		{ticker.Instrument{Underlying: "NIFTY", Expiry: exp.AddDate(0, 0, 7)}, 64, 42},
		{ticker.Instrument{Underlying: "BANKNIFTY", Expiry: exp}, 64, 14},
		{ticker.Instrument{Underlying: "NIFTY 50", Kind: ticker.KindIndex}, 64, 63},
		{call, 1, 0},
		{call, 4096, 9},
		{call, 0, 0},
	} {
		if got := replica.PartitionOf(&c.in, c.n); got != c.want {
			t.Errorf("PartitionOf(%s %s, %d) = %d, want %d", c.in.Underlying, c.in.Expiry.Format(time.DateOnly), c.n, got, c.want)
		}
	}
}

// TestPartitionOfSpreads: 100 chains over 64 partitions fill most of them.
func TestPartitionOfSpreads(t *testing.T) {
	ins := universe(2000)
	used := map[int]int{}
	for i := range ins {
		used[replica.PartitionOf(&ins[i], 64)]++
	}
	if len(used) < 40 {
		t.Errorf("100 chains use %d of 64 partitions", len(used))
	}
}

func members(n int, prefix string, capacity int) []replica.Member {
	ms := make([]replica.Member, n)
	for i := range ms {
		ms[i] = replica.Member{ID: fmt.Sprintf("%s%d", prefix, i), Capacity: capacity}
	}
	return ms
}

// TestAssign: every partition has one owner; no member exceeds its
// Capacity or 1.25 × an even split; the answer does not depend on the
// members' order; duplicates and members without capacity get nothing.
func TestAssign(t *testing.T) {
	ms := members(3, "m", 64)
	a := replica.Assign(ms, 64)
	load := map[string]int{}
	for p, o := range a {
		if o == "" {
			t.Fatalf("partition %d has no owner", p)
		}
		load[o]++
	}
	for id, n := range load {
		if n > 27 { // ceil(1.25 × 64/3)
			t.Errorf("%s has %d partitions, above 1.25 × 64/3", id, n)
		}
	}
	shuffled := slices.Clone(ms)
	slices.Reverse(shuffled)
	shuffled = append(shuffled, replica.Member{ID: "m0", Capacity: 1}, replica.Member{ID: "zero"}, replica.Member{Capacity: 5})
	if !slices.Equal(a, replica.Assign(shuffled, 64)) {
		t.Error("the assignment depends on the order or on members without capacity")
	}

	// Capacity short: what no one has room for stays unassigned.
	small := []replica.Member{{ID: "a", Capacity: 10}, {ID: "b", Capacity: 20}}
	unassigned := 0
	load = map[string]int{}
	for _, o := range replica.Assign(small, 64) {
		if o == "" {
			unassigned++
		}
		load[o]++
	}
	if unassigned != 34 || load["a"] != 10 || load["b"] != 20 {
		t.Errorf("capacities 10 and 20 over 64: loads %v", load)
	}
	// Capacity uneven: the fair share is exceeded only by what the others
	// cannot take.
	uneven := []replica.Member{{ID: "a", Capacity: 5}, {ID: "b", Capacity: 64}, {ID: "c", Capacity: 64}}
	load = map[string]int{}
	for _, o := range replica.Assign(uneven, 64) {
		load[o]++
	}
	if load["a"] != 5 || load["b"]+load["c"] != 59 || load[""] != 0 {
		t.Errorf("capacities 5, 64, 64: loads %v", load)
	}
}

// TestAssignStandby: standbys get nothing while the active members cover
// the universe, everything when none is left, and the rest when the
// active members are short.
func TestAssignStandby(t *testing.T) {
	active := replica.Member{ID: "primary", Capacity: 64}
	standby := replica.Member{ID: "standby", Capacity: 64, Standby: true}
	for _, o := range replica.Assign([]replica.Member{standby, active}, 64) {
		if o != "primary" {
			t.Fatalf("owner %q, want primary", o)
		}
	}
	for _, o := range replica.Assign([]replica.Member{standby}, 64) {
		if o != "standby" {
			t.Fatalf("owner %q, want standby", o)
		}
	}
	load := map[string]int{}
	for _, o := range replica.Assign([]replica.Member{standby, {ID: "small", Capacity: 40}}, 64) {
		load[o]++
	}
	if load["small"] != 40 || load["standby"] != 24 {
		t.Errorf("loads %v, want small 40 and standby 24", load)
	}
}

// TestAssignMovesAboutOneNth: over 500 sets of random IDs, a member joining
// N = 2…7 others moves at most 1.5 × P/(N+1) partitions for N = 3, and
// about P/(N+1) on average for every N (rendezvous alone would move as few
// on average, but load a member up to 2.5× an even split).
func TestAssignMovesAboutOneNth(t *testing.T) {
	const P, trials = 64, 500
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 2; n <= 7; n++ {
		sum, worst := 0, 0
		for range trials {
			ms := members(n, fmt.Sprintf("%x-", rng.Uint64()), P)
			before := replica.Assign(ms, P)
			after := replica.Assign(append(ms, replica.Member{ID: fmt.Sprintf("new-%x", rng.Uint64()), Capacity: P}), P)
			moved := 0
			for p := range before {
				if before[p] != after[p] {
					moved++
				}
			}
			sum += moved
			worst = max(worst, moved)
		}
		even := float64(P) / float64(n+1)
		mean := float64(sum) / trials
		t.Logf("%d → %d members: moved mean %.1f (%.2f × P/N), worst %d (%.2f × P/N)", n, n+1, mean, mean/even, worst, float64(worst)/even)
		if mean > 1.2*even {
			t.Errorf("%d → %d members: %.1f partitions moved on average, above 1.2 × %.1f", n, n+1, mean, even)
		}
		if n == 3 && float64(worst) > 1.5*even {
			t.Errorf("3 → 4 members: %d partitions moved, above 1.5 × %.1f", worst, even)
		}
	}
}
