// Package bench compares steadfast with its peers. It is a separate module so
// that the main module never depends on a peer; it holds only benchmarks and
// the tests that keep them compiling. See README.md for the command and the
// latest side-by-side results.
package bench
