package main

import (
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
