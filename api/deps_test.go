package api

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencyRule enforces DESIGN.md: the three components never import
// each other, and none imports the local development stack.
func TestDependencyRule(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	const module = "github.com/example/petstore-oidc/"
	for _, pkg := range strings.Fields(string(out)) {
		rest, ours := strings.CutPrefix(pkg, module)
		if !ours {
			continue
		}
		for _, forbidden := range []string{"authorizer", "webclient", "local"} {
			if rest == forbidden || strings.HasPrefix(rest, forbidden+"/") {
				t.Errorf("package api depends on %s", pkg)
			}
		}
	}
}
