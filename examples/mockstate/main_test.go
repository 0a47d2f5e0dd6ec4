package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// envRunMain makes the test binary run the program itself, with the
// arguments after the binary's name.
const envRunMain = "STEADFAST_EXAMPLE_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(envRunMain) == "1" {
		main()
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// runProgram runs the program with args and returns its combined output and
// exit code; a minute is far above the seconds it takes.
func runProgram(t *testing.T, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), envRunMain+"=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("%q still running after a minute:\n%s", args, out.String())
	case errors.As(err, &ee):
		return out.String(), ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return out.String(), 0
}

// -h says what the example shows and lists its flags; a flag out of range
// or a stray argument stops it with status 2 and a message naming it; and
// it runs.
func TestFlags(t *testing.T) {
	if out, code := runProgram(t, "-h"); code != 0 || !strings.HasPrefix(out, "Usage: go run ./examples/mockstate [flags]\n\nShows ") {
		t.Errorf("-h: exit %d:\n%s", code, out)
	}
	if out, code := runProgram(t, "-readers", "0"); code != 2 || !strings.Contains(out, "-readers must be in [1, 64], got 0") {
		t.Errorf("bad flag: exit %d:\n%s", code, out)
	}
	if out, code := runProgram(t, "extra"); code != 2 || !strings.Contains(out, `unexpected argument "extra"`) {
		t.Errorf("stray argument: exit %d:\n%s", code, out)
	}
	if out, code := runProgram(t, "-duration", "200ms"); code != 0 || !strings.Contains(out, "lock-free reads:") {
		t.Errorf("run: exit %d:\n%s", code, out)
	}
}
