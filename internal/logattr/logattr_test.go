package logattr

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestCutStack(t *testing.T) {
	short := []byte("goroutine 1 [running]:\nmain.main()")
	if got := CutStack(short); got != string(short) {
		t.Fatalf("short stack changed: %q", got)
	}
	long := bytes.Repeat([]byte("x"), 3*MaxStack)
	got := CutStack(long)
	if len(got) != MaxStack || !strings.HasSuffix(got, "(stack cut)") {
		t.Fatalf("long stack: len %d, suffix %q", len(got), got[len(got)-20:])
	}
}

// An error or a panic value of any length makes a record of bounded size,
// cut on a rune boundary, saying how much was left out.
func TestMessagesAreCut(t *testing.T) {
	if got := Err(errors.New("short")).Value.String(); got != "short" {
		t.Fatalf("short message changed: %q", got)
	}
	long := strings.Repeat("mock: cannot subscribe token 1 (\"NIFTY\"): source is full ₹\n", 20000)
	for _, got := range []string{Err(errors.New(long)).Value.String(), PanicAttrs(long, nil)[0].Value.String()} {
		kept, mark, ok := strings.Cut(got, "… (")
		if !ok || len(got) > MaxMessage || !utf8.ValidString(got) || !strings.HasPrefix(long, kept) ||
			mark != fmt.Sprintf("%d more bytes)", len(long)-len(kept)) {
			t.Fatalf("cut message: %d bytes, valid UTF-8 %v, ends %q", len(got), utf8.ValidString(got), got[len(got)-40:])
		}
	}
}

func TestPanicAttrs(t *testing.T) {
	a := PanicAttrs("boom", nil)
	if a[0].Key != Panic || a[0].Value.String() != "boom" {
		t.Fatalf("panic attr %v", a[0])
	}
	if a[1].Key != Stack || !strings.Contains(a[1].Value.String(), "goroutine") {
		t.Fatalf("stack attr %v", a[1])
	}
}

func TestLoggerLooksUpDefault(t *testing.T) {
	old := slog.Default()
	defer slog.SetDefault(old)
	var buf bytes.Buffer
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	Logger(nil).Info("hello")
	if !strings.Contains(buf.String(), "hello") {
		t.Fatalf("default logger not used: %q", buf.String())
	}
	l := slog.New(slog.DiscardHandler)
	if Logger(l) != l {
		t.Fatal("given logger not returned")
	}
}

func TestContain(t *testing.T) {
	var got any
	Contain(func() { panic("boom") }, func(v any, stack []byte) {
		got = v
		if !strings.Contains(string(stack), "goroutine") {
			t.Errorf("no stack: %q", stack)
		}
	})
	if got != "boom" {
		t.Fatalf("report got %v", got)
	}
	got = nil
	Contain(func() {}, func(v any, _ []byte) { got = v })
	if got != nil {
		t.Fatalf("a callback that returns is not reported: %v", got)
	}
	done := make(chan any, 1)
	go func() {
		defer close(done)
		Contain(runtime.Goexit, func(v any, _ []byte) { done <- v })
		t.Error("Goexit did not go on")
	}()
	if v := <-done; v != Goexit {
		t.Fatalf("Goexit reported as %v", v)
	}
	<-done
}
