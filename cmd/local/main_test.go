package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/example/petstore-oidc/local/stack"
)

// The banner's "Try:" command reaches the IdP wherever it listens: the token
// command looks on the default port unless told otherwise.
func TestBannerTokenCommandFindsTheIdP(t *testing.T) {
	tests := []struct{ issuer, want string }{
		{defaultIssuer, "TOKEN=$(go run ./cmd/local token) "},
		{"http://localhost:9100", "TOKEN=$(go run ./cmd/local token -issuer http://localhost:9100) "},
	}
	for _, tt := range tests {
		var out strings.Builder
		printBanner(&out, &stack.Stack{IssuerURL: tt.issuer, GatewayURL: "http://localhost:3000", WebURL: "http://localhost:8080",
			Parameters: map[string]string{"StageName": "Prod"}})
		if !strings.Contains(out.String(), tt.want) {
			t.Errorf("issuer %s: the banner lacks %q:\n%s", tt.issuer, tt.want, out.String())
		}
	}
}

// TestCompilesLight: what `make local` compiles on a fresh machine stays
// light. The template is read with yaml.v3, not a CloudFormation model
// library (goformation alone was 249 packages and most of a cold build).
// The bound leaves room for the AWS SDK's DynamoDB client.
func TestCompilesLight(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	deps := strings.Fields(string(out))
	t.Logf("cmd/local compiles %d packages", len(deps))
	if len(deps) > 520 {
		t.Errorf("cmd/local compiles %d packages, more than 520", len(deps))
	}
	for _, d := range deps {
		if strings.Contains(d, "goformation") {
			t.Errorf("cmd/local depends on %s", d)
		}
	}
}
