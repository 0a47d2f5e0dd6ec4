package logs

import (
	"bytes"
	"errors"
	"log/slog"
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

func TestPanicValueAndStack(t *testing.T) {
	p, st := PanicValue("boom"), StackTrace(nil)
	if p.Key != Panic || p.Value.String() != "boom" {
		t.Fatalf("panic attr %v", p)
	}
	if st.Key != Stack || !strings.Contains(st.Value.String(), "goroutine") {
		t.Fatalf("stack attr %v", st)
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

func TestSink(t *testing.T) {
	var buf bytes.Buffer
	s := Sink{Logger: slog.New(slog.NewTextHandler(&buf, nil)), Component: "c", Name: "n", Extra: []slog.Attr{slog.String("id", "x")}}
	s.Log(slog.LevelInfo, "hello", Err(errors.New("bad")))
	s.Log(slog.LevelDebug, "hidden")
	got := buf.String()
	if !strings.Contains(got, `msg=hello component=c name=n id=x error=bad`) || strings.Contains(got, "hidden") {
		t.Fatalf("record %q", got)
	}
	if s.Enabled(slog.LevelDebug) || !s.Enabled(slog.LevelInfo) {
		t.Fatal("Enabled does not follow the handler")
	}
}
