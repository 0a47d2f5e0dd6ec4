package chainpage_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/chainpage"
)

// *ticker.Engine is the Engine a host passes.
var _ chainpage.Engine = (*ticker.Engine)(nil)

// board is an Engine of fixed instruments and ticks, standing in for a
// running *ticker.Engine.
type board struct {
	ins   []ticker.Instrument
	ticks map[uint32]ticker.Tick
}

func (b board) Instruments() []ticker.Instrument { return b.ins }

func (b board) Latest(token uint32) (ticker.Tick, bool) {
	t, ok := b.ticks[token]
	return t, ok
}

func (b board) Health() ticker.Health { return ticker.Health{Status: "ok", Breaker: "closed"} }

func newBoard() board {
	return board{
		ins: []ticker.Instrument{
			{Token: 256265, Symbol: "NIFTY 50", Underlying: "NIFTY", Kind: ticker.KindIndex},
			{Token: 12345602, Symbol: "NIFTY26DEC24000CE", Underlying: "NIFTY", Kind: ticker.KindCall, Strike: 24000},
		},
		ticks: map[uint32]ticker.Tick{256265: {Token: 256265, LastPrice: 24012.35}},
	}
}

// The page reads an Engine: its instruments, the latest tick of each and
// its health. Any implementation will do; here the page and its script are
// fetched through a ResponseRecorder, and a path it does not serve is 404.
func ExampleEngine() {
	page, err := chainpage.New(chainpage.Config{Engine: newBoard()})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, path := range []string{"/", "/app.js", "/missing"} {
		rec := httptest.NewRecorder()
		page.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		fmt.Println(path, rec.Code, rec.Header().Get("Content-Type"))
	}
	// Output:
	// / 200 text/html; charset=utf-8
	// /app.js 200 text/javascript; charset=utf-8
	// /missing 404 text/plain; charset=utf-8
}

// Stats counts the event streams and what they sent. A stream opens with a
// snapshot of every instrument and the ticks it has; this one's client has
// already gone (its context is over), so the stream ends after it.
func ExampleStats() {
	page, err := chainpage.New(chainpage.Config{Engine: newBoard()})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := httptest.NewRecorder()
	page.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/events", nil).WithContext(ctx))
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"), strings.Contains(rec.Body.String(), "event: snapshot\n"))

	b, _ := json.Marshal(page.Stats())
	fmt.Println(string(b))
	// Output:
	// 200 text/event-stream true
	// {"open":0,"opened":1,"refused":0,"refused_per_client":0,"expired":0,"snapshots":1,"frames":1,"ticks":1,"unencodable":0,"panics":0}
}
