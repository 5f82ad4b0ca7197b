package repocheck

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

var (
	rootBlock   = regexp.MustCompile(`(?s):root\s*\{(.*?)\}`)
	customProps = regexp.MustCompile(`(--[a-z-]+):\s*([^;]+);`)
)

// cssVariables are the custom properties of a stylesheet's :root.
func cssVariables(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		t.Fatal(err)
	}
	m := rootBlock.FindSubmatch(b)
	if m == nil {
		t.Fatalf("%s has no :root block", path)
	}
	vars := map[string]string{}
	for _, p := range customProps.FindAllSubmatch(m[1], -1) {
		vars[string(p[1])] = string(p[2])
	}
	return vars
}

// TestIdPPageUsesTheWebClientsColours: the development provider's page
// inlines the web client's look (it loads nothing); each colour, radius and
// font it declares has the web client's value, so the two cannot drift
// apart.
func TestIdPPageUsesTheWebClientsColours(t *testing.T) {
	web := cssVariables(t, "webclient/static/style.css")
	idp := cssVariables(t, "local/idp/login.html")
	if len(idp) < 5 {
		t.Fatalf("only %d variables found in local/idp/login.html: the parser broke", len(idp))
	}
	for name, value := range idp {
		if web[name] != value {
			t.Errorf("%s is %q on the IdP's page and %q in webclient/static/style.css", name, value, web[name])
		}
	}
}
