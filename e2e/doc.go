// Package e2e holds the browser tests of the steadfast examples. It is a
// separate module, so that the library never depends on a browser driver:
//
//	cd e2e && go test ./...
//
// The tests drive Debian's chromium (or any Chrome found on PATH) through
// github.com/chromedp/chromedp. Without a browser they are skipped, unless
// the environment variable CI is "true", where a missing browser fails.
package e2e
