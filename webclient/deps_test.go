package webclient

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencyRule enforces DESIGN.md: the web client imports neither the
// other components nor the local development stack (its tests may).
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
		for _, forbidden := range []string{"api", "authorizer", "local"} {
			if rest == forbidden || strings.HasPrefix(rest, forbidden+"/") {
				t.Errorf("package webclient depends on %s", pkg)
			}
		}
	}
}
