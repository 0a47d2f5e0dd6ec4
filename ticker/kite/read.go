package kite

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/coder/websocket"
)

// What a Source keeps of what it reads is bounded, whatever the server
// sends: a frame by what one connection can legally receive (frameLimit),
// a text message by maxText, the idle read buffers by poolBudget and the
// frames waiting for emit by queueBudget. With the defaults that is at
// most 16 + 32 MiB, plus one frame being read per connection.
const (
	// maxText is the most bytes of a text message kept; the rest of a
	// longer one is read and dropped, and the message skipped.
	maxText = 64 << 10
	// maxPooled: a read buffer of a larger capacity is never reused.
	maxPooled = 1 << 20
	// poolBudget bounds the capacity the idle read buffers keep in all.
	poolBudget = 16 << 20
	// queueBudget bounds the bytes of the frames waiting for emit; a frame
	// beyond it is dropped, as when the queue is full.
	queueBudget = 32 << 20
)

// frameLimit returns the longest frame a connection of maxPerConn
// instruments can legally receive: the count, then a full packet with its
// length for each instrument; at most MaxFrame.
func frameLimit(maxPerConn int) int {
	if maxPerConn >= MaxFrame/(2+LenFull) {
		return MaxFrame
	}
	return 2 + maxPerConn*(2+LenFull)
}

// readLimit is the WebSocket read limit of a connection: a message longer
// than it closes the connection.
func (s *Source) readLimit() int64 { return int64(max(frameLimit(s.cfg.MaxPerConn), maxText)) }

// take returns an idle read buffer, or false when all are in use.
func (r *run) take() ([]byte, bool) {
	select {
	case b := <-r.free:
		r.pooled.Add(-int64(cap(b)))
		return b[:0], true
	default:
		return nil, false
	}
}

// give returns a buffer taken with take. Its memory is kept for reuse only
// while the pool's budget allows; otherwise the garbage collector gets it.
func (r *run) give(b []byte) {
	c := int64(cap(b))
	if c > maxPooled {
		b = nil
	} else if r.pooled.Add(c) > poolBudget {
		r.pooled.Add(-c)
		b = nil
	}
	r.free <- b[:0] // never blocks: as many slots as buffers
}

// read reads ws until it fails, queueing binary frames and text messages
// for the emitting goroutine. It never waits for it: with no free buffer,
// a data frame is read, counted and dropped.
func (r *run) read(ctx context.Context, sl *slot, ws *websocket.Conn) error {
	s := r.s
	limit := frameLimit(s.cfg.MaxPerConn)
	for {
		typ, rd, err := ws.Reader(ctx)
		if err != nil {
			return err
		}
		if typ == websocket.MessageText {
			b, n, err := readUpTo(nil, rd, maxText)
			sl.lastFrame.Store(time.Now().UnixNano())
			if err != nil {
				return err
			}
			r.queueText(sl, b, n)
			continue
		}
		buf, pooled := r.take()
		if !pooled { // emit is behind: count the frame, keep none of it
			n, err := io.Copy(io.Discard, rd)
			now := time.Now().UnixNano()
			sl.lastFrame.Store(now)
			if err != nil {
				return err
			}
			if n == 1 {
				s.c.heartbeats.Add(1)
				continue
			}
			s.c.frames.Add(1)
			s.c.dropped.Add(1)
			sl.lastData.Store(now)
			continue
		}
		buf, n, err := readUpTo(buf, rd, limit)
		now := time.Now()
		sl.lastFrame.Store(now.UnixNano())
		if err != nil {
			r.give(buf)
			return err
		}
		r.binary(sl, buf, n, now)
	}
}

// binary disposes of one binary message of n bytes whose first bytes (at
// most the frame limit) are in buf: a heartbeat, a frame too long for the
// connection, a frame the queue has no room for, or a frame to emit.
func (r *run) binary(sl *slot, buf []byte, n int64, now time.Time) {
	s := r.s
	switch {
	case n == 1:
		s.c.heartbeats.Add(1)
		r.give(buf)
		return
	case n > int64(len(buf)):
		s.c.frames.Add(1)
		if c := s.c.rejected[ReasonOversized].Add(1); c&(c-1) == 0 { // the 1st, 2nd, 4th, 8th ...
			s.log(slog.LevelWarn, "malformed frame", slog.String("reason", ReasonOversized.String()),
				slog.Uint64("count", c), slog.Int64("bytes", n), slog.Int("limit", len(buf)))
		}
		r.give(buf)
		return
	}
	s.c.frames.Add(1)
	sl.lastData.Store(now.UnixNano())
	if r.queued.Add(int64(len(buf))) > queueBudget {
		r.queued.Add(-int64(len(buf)))
		s.c.dropped.Add(1)
		r.give(buf)
		return
	}
	r.frames <- frame{b: buf, recv: now} // never blocks: as many slots as buffers
}

// readUpTo appends to b what rd holds, up to limit bytes in b; the rest is
// read and dropped. It returns b and the length of the whole message.
func readUpTo(b []byte, rd io.Reader, limit int) ([]byte, int64, error) {
	for len(b) < limit {
		if len(b) == cap(b) {
			b = slices.Grow(b, min(max(cap(b), 512), limit-len(b)))
		}
		n, err := rd.Read(b[len(b):min(cap(b), limit)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, int64(len(b)), nil
		}
		if err != nil {
			return b, int64(len(b)), err
		}
	}
	n, err := io.Copy(io.Discard, rd)
	return b, int64(len(b)) + n, err
}
