package logattr

import (
	"bytes"
	"log/slog"
	"runtime"
	"strings"
	"testing"

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
