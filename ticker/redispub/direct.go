package redispub

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"

	"github.com/redis/go-redis/v9"
)

// maxIdleDirect bounds the idle direct connections a Publisher keeps.
const maxIdleDirect = 4

// maxReplyLine bounds a reply's first line, and maxReplyBulk the size of
// a bulk reply, beyond which the connection is given up as out of step:
// the replies to PUBLISH, SPUBLISH, XADD and HSET are short.
const (
	maxReplyLine = 4 << 10
	maxReplyBulk = 1 << 20
	maxReplyElem = 1 << 16
)

// direct writes batches in RESP on connections of the Publisher's own (see
// Config.Direct). It is safe for concurrent use: each Publish takes a
// connection of its own.
type direct struct {
	opt *redis.Options

	mu     sync.Mutex
	idle   []*directConn
	closed bool
}

// directConn is one connection and its reply reader.
type directConn struct {
	c  net.Conn
	rd *bufio.Reader
}

// newDirect returns the direct writer of a single-node go-redis client, or
// an error naming why its connections cannot be made outside go-redis.
func newDirect(c redis.UniversalClient) (*direct, error) {
	rc, ok := c.(*redis.Client)
	if !ok {
		return nil, fmt.Errorf("redispub: Config.Direct needs a single-node *redis.Client, not a %T (a Cluster or Ring routes each command itself)", c)
	}
	opt := rc.Options()
	switch {
	case opt.Addr == "FailoverClient":
		return nil, errors.New("redispub: Config.Direct cannot follow a Sentinel failover; use a *redis.Client of one server")
	case opt.CredentialsProvider != nil || opt.CredentialsProviderContext != nil || opt.StreamingCredentialsProvider != nil:
		return nil, errors.New("redispub: Config.Direct needs the client's Username and Password, not a credentials provider")
	case opt.OnConnect != nil:
		return nil, errors.New("redispub: Config.Direct cannot run the client's OnConnect on its own connections; leave OnConnect unset")
	}
	return &direct{opt: opt}, nil
}

// get returns an idle connection, or dials one and authenticates it.
func (d *direct) get(ctx context.Context) (*directConn, error) {
	d.mu.Lock()
	if n := len(d.idle); n > 0 {
		dc := d.idle[n-1]
		d.idle = d.idle[:n-1]
		d.mu.Unlock()
		return dc, nil
	}
	d.mu.Unlock()
	network := d.opt.Network
	if network == "" {
		network = "tcp"
	}
	c, err := d.opt.Dialer(ctx, network, d.opt.Addr)
	if err != nil {
		return nil, err
	}
	dc := &directConn{c: c, rd: bufio.NewReaderSize(c, 32<<10)}
	if err := dc.hello(ctx, d.opt); err != nil {
		c.Close()
		return nil, err
	}
	return dc, nil
}

// put keeps dc for the next batch, or closes it.
func (d *direct) put(dc *directConn) {
	d.mu.Lock()
	if !d.closed && len(d.idle) < maxIdleDirect {
		d.idle = append(d.idle, dc)
		dc = nil
	}
	d.mu.Unlock()
	if dc != nil {
		dc.c.Close()
	}
}

// close closes the idle connections; a connection in use is closed when
// its batch ends.
func (d *direct) close() error {
	d.mu.Lock()
	idle := d.idle
	d.idle, d.closed = nil, true
	d.mu.Unlock()
	var err error
	for _, dc := range idle {
		err = errors.Join(err, dc.c.Close())
	}
	return err
}

// hello authenticates the connection and selects the database, as go-redis
// does for its own (RESP2: the replies this package reads).
func (dc *directConn) hello(ctx context.Context, opt *redis.Options) error {
	var cmds [][]any
	if opt.Password != "" {
		if opt.Username != "" {
			cmds = append(cmds, []any{"auth", opt.Username, opt.Password})
		} else {
			cmds = append(cmds, []any{"auth", opt.Password})
		}
	}
	if opt.DB != 0 {
		cmds = append(cmds, []any{"select", int64(opt.DB)})
	}
	if len(cmds) == 0 {
		return nil
	}
	var w []byte
	for _, c := range cmds {
		w = appendCommand(w, c)
	}
	errs := make([]error, len(cmds))
	if _, err := dc.exchange(ctx, w, errs); err != nil {
		return err
	}
	return errors.Join(errs...)
}

