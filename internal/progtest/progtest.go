// Package progtest runs an example program from its own test binary, so a
// test can check the program's output and exit status without building it.
//
// The test binary is the program: TestMain calls RunMain(main) first, and
// Run starts the binary again with an environment variable that makes
// RunMain run main instead of the tests.
package progtest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// env tells a test binary started by Run to run the program.
const env = "STEADFAST_EXAMPLE_MAIN"

// RunMain runs main and exits when the binary was started by Run, and
// returns otherwise. Call it first in TestMain.
func RunMain(main func()) {
	if os.Getenv(env) == "1" {
		main()
		os.Exit(0)
	}
}

// Run runs the program with args and returns its combined output, its exit
// code and how long it ran. It fails the test if the program runs past
// limit.
func Run(t testing.TB, limit time.Duration, args ...string) (out string, code int, took time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), env+"=1")
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	start := time.Now()
	err := cmd.Run()
	took = time.Since(start)
	if ctx.Err() != nil {
		t.Fatalf("%q still running after %v:\n%s", args, limit, buf.String())
	}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return buf.String(), code, took
}

// Flags is what CheckFlags asks of a program's command line.
type Flags struct {
	Name    string   // the program's directory under examples/, for -h
	Bad     []string // a flag out of range
	BadSays string   // what the program says of Bad
	Run     []string // a short run
	RunSays string   // what the short run prints
}

// CheckFlags checks that -h says what the program shows, that a flag out
// of range or a stray argument stops it with status 2 and a message naming
// it, and that it runs. A minute is far above the seconds each takes.
func CheckFlags(t *testing.T, f Flags) {
	t.Helper()
	run := func(args ...string) (string, int) {
		out, code, _ := Run(t, time.Minute, args...)
		return out, code
	}
	if out, code := run("-h"); code != 0 || !strings.HasPrefix(out, "Usage: go run ./examples/"+f.Name+" [flags]\n\nShows ") {
		t.Errorf("-h: exit %d:\n%s", code, out)
	}
	if out, code := run(f.Bad...); code != 2 || !strings.Contains(out, f.BadSays) {
		t.Errorf("bad flag: exit %d:\n%s", code, out)
	}
	if out, code := run("extra"); code != 2 || !strings.Contains(out, `unexpected argument "extra"`) {
		t.Errorf("stray argument: exit %d:\n%s", code, out)
	}
	if out, code := run(f.Run...); code != 0 || !strings.Contains(out, f.RunSays) {
		t.Errorf("run: exit %d:\n%s", code, out)
	}
}
