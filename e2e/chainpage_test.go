package e2e

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.uber.org/goleak"
)

var screenshot = flag.String("screenshot", "", "also write the page's screenshot to this file, e.g. ../docs/chain.png")

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// maxScreenshot bounds the committed screenshot's size.
const maxScreenshot = 200 << 10

// browser returns the path of a Chrome or Chromium, or skips the test
// (fails it when CI=true).
func browser(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium on PATH (CI=true): install it, e.g. apt-get install -y chromium")
	}
	t.Skip("no chromium on PATH; install it (apt-get install -y chromium) to run the browser tests")
	return ""
}

// startExample builds examples/ticker, runs it on a free loopback port at
// 60x speed and returns its base URL once it answers. The process is
// stopped when the test ends.
func startExample(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ticker")
	build := exec.Command("go", "build", "-o", bin, "./examples/ticker")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./examples/ticker: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()

	var logs bytes.Buffer
	cmd := exec.Command(bin, "-http", addr, "-speed", "60", "-view", "0", "-duration", "3m")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("examples/ticker output:\n%s", logs.String())
		}
	})

	base := "http://" + addr + "/"
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(base + "healthz")
		if err == nil {
			_ = resp.Body.Close()
			return base
		}
		select {
		case err := <-done:
			t.Fatalf("examples/ticker exited early: %v\n%s", err, logs.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("examples/ticker did not answer on %s: %v", addr, err)
		}
	}
}

// page drives one tab; each helper fails the test on an error.
type page struct {
	t   *testing.T
	ctx context.Context
}

// wait waits until the JavaScript expression is true.
func (p page) wait(what, expr string) {
	p.t.Helper()
	_, err := chromedp.Run(p.ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingTimeout(20*time.Second), chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		p.t.Fatalf("waiting for %s: %v", what, err)
	}
}

