package replica

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// The coordination lives in a few keys under one hash tag, so that on a
// Redis Cluster every key of a group sits in one slot and every script can
// touch several of them:
//
//	steadfast:replica:{GROUP}:members   sorted set: member ID → expiry (ms, Redis clock)
//	steadfast:replica:{GROUP}:info      hash: member ID → nonce|capacity|standby|partitions
//	steadfast:replica:{GROUP}:lease:P   string: holder/epoch, with PX = LeaseTTL
//	steadfast:replica:{GROUP}:fence:P   hash: epoch, holder, released
//
// A holder is ID/nonce: the nonce is drawn by each New, so two processes
// that share an ID never take each other's leases for their own. Every
// script reads the time from Redis (TIME), so member expiries and epochs
// come from one clock, whatever the replicas' clocks say.

// heartbeatScript renews the caller's membership, drops expired members,
// and returns the time on Redis, the number of members and, for each of
// the first ARGV[5], its ID, expiry and info.
//
// KEYS: members, info. ARGV: id, info, nonce prefix ("nonce|"), ttl ms,
// max members.
var heartbeatScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[4])
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('HDEL', KEYS[2], id)
end
local cur = redis.call('HGET', KEYS[2], ARGV[1])
if cur and redis.call('ZSCORE', KEYS[1], ARGV[1]) and string.sub(cur, 1, #ARGV[3]) ~= ARGV[3] then
  return redis.error_reply('IDINUSE another live replica has this ID')
end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
-- An abandoned group's keys go away by themselves.
redis.call('PEXPIRE', KEYS[1], 10 * ttl)
redis.call('PEXPIRE', KEYS[2], 10 * ttl)
local ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[5]) - 1, 'WITHSCORES')
local out = {now, redis.call('ZCARD', KEYS[1])}
for i = 1, #ids, 2 do
  out[#out + 1] = ids[i]
  out[#out + 1] = ids[i + 1]
  out[#out + 1] = redis.call('HGET', KEYS[2], ids[i]) or ''
end
return out
`)

// leaveScript removes the caller from the members, if the entry is its own.
//
// KEYS: members, info. ARGV: id, nonce prefix.
var leaveScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[2], ARGV[1])
if cur and string.sub(cur, 1, #ARGV[2]) == ARGV[2] then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
  return 1
end
return 0
`)

// acquireScript takes each free lease (SET PX; a lease key exists only
// while held) and gives it the next epoch: one above the partition's last,
// and at least the time on Redis in milliseconds, so that epochs keep
// increasing when Redis restarts without its data. For each pair of keys it
// returns four integers: 1, the epoch, 1 if the last holder's lease lapsed
// without a release (a take-over) else 0, and the lease's PTTL. A lease the
// caller holds already (an acquisition whose answer was lost) is returned
// as held, with its epoch and PTTL; one that another holds as 0, 0, 0 and
// its PTTL.
//
// KEYS: lease, fence, lease, fence, ... ARGV: holder, ttl ms.
var acquireScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local mine = ARGV[1] .. '/'
local out = {}
for i = 1, #KEYS, 2 do
  local v = redis.call('GET', KEYS[i])
  if v then
    local pttl = redis.call('PTTL', KEYS[i])
    if string.sub(v, 1, #mine) == mine then
      out[#out + 1] = 1
      out[#out + 1] = tonumber(string.sub(v, #mine + 1)) or 0
    else
      out[#out + 1] = 0
      out[#out + 1] = 0
    end
    out[#out + 1] = 0
    out[#out + 1] = pttl
  else
    local f = redis.call('HMGET', KEYS[i + 1], 'epoch', 'holder', 'released')
    local epoch = math.max((tonumber(f[1]) or 0) + 1, now)
    local e = string.format('%.0f', epoch)
    local took = 0
    if f[2] and f[2] ~= ARGV[1] and f[3] ~= '1' then
      took = 1
    end
    redis.call('SET', KEYS[i], mine .. e, 'PX', ARGV[2])
    redis.call('HSET', KEYS[i + 1], 'epoch', e, 'holder', ARGV[1], 'released', '0')
    out[#out + 1] = 1
    out[#out + 1] = epoch
    out[#out + 1] = took
    out[#out + 1] = tonumber(ARGV[2])
  end
end
return out
`)

// renewScript extends each lease that still has the caller's value and
// returns, per key, 1 if it did and 0 if the lease is gone or another's.
//
// KEYS: leases. ARGV: ttl ms, then the value of each lease.
var renewScript = redis.NewScript(`
local out = {}
for i, k in ipairs(KEYS) do
  if redis.call('GET', k) == ARGV[i + 1] then
    redis.call('PEXPIRE', k, ARGV[1])
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
`)

// releaseScript deletes each lease that still has the caller's value and
// marks its fence released (so the next holder's acquisition is not a
// take-over). It returns how many it released.
//
// KEYS: lease, fence, lease, fence, ... ARGV: the value of each lease.
var releaseScript = redis.NewScript(`
local n = 0
for i = 1, #KEYS, 2 do
  if redis.call('GET', KEYS[i]) == ARGV[(i + 1) / 2] then
    redis.call('DEL', KEYS[i])
    redis.call('HSET', KEYS[i + 1], 'released', '1')
    n = n + 1
  end
end
return n
`)

// keys names a group's keys.
type keys struct {
	prefix string // "steadfast:replica:{GROUP}:"
}

func newKeys(group string) keys { return keys{prefix: "steadfast:replica:{" + group + "}:"} }

func (k keys) members() string    { return k.prefix + "members" }
func (k keys) info() string       { return k.prefix + "info" }
func (k keys) lease(p int) string { return k.prefix + "lease:" + strconv.Itoa(p) }
func (k keys) fence(p int) string { return k.prefix + "fence:" + strconv.Itoa(p) }
func (k keys) pairs(ps []int) []string {
	out := make([]string, 0, 2*len(ps))
	for _, p := range ps {
		out = append(out, k.lease(p), k.fence(p))
	}
	return out
}

// seen is a member as the heartbeat read it.
type seen struct {
	Member
	partitions int           // its Config.Partitions
	expires    time.Duration // from the heartbeat's sending until its entry lapses
}

// view is what a heartbeat returns.
type view struct {
	members []seen
	total   int // members in the set, beyond maxMembers too
}

// heartbeat renews the membership of r and reads the group's members.
func (r *Replica) heartbeat(ctx context.Context) (view, error) {
	info := fmt.Sprintf("%s|%d|%d|%d", r.nonce, r.cfg.Capacity, b2i(r.cfg.Standby), r.cfg.Partitions)
	res, err := heartbeatScript.Run(ctx, r.client, []string{r.keys.members(), r.keys.info()},
		r.id, info, r.nonce+"|", r.cfg.LeaseTTL.Milliseconds(), maxMembers).Slice()
	if err != nil {
		if strings.HasPrefix(err.Error(), "IDINUSE") {
			return view{}, ErrIDInUse
		}
		return view{}, err
	}
	if len(res) < 2 || (len(res)-2)%3 != 0 {
		return view{}, fmt.Errorf("replica: heartbeat answered %d values", len(res))
	}
	now, _ := res[0].(int64)
	total, _ := res[1].(int64)
	v := view{total: int(total)}
	for i := 2; i+2 < len(res); i += 3 {
		id, _ := res[i].(string)
		score, _ := res[i+1].(string)
		inf, _ := res[i+2].(string)
		m, ok := parseMember(id, score, inf, now)
		if ok {
			v.members = append(v.members, m)
		}
	}
	return v, nil
}

// parseMember reads one member's entry; ok is false for an entry that is
// not of the shape heartbeat writes (another program's, or a damaged one).
func parseMember(id, score, info string, now int64) (seen, bool) {
	f := strings.Split(info, "|")
	if id == "" || len(f) != 4 {
		return seen{}, false
	}
	exp, err1 := strconv.ParseFloat(score, 64)
	capacity, err2 := strconv.Atoi(f[1])
	parts, err3 := strconv.Atoi(f[3])
	if err := errors.Join(err1, err2, err3); err != nil {
		return seen{}, false
	}
	return seen{
		Member:     Member{ID: id, Capacity: capacity, Standby: f[2] == "1"},
		partitions: parts,
		expires:    time.Duration(int64(exp)-now) * time.Millisecond,
	}, true
}

// leave removes r from the members.
func (r *Replica) leave(ctx context.Context) error {
	return leaveScript.Run(ctx, r.client, []string{r.keys.members(), r.keys.info()}, r.id, r.nonce+"|").Err()
}

// acquired is the answer of acquire for one partition.
type acquired struct {
	ok       bool
	epoch    uint64
	takeover bool
	pttl     time.Duration // how long the lease has left; negative if it has no expiry
}

// acquire tries to take the leases of ps.
func (r *Replica) acquire(ctx context.Context, ps []int) ([]acquired, error) {
	res, err := acquireScript.Run(ctx, r.client, r.keys.pairs(ps), r.holder, r.cfg.LeaseTTL.Milliseconds()).Int64Slice()
	if err != nil {
		return nil, err
	}
	if len(res) != 4*len(ps) {
		return nil, fmt.Errorf("replica: acquire answered %d values for %d partitions", len(res), len(ps))
	}
	out := make([]acquired, len(ps))
	for i := range ps {
		v := res[4*i : 4*i+4]
		out[i] = acquired{ok: v[0] == 1 && v[1] > 0, epoch: uint64(v[1]), takeover: v[2] == 1,
			pttl: time.Duration(v[3]) * time.Millisecond}
	}
	return out, nil
}

// renew extends the leases whose values are given; ok[i] says whether
// values[i] was still held.
func (r *Replica) renew(ctx context.Context, ps []int, values []string) ([]bool, error) {
	ks := make([]string, len(ps))
	args := make([]any, 0, 1+len(ps))
	args = append(args, r.cfg.LeaseTTL.Milliseconds())
	for i, p := range ps {
		ks[i] = r.keys.lease(p)
		args = append(args, values[i])
	}
	res, err := renewScript.Run(ctx, r.client, ks, args...).Int64Slice()
	if err != nil {
		return nil, err
	}
	if len(res) != len(ps) {
		return nil, fmt.Errorf("replica: renew answered %d values for %d leases", len(res), len(ps))
	}
	ok := make([]bool, len(ps))
	for i, v := range res {
		ok[i] = v == 1
	}
	return ok, nil
}

// release gives up the leases whose values are given, if still held.
func (r *Replica) release(ctx context.Context, ps []int, values []string) error {
	args := make([]any, len(values))
	for i, v := range values {
		args[i] = v
	}
	return releaseScript.Run(ctx, r.client, r.keys.pairs(ps), args...).Err()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