// exchange writes w, a pipeline of len(errs) commands, and reads their
// replies, setting errs[i] to the error reply of the i-th command (nil
// for any other reply), and returns the number of replies read. It returns
// an error when the connection failed or fell out of step; the connection
// must then be closed.
func (dc *directConn) exchange(ctx context.Context, w []byte, errs []error) (int, error) {
	deadline, _ := ctx.Deadline() // none: the zero time, no deadline
	if err := dc.c.SetDeadline(deadline); err != nil {
		return 0, err
	}
	if _, err := dc.c.Write(w); err != nil {
		return 0, err
	}
	for i := range errs {
		var err error
		errs[i], err = dc.reply(0)
		if err != nil {
			return i, err
		}
	}
	return len(errs), nil
}

// reply reads one reply, returning an error reply as a redis.Error, and
// skipping any other (nested arrays to depth 8).
func (dc *directConn) reply(depth int) (error, error) {
	line, err := dc.rd.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			err = errors.New("redispub: reply line too long")
		}
		return nil, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("redispub: malformed reply %q", truncate(line))
	}
	body := line[1 : len(line)-2]
	switch line[0] {
	case '-':
		return replyError(string(body)), nil
	case ':', '+':
		return nil, nil
	case '$':
		n, err := strconv.Atoi(string(body))
		if err != nil || n < -1 || n > maxReplyBulk {
			return nil, fmt.Errorf("redispub: malformed bulk reply %q", truncate(line))
		}
		if n >= 0 {
			if _, err := dc.rd.Discard(n + 2); err != nil {
				return nil, err
			}
		}
		return nil, nil
	case '*':
		n, err := strconv.Atoi(string(body))
		if err != nil || n < -1 || n > maxReplyElem || depth >= 8 {
			return nil, fmt.Errorf("redispub: malformed array reply %q", truncate(line))
		}
		for range max(n, 0) {
			if _, err := dc.reply(depth + 1); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}
	return nil, fmt.Errorf("redispub: unexpected reply %q", truncate(line))
}

// truncate shortens a reply line for an error message.
func truncate(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

// replyError is an error reply of Redis to a command the Publisher wrote
// itself (Config.Direct), such as "NOAUTH Authentication required.". It is
// a redis.Error, as go-redis's own error replies are, so that IsPermanent
// and go-redis's helpers (redis.IsAuthError) judge it alike.
type replyError string

func (e replyError) Error() string { return string(e) }

// RedisError marks replyError as a redis.Error.
func (replyError) RedisError() {}

// appendCommand appends args as a RESP array of bulk strings. The
// arguments are those batch.build lays out: strings, *byteArg and int64.
func appendCommand(w []byte, args []any) []byte {
	w = append(w, '*')
	w = strconv.AppendInt(w, int64(len(args)), 10)
	w = append(w, '\r', '\n')
	for _, a := range args {
		switch a := a.(type) {
		case string:
			w = appendBulk(w, a)
		case *byteArg:
			w = appendBulk(w, a.b)
		case int64:
			var num [20]byte
			w = appendBulk(w, strconv.AppendInt(num[:0], a, 10))
		default: // not laid out by build; written as go-redis would print it
			w = appendBulk(w, fmt.Append(nil, a))
		}
	}
	return w
}

// appendBulk appends s as a RESP bulk string.
func appendBulk[S string | []byte](w []byte, s S) []byte {
	w = append(w, '$')
	w = strconv.AppendInt(w, int64(len(s)), 10)
	w = append(w, '\r', '\n')
	w = append(w, s...)
	return append(w, '\r', '\n')
}

// publishDirect sends the batch's commands on a direct connection and
// sorts out the replies as Publish does those of a go-redis pipeline.
func (p *Publisher) publishDirect(ctx context.Context, b *batch) error {
	b.wire = b.wire[:0]
	for _, args := range b.cmds {
		b.wire = appendCommand(b.wire, args)
	}
	b.errs = grow(b.errs, len(b.cmds))
	clear(b.errs)
	dc, err := p.direct.get(ctx)
	if err != nil {
		return p.outcome(ctx, b, 0, err)
	}
	read, err := dc.exchange(ctx, b.wire, b.errs)
	if err != nil {
		dc.c.Close() // out of step: the replies left unread belong to no one
		return p.outcome(ctx, b, read, err)
	}
	p.direct.put(dc)
	return p.outcome(ctx, b, read, nil)
}

// outcome judges a batch of which the first read commands were answered
// (their error replies in b.errs) and the rest failed with err, as a
// go-redis pipeline sets a network error on every command it did not read.
func (p *Publisher) outcome(ctx context.Context, b *batch, read int, err error) error {
	var first error
	for i := range b.errs {
		if i >= read {
			b.errs[i] = err
		}
		if first == nil {
			first = b.errs[i]
		}
	}
	if first == nil {
		p.succeeded(b)
		return nil
	}
	return p.judge(ctx, b, first)
}
