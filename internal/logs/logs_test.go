package logs

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
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
	for _, got := range []string{Err(errors.New(long)).Value.String(), PanicValue(long).Value.String()} {
		kept, mark, ok := strings.Cut(got, "… (")
		if !ok || len(got) > MaxMessage || !utf8.ValidString(got) || !strings.HasPrefix(long, kept) ||
			mark != fmt.Sprintf("%d more bytes)", len(long)-len(kept)) {
			t.Fatalf("cut message: %d bytes, valid UTF-8 %v, ends %q", len(got), utf8.ValidString(got), got[len(got)-40:])
		}
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
