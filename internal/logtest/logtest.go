// Package logtest holds test helpers: a buffer safe for a handler's
// concurrent writes, quiet and JSON loggers, a parser of JSON log records,
// and List, a recorder for callbacks.
package logtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"testing"
)

// Buffer is a bytes.Buffer that is safe for the concurrent writes of a
// logger's handler. Its zero value is ready to use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p to the buffer.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns what has been written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Bytes returns a copy of what has been written so far.
func (b *Buffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.b.Bytes())
}

// Quiet returns a logger that writes nothing, for tests whose records do
// not matter.
func Quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// JSON returns a logger that writes JSON records of every level, Debug
// included, to w.
func JSON(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Records parses the JSON records, one a line, that a JSON handler wrote
// to out. It fails t on a line that is not a JSON object.
func Records(t testing.TB, out []byte) []map[string]any {
	t.Helper()
	var recs []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log record %s: %v", sc.Bytes(), err)
		}
		recs = append(recs, m)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("reading log records: %v", err)
	}
	return recs
}

// List collects values from any goroutine: a recorder for callbacks. Its
// zero value is ready to use.
type List[T any] struct {
	mu sync.Mutex
	vs []T
}

// Add appends v.
func (l *List[T]) Add(v T) {
	l.mu.Lock()
	l.vs = append(l.vs, v)
	l.mu.Unlock()
}

// Get returns a copy of the values added so far.
func (l *List[T]) Get() []T {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]T(nil), l.vs...)
}
