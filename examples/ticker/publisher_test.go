package main

import (
	"strings"
	"testing"
	"time"

	"github.com/steadfast-go/steadfast/internal/progtest"
	"github.com/steadfast-go/steadfast/internal/redistest"
)

const password = "s3cret"

// A mistyped -redis is refused with a message that names the flag and never
// holds the password, and so is its printed form.
func TestRedisFlagNeverPrintsThePassword(t *testing.T) {
	for _, s := range []string{
		"redis//:" + password + "@127.0.0.1:6379",    // "://" mistyped: not host:port
		"redis:/:" + password + "@127.0.0.1:6379",    // likewise
		":" + password + "@127.0.0.1:6379",           // a URL without its scheme
		password + "@127.0.0.1:6379",                 // likewise, no colon
		"redis://:" + password + " x@127.0.0.1:6379", // net/url quotes the URL
		"redis://:" + password + "@127.0.0.1:port",   // a port that is not a number
		"redis://:" + password + "@127.0.0.1:6379/x", // go-redis quotes the database
		"redis://:" + password + "/x@127.0.0.1:6379", // a / in the password: the rest is a path
		"redis://127.0.0.1:6379/" + password,         // a password where the database goes
		"redis://127.0.0.1:6379/0?dial_timeout=" + password,
		"http://:" + password + "@127.0.0.1:6379", // a scheme go-redis does not know
		password + "://127.0.0.1:6379",            // likewise
		"127.0.0.1:" + password,                   // host:port, a port that is not a number
		password,                                  // no port at all
		"127.0.0.1:70000",                         // a port out of range
	} {
		_, where, err := redisOptions(s)
		if err == nil {
			t.Errorf("redisOptions(%q) = %q, want an error", s, where)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, password) || !strings.HasPrefix(msg, "-redis: ") {
			t.Errorf("redisOptions(%q): error %q", s, msg)
		}
		if r := redactURL(s); strings.Contains(r, password) {
			t.Errorf("redactURL(%q) = %q", s, r)
		}
	}
	for s, want := range map[string]string{
		"127.0.0.1:6379":                        "127.0.0.1:6379",
		"redis://:" + password + "@host:6380/2": "redis://xxxxx@host:6380/2",
		"redis://" + password + "@host":         "redis://xxxxx@host:6379", // the password as a user name
		"rediss://user:" + password + "@host":   "rediss://xxxxx@host:6379",
		"redis://host:6379/0?db=3":              "redis://host:6379/3",
	} {
		if _, where, err := redisOptions(s); err != nil || where != want {
			t.Errorf("redisOptions(%q) = %q, %v; want %q", s, where, err, want)
		}
	}
}

// A -redis that will not work by retrying (a wrong password, an unknown
// host, a database index out of range) stops the program at start, within
// 5 s, with a non-zero status and the cause; the password is never printed.
func TestRedisPermanentErrorsStopTheProgram(t *testing.T) {
	secret := redistest.Start(t, "--requirepass", password)
	shared := redistest.Addr(t)
	for _, c := range []struct{ redis, cause string }{
		{"redis://:wrong" + password + "@" + secret.Addr(), "WRONGPASS"},
		{"redis://" + secret.Addr(), "NOAUTH"},
		{"notahost:1", "no such host"},
		{"redis://" + shared + "/99", "DB index is out of range"},
	} {
		t.Run(c.cause, func(t *testing.T) {
			out, code, took := progtest.Run(t, time.Minute, "-redis", c.redis, "-duration", "1m", "-view", "0")
			if code == 0 || !strings.Contains(out, c.cause) || !strings.Contains(out, "ticker: -redis") {
				t.Errorf("exit %d, want non-zero and a message naming -redis and %q:\n%s", code, c.cause, out)
			}
			if took > 5*time.Second {
				t.Errorf("took %v to stop, want under 5 s", took)
			}
			if strings.Contains(out, password) {
				t.Errorf("the output holds the password:\n%s", out)
			}
			if strings.Contains(out, "streaming") {
				t.Errorf("the program started streaming:\n%s", out)
			}
		})
	}
}

// A Redis that does not answer yet is an outage, not a reason to stop: the
// program streams, says so through its logger (go-redis's own lines too,
// never on their own), and never prints the password.
func TestRedisDownIsNotFatal(t *testing.T) {
	s := redistest.Start(t)
	addr := s.Addr()
	s.Kill()
	out, code, _ := progtest.Run(t, time.Minute, "-redis", "redis://:"+password+"@"+addr, "-duration", "1500ms", "-view", "0")
	if code != 0 || !strings.Contains(out, "Redis does not answer yet") || !strings.Contains(out, "to the Redis at redis://xxxxx@"+addr) {
		t.Errorf("exit %d, want 0, a warning and the redacted URL:\n%s", code, out)
	}
	if strings.Contains(out, password) {
		t.Errorf("the output holds the password:\n%s", out)
	}
	if strings.Contains(out, "pool.go") || !strings.Contains(out, "component=go-redis") {
		t.Errorf("go-redis's lines did not go through the program's logger:\n%s", out)
	}
}
