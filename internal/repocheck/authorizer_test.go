package repocheck

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The authorizer is the part people copy, and a reviewer reads it line by
// line before they may: its non-test code stays at most maxAuthorizerLines
// lines (docs/authorizer.md quotes the count).
const maxAuthorizerLines = 1000

func TestAuthorizerStaysShort(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(root, "authorizer", "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no authorizer sources: %v", err)
	}
	lines := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines += bytes.Count(b, []byte("\n"))
	}
	t.Logf("authorizer/: %d lines of non-test code", lines)
	if lines > maxAuthorizerLines {
		t.Errorf("authorizer/ has %d lines of non-test code, over %d", lines, maxAuthorizerLines)
	}
}

// What the deployed bootstrap links outside the standard library: at most
// four modules, none of them big-number or cryptographic code (signatures
// go through the standard library's crypto as it stands). The module list
// is the one `go version -m build/Authorizer/bootstrap` prints after `make
// build`: the build flags are the Makefile's.
func TestAuthorizerBootstrapModules(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc", "-f", "{{with .Module}}{{.Path}}{{end}}", "./cmd/authorizer")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	var modules []string
	for _, m := range strings.Fields(string(out)) {
		if m != strings.TrimSuffix(module, "/") && !slices.Contains(modules, m) {
			modules = append(modules, m)
		}
	}
	slices.Sort(modules)
	t.Logf("bootstrap modules: %v", modules)
	if len(modules) == 0 || len(modules) > 4 {
		t.Errorf("the authorizer's bootstrap links %d modules %v, want 1 to 4", len(modules), modules)
	}
	for _, m := range modules {
		for _, banned := range []string{"crypto", "bigmod", "bignum", "/big", "jose", "golang-lru"} {
			if strings.Contains(strings.ToLower(m), banned) {
				t.Errorf("the authorizer's bootstrap links %s: signatures and big numbers come from the standard library", m)
			}
		}
	}
}
