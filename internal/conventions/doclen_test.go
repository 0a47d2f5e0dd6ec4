package conventions

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// maxDocLines bounds a package comment: the contract (what it is, one
// example, the defaults, the semantics a user relies on) fits in a screen.
const maxDocLines = 80

// TestPackageDocLength counts the lines of every package's comment in the
// module, as go doc prints it, and fails above maxDocLines.
func TestPackageDocLength(t *testing.T) {
	root := filepath.Join("..", "..")
	for _, pkg := range modulePackages(t, root) {
		t.Run(pkg, func(t *testing.T) {
			n := docLines(t, filepath.Join(root, pkg))
			t.Logf("%s: %d lines of package comment", pkg, n)
			if n > maxDocLines {
				t.Errorf("package %s: its comment has %d lines, want at most %d", pkg, n, maxDocLines)
			}
		})
	}
}

// modulePackages returns the directories under root, relative to it, that
// hold non-test Go files of the main module: not testdata, not hidden
// directories, not the bench module.
func modulePackages(t *testing.T, root string) []string {
	t.Helper()
	var pkgs []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != root && (name == "testdata" || name == "bench" || strings.HasPrefix(name, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		rel, err := filepath.Rel(root, filepath.Dir(p))
		if err != nil {
			return err
		}
		if rel = filepath.ToSlash(rel); !slices.Contains(pkgs, rel) {
			pkgs = append(pkgs, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) < 20 {
		t.Fatalf("found %d packages under %s: %v", len(pkgs), root, pkgs)
	}
	return pkgs
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
