package redispub_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/redispub"
)

// A failed Publish returns a *PublishError: how many of the pipeline's
// commands failed, the first of them and its cause, which it wraps. Here
// the first is built by hand, as Redis would report a server out of
// memory; the second is what Publish returns for a batch it never sent.
func ExamplePublishError() {
	errOOM := errors.New("OOM command not allowed when used memory > 'maxmemory'")
	var err error = &redispub.PublishError{
		Ticks: 40, Commands: 3, Failed: 2, Command: "publish ticks:NIFTY", Err: errOOM,
	}
	fmt.Println(err)
	var pe *redispub.PublishError
	fmt.Println(errors.As(err, &pe), pe.Failed, errors.Is(err, errOOM))

	// A Publish whose context has already ended sends nothing, so this
	// client is never dialled and no Redis is needed.
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", ContextTimeoutEnabled: true})
	defer client.Close()
	pub, err := redispub.New(redispub.Config{Client: client})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = pub.Publish(ctx, []ticker.Tick{{Token: 256265, LastPrice: 24012.35}})
	fmt.Println(err)
	fmt.Println(errors.As(err, &pe), pe.Commands, errors.Is(err, context.Canceled))
	// Output:
	// redispub: 2 of 3 commands failed, the first (publish ticks:NIFTY): OOM command not allowed when used memory > 'maxmemory'
	// true 2 true
	// redispub: batch of 1 ticks not sent: context canceled
	// true -1 true
}
