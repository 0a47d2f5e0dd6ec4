package replica_test

import (
	"strings"
	"testing"
	"time"

	"github.com/steadfast-go/steadfast/ticker/replica"
)

// FuzzNew: any Config is refused with an error naming a field, or
// accepted; New never panics.
func FuzzNew(f *testing.F) {
	f.Add(0, 0, int64(0), int64(0), "", "", false)
	f.Add(64, 10, int64(time.Second), int64(100*time.Millisecond), "r1", "g", true)
	f.Add(-1, -1, int64(-1), int64(-1), "a|b", "{g}", false)
	f.Add(5000, 1<<40, int64(time.Hour), int64(time.Hour), "\x00", "é", false)
	f.Fuzz(func(t *testing.T, partitions, capacity int, ttl, margin int64, id, group string, standby bool) {
		cfg := validConfig(t)
		cfg.Partitions, cfg.Capacity, cfg.Standby = partitions, capacity, standby
		cfg.LeaseTTL, cfg.FenceMargin = time.Duration(ttl), time.Duration(margin)
		cfg.ID, cfg.Group = id, group
		r, err := replica.New(cfg)
		if err != nil {
			if r != nil || !strings.HasPrefix(err.Error(), "replica: Config.") {
				t.Fatalf("New: %v, %v; want nil and an error naming a field", r, err)
			}
			return
		}
		h := r.Health()
		if h.Partitions < 1 || h.Partitions > replica.MaxPartitions || h.Capacity < 1 || h.ID == "" {
			t.Fatalf("accepted %+v", h)
		}
	})
}
