package kite_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/kite"
)

// A Mode marshals as its wire name, so a JSON or YAML config can say
// "full"; an unknown one is an error both ways.
func ExampleMode_MarshalText() {
	b, err := json.Marshal(struct{ Mode kite.Mode }{kite.ModeFull})
	fmt.Println(string(b), err)

	var cfg struct{ Mode kite.Mode }
	err = json.Unmarshal([]byte(`{"Mode":"ltp"}`), &cfg)
	fmt.Println(cfg.Mode == kite.ModeLTP, err)
	fmt.Println(json.Unmarshal([]byte(`{"Mode":"book"}`), &cfg))
	_, err = json.Marshal(kite.Mode(9))
	fmt.Println(err)
	// Output:
	// {"Mode":"full"} <nil>
	// true <nil>
	// kite: unknown mode "book"
	// json: error calling MarshalText for type kite.Mode: kite: unknown mode 9
}

// Reason names why a frame or packet was rejected; Stats.Rejected is keyed
// by it, so JSON shows words.
func ExampleReason() {
	rejected := map[kite.Reason]uint64{kite.ReasonTruncated: 2, kite.ReasonBadLength: 1}
	b, _ := json.Marshal(rejected)
	fmt.Println(string(b))

	var r kite.Reason
	fmt.Println(r.UnmarshalText([]byte("zero_token")), r == kite.ReasonZeroToken)
	fmt.Println(kite.Reason(0))
	// Output:
	// {"bad_length":1,"truncated":2}
	// <nil> true
	// unknown
}

// ConnState is what a connection is doing; it marshals as a word.
func ExampleConnState() {
	b, _ := json.Marshal([]kite.ConnState{kite.ConnIdle, kite.ConnConnecting, kite.ConnConnected, kite.ConnWaiting})
	fmt.Println(string(b))
	var c kite.ConnState
	fmt.Println(c.UnmarshalText([]byte("connected")), c)
	fmt.Println(c.UnmarshalText([]byte("open")))
	// Output:
	// ["idle","connecting","connected","waiting"]
	// <nil> connected
	// kite: unknown connection state "open"
}

// A malformed frame is rejected with a *FrameError that says where and
// why; it wraps ErrMalformed. A frame-level problem rejects the whole frame.
func ExampleFrameError() {
	frame, err := kite.AppendFrame(nil, []ticker.Tick{{Token: 408065, LastPrice: 1450.25}}, kite.ModeLTP)
	if err != nil {
		panic(err)
	}
	var p kite.Parser
	emitted := 0
	_, err = p.Parse(frame[:len(frame)-2], func(ticker.Tick) { emitted++ })
	fmt.Println(err)
	fmt.Println("emitted", emitted, "malformed", errors.Is(err, kite.ErrMalformed))
	var fe *kite.FrameError
	if errors.As(err, &fe) {
		fmt.Println(fe.Reason, "packet", fe.Packet, "offset", fe.Offset, "length", fe.Length)
	}

	_, err = p.Parse(append(frame, 0), func(ticker.Tick) {})
	fmt.Println(err)
	// Output:
	// kite: malformed frame: truncated (packet 0 at byte 2, length 8)
	// emitted 0 malformed true
	// truncated packet 0 offset 2 length 8
	// kite: malformed frame: trailing (byte 12)
}

// idle is a ticker.Source that emits nothing until its context ends.
type idle struct{}

func (idle) Run(ctx context.Context, emit func(ticker.Tick)) error { <-ctx.Done(); return nil }
func (idle) Subscribe(add, remove []ticker.Instrument) error       { return nil }

// NewServer refuses a ServerConfig without its required fields, naming the
// field; every other zero field takes the default named after it.
func ExampleServerConfig() {
	_, err := kite.NewServer(kite.ServerConfig{})
	fmt.Println(err)
	_, err = kite.NewServer(kite.ServerConfig{Source: idle{}, APIKey: "key", AccessToken: "token", MaxConns: -1})
	fmt.Println(err)
	srv, err := kite.NewServer(kite.ServerConfig{Source: idle{}, APIKey: "key", AccessToken: "token"})
	fmt.Println(srv != nil, err)
	fmt.Println("defaults:", kite.DefaultMaxPerConn, "instruments a connection,", kite.DefaultMaxConns, "connections,",
		kite.DefaultHeartbeat, "heartbeat,", kite.DefaultFlushInterval, "flush,", kite.DefaultServerQueue, "queued flushes")
	// Output:
	// kite: ServerConfig.Source is required
	// kite: ServerConfig.MaxConns is negative (-1)
	// true <nil>
	// defaults: 3000 instruments a connection, 3 connections, 1s heartbeat, 50ms flush, 64 queued flushes
}
