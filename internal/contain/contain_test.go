package contain

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestCallPanic(t *testing.T) {
	var got any
	ok := Call(func() { panic("boom") }, func(v any, stack []byte) {
		got = v
		if !strings.Contains(string(stack), "goroutine") {
			t.Errorf("no stack: %q", stack)
		}
	})
	if ok || got != "boom" {
		t.Fatalf("returned %v, report got %v", ok, got)
	}
}

func TestCallReturns(t *testing.T) {
	reported := false
	if !Call(func() {}, func(any, []byte) { reported = true }) || reported {
		t.Fatal("a function that returns is reported or not seen returning")
	}
}

func TestCallGoexit(t *testing.T) {
	done := make(chan any, 1)
	go func() {
		defer close(done)
		Call(runtime.Goexit, func(v any, _ []byte) { done <- v })
		t.Error("Goexit did not go on")
	}()
	if v := <-done; v != Goexit {
		t.Fatalf("Goexit reported as %v", v)
	}
	<-done
}

func TestGoexitIsNotAString(t *testing.T) {
	var got any
	Call(func() { panic("runtime.Goexit") }, func(v any, _ []byte) { got = v })
	if got == Goexit {
		t.Fatal("a panic with the string runtime.Goexit is taken for a Goexit")
	}
	if fmt.Sprint(Goexit) != "runtime.Goexit" {
		t.Fatalf("Goexit prints as %q", fmt.Sprint(Goexit))
	}
}