// eval returns the value of a JavaScript expression.
func eval[T any](p page, expr string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// pick selects the option at index i of the <select> with the given id,
// as a user would, and returns its value.
func (p page) pick(id string, i int) string {
	p.t.Helper()
	return eval[string](p, fmt.Sprintf(`(() => {
		const s = document.getElementById(%q);
		s.value = s.options[%d].value;
		s.dispatchEvent(new Event("change"));
		return s.value;
	})()`, id, i))
}

const (
	rows        = `document.querySelectorAll("#chain tbody tr").length`
	prices      = `[...document.querySelectorAll("#chain tbody td.last")].map((td) => td.textContent).join(" ")`
	smilePoints = `document.querySelectorAll("#smile circle").length`
	strikes     = `[...document.querySelectorAll("#chain tbody td.strike")].map((td) => td.textContent).join(" ")`
	shown       = `document.getElementById("chain").dataset`
)

func TestChainPage(t *testing.T) {
	exe := browser(t)
	base := startExample(t)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // root in a container has no user namespace sandbox
		chromedp.DisableGPU,
		chromedp.WindowSize(1400, 640),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	defer cancelBrowser()
	p := page{t: t, ctx: bctx}

	if err := chromedp.Do(bctx, chromedp.EmulateViewport(1400, 640), chromedp.Navigate(base)); err != nil {
		t.Fatalf("opening %s: %v", base, err)
	}

	// The chain fills, and its prices move between two reads.
	p.wait("chain rows with prices", rows+` > 0 && `+prices+`.includes(".")`)
	first := eval[string](p, prices)
	p.wait("prices to change", prices+` !== `+quote(first))
	second := eval[string](p, prices)
	nrows := eval[int](p, rows)
	p.wait("smile points", smilePoints+` > 0`)
	npoints := eval[int](p, smilePoints)
	t.Logf("%d rows; prices moved from %.50q… to %.50q…; %d smile points", nrows, first, second, npoints)
	if npoints < nrows {
		t.Errorf("the smile has %d points for %d strikes; want a call and a put point per strike", npoints, nrows)
	}

	// Another underlying, then another expiry: the table, the spot and the
	// smile follow.
	under0 := eval[string](p, `document.getElementById("underlying").value`)
	strikes0 := eval[string](p, strikes)
	under1 := p.pick("underlying", 1)
	if under1 == under0 {
		t.Fatalf("the underlying selector offers only %q", under0)
	}
	p.wait("the chain of "+under1, shown+`.underlying === `+quote(under1)+` && `+rows+` > 0`)
	p.wait("the spot of "+under1, `document.getElementById("spot-name").textContent === `+quote(under1)+
		` && document.getElementById("spot-price").textContent !== "–"`)
	if s := eval[string](p, strikes); s == strikes0 {
		t.Errorf("after switching %s to %s the strikes did not change: %s", under0, under1, s)
	}
	exp0 := eval[string](p, shown+`.expiry`)
	exp1 := p.pick("expiry", 1)
	if exp1 == exp0 {
		t.Fatalf("the expiry selector offers only %q", exp0)
	}
	p.wait("the chain of expiry "+exp1, shown+`.expiry === `+quote(exp1)+` && `+rows+` > 0 && `+smilePoints+` > 0`)
	t.Logf("switched %s → %s, expiry %s → %s (%d strikes)", under0, under1, exp0, exp1, eval[int](p, rows))

	// Back to the first underlying's nearest expiry, with the status strip
	// filled in, for the screenshot.
	p.pick("underlying", 0)
	p.wait("the chain of "+under0, shown+`.underlying === `+quote(under0)+` && `+rows+` > 0`)
	p.wait("the status strip", `document.getElementById("st-tps").textContent !== "–" && document.getElementById("mode").textContent === "mock"`)
	if err := chromedp.Do(bctx, chromedp.Sleep(600*time.Millisecond)); err != nil { // catch a few cells flashing
		t.Fatal(err)
	}
	png1, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(png1))
	if err != nil {
		t.Fatalf("the screenshot is not a PNG: %v", err)
	}
	var small bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&small, paletted(img)); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %v, %d bytes (%d from the browser)", img.Bounds().Size(), small.Len(), len(png1))
	png1 = small.Bytes()
	if len(png1) > maxScreenshot {
		t.Errorf("the screenshot is %d bytes; want at most %d", len(png1), maxScreenshot)
	}
	// The strip's colours for a degraded engine (the example's in-process
	// publisher never fails, so its health is fed to the page's own
	// function; the next health event restores the truth).
	for _, tc := range []struct{ breaker, status, reasons, want string }{
		{"half-open", "degraded", `["publisher circuit half-open"]`, "status warn"},
		{"open", "degraded", `["publisher circuit open"]`, "status bad"},
		{"closed", "degraded", `["source gave up"]`, "status bad"},
		{"closed", "stopped", `[]`, "status bad"},
		{"closed", "ok", `[]`, "status"},
	} {
		got := eval[string](p, fmt.Sprintf(`(() => {
			applyHealth({status: %q, breaker: %q, reasons: %s, stats: {dropped: {}}}, Date.now());
			return document.getElementById("status").className;
		})()`, tc.status, tc.breaker, tc.reasons))
		if got != tc.want {
			t.Errorf("status %s, breaker %s, reasons %s: the strip's class is %q, want %q", tc.status, tc.breaker, tc.reasons, got, tc.want)
		}
	}

	out := filepath.Join(t.TempDir(), "chain.png")
	if *screenshot != "" {
		out = *screenshot
	}
	if err := os.WriteFile(out, png1, 0o644); err != nil {
		t.Fatal(err)
	}
}

// paletted returns img with its 256 most frequent colours, each pixel
// mapped to the nearest of them: a flat dark page keeps its look in a
// third of the bytes.
func paletted(img image.Image) *image.Paletted {
	counts := map[color.RGBA]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			counts[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)]++
		}
	}
	colors := slices.Collect(maps.Keys(counts))
	slices.SortFunc(colors, func(a, b color.RGBA) int {
		if c := cmp.Compare(counts[b], counts[a]); c != 0 {
			return c
		}
		return cmp.Compare(uint32(a.R)<<16|uint32(a.G)<<8|uint32(a.B), uint32(b.R)<<16|uint32(b.G)<<8|uint32(b.B))
	})
	pal := make(color.Palette, 0, 256)
	for _, c := range colors[:min(len(colors), 256)] {
		pal = append(pal, c)
	}
	out := image.NewPaletted(b, pal)
	draw.Draw(out, b, img, b.Min, draw.Src)
	return out
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
