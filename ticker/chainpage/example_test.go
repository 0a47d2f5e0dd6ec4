package chainpage_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/chainpage"
)

// A host mounts the page in its own mux, here under /chain/. The engine
// would be the *ticker.Engine the host runs; any value with Instruments,
// Latest and Health does.
func ExampleNew() {
	var eng chainpage.Engine = newFakeEngine(ticker.Instrument{Token: 1, Symbol: "NIFTY 50", Underlying: "NIFTY", Kind: ticker.KindIndex})
	page, err := chainpage.New(chainpage.Config{Engine: eng, MaxStreams: 8})
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.Handle("GET /chain/", http.StripPrefix("/chain", page))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/chain/")
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	fmt.Println(resp.Status, resp.Header.Get("Content-Type"))
	fmt.Println(strings.Contains(string(body), `<table id="chain">`))
	// Output:
	// 200 OK text/html; charset=utf-8
	// true
}
