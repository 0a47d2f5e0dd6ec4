package conventions

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// maxDocLines bounds a package comment: the contract (what it is, one
// example, the defaults, the semantics a user relies on) fits in a screen.
const maxDocLines = 80

// TestPackageDocLength counts the lines of each listed package's comment,
// as go doc prints it, and fails above maxDocLines.
func TestPackageDocLength(t *testing.T) {
	for _, pkg := range []string{"breaker", "mockstate", "reloader", "taskmon"} {
		t.Run(pkg, func(t *testing.T) {
			n := docLines(t, filepath.Join("..", "..", pkg))
			t.Logf("%s: %d lines of package comment", pkg, n)
			if n > maxDocLines {
				t.Errorf("package %s: its comment has %d lines, want at most %d", pkg, n, maxDocLines)
			}
		})
	}
}

// docLines returns the number of lines of the package comment in dir,
// summed over its non-test files (go doc joins them).
func docLines(t *testing.T, dir string) int {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	n, files := 0, 0
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ParseComments|parser.PackageClauseOnly)
		if err != nil {
			t.Fatal(err)
		}
		files++
		if f.Doc != nil {
			n += strings.Count(f.Doc.Text(), "\n")
		}
	}
	if files == 0 {
		t.Fatalf("%s: no Go files", dir)
	}
	return n
}
