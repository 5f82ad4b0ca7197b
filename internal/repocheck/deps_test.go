package repocheck

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/example/petstore-oidc/"

// TestDependencyRule enforces the dependency rule of docs/architecture.md:
// the three components never import each other, nor the development stack;
// and what is deployed (the two Lambda functions) and the web client's
// server contain nothing of the development stack, whose IdP holds public
// passwords.
func TestDependencyRule(t *testing.T) {
	components := []string{"authorizer", "api", "webclient"}
	rules := map[string][]string{
		"authorizer":     {"api", "webclient", "local", "internal"},
		"api":            {"authorizer", "webclient", "local", "internal"},
		"webclient":      {"authorizer", "api", "local", "internal"},
		"cmd/authorizer": {"api", "webclient", "local", "internal"},
		"cmd/api":        {"authorizer", "webclient", "local", "internal"},
		"cmd/webclient":  {"authorizer", "api", "local", "internal"},
	}
	if len(rules) != 2*len(components) {
		t.Fatal("every component and every main needs a rule")
	}
	for pkg, forbidden := range rules {
		cmd := exec.Command("go", "list", "-deps", "./"+pkg)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		deps := strings.Fields(string(out))
		if !slices.Contains(deps, module+pkg) {
			t.Fatalf("go list -deps ./%s does not list the package itself: the check sees nothing", pkg)
		}
		for _, dep := range deps {
			rest, ours := strings.CutPrefix(dep, module)
			if !ours {
				continue
			}
			for _, f := range forbidden {
				if rest == f || strings.HasPrefix(rest, f+"/") {
					t.Errorf("%s depends on %s", pkg, dep)
				}
			}
		}
	}
}
