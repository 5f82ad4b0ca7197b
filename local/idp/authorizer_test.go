package idp_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/example/petstore-oidc/authorizer"
	"github.com/example/petstore-oidc/local/gateway"
	"github.com/example/petstore-oidc/local/idp"
)

// The provider's access tokens pass the real TOKEN authorizer, which
// discovers the JWKS from the issuer: alice may add pets, bob is explicitly
// denied (the tutorial's 403) but may list them, and so is a machine token
// narrowed to pets:read.
func TestTokensPassTheAuthorizer(t *testing.T) {
	e := startIDP(t)
	login := func(user string) string {
		tr := e.exchangeCode(t, e.login(t, user, user, allScopes, testCodeVerifier), testCodeVerifier)
		wantTokens(t, tr, true, true)
		return tr.AccessToken
	}
	machine := func(scope string) string {
		tr := e.clientCredentials(t, idp.M2MClientSecret, scope)
		wantTokens(t, tr, false, false)
		return tr.AccessToken
	}
	alice, bob := login("alice"), login("bob")
	m2m, m2mRead := machine(""), machine("pets:read")

	rules, err := authorizer.ParseRouteRules(authorizer.DefaultRouteScopes)
	if err != nil {
		t.Fatal(err)
	}
	authz, err := authorizer.New(context.Background(), authorizer.Config{
		Issuer:    e.issuer,
		Audiences: []string{testAudience},
		Rules:     rules,
		Logger:    slog.New(slog.NewJSONHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, token, route string
		want               gateway.Decision
	}{
		{"alice adds a pet", alice, "POST/pets", gateway.Allow},
		{"alice lists pets", alice, "GET/pets", gateway.Allow},
		{"bob adds a pet", bob, "POST/pets", gateway.ExplicitDeny},
		{"bob lists pets", bob, "GET/pets", gateway.Allow},
		{"bob reads a pet", bob, "GET/pets/7", gateway.Allow},
		{"bob calls /me", bob, "GET/me", gateway.Allow},
		{"machine adds a pet", m2m, "POST/pets", gateway.Allow},
		{"read-only machine adds a pet", m2mRead, "POST/pets", gateway.ExplicitDeny},
		{"read-only machine lists pets", m2mRead, "GET/pets", gateway.Allow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			arn := "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/Prod/" + tt.route
			resp, err := authz.Handle(context.Background(), events.APIGatewayCustomAuthorizerRequest{
				Type: "TOKEN", AuthorizationToken: "Bearer " + tt.token, MethodArn: arn,
			})
			if err != nil {
				t.Fatalf("authorizer refused the token: %v", err)
			}
			got, err := gateway.Evaluate(resp.PolicyDocument, arn)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("%s: %s, want %s", tt.route, got, tt.want)
			}
		})
	}

	// An ID token is for the web client, not the API: the authorizer refuses it.
	tr := e.exchangeCode(t, e.login(t, "alice", "alice", allScopes, testCodeVerifier), testCodeVerifier)
	_, err = authz.Handle(context.Background(), events.APIGatewayCustomAuthorizerRequest{
		Type: "TOKEN", AuthorizationToken: "Bearer " + tr.IDToken,
		MethodArn: "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/Prod/GET/me",
	})
	if err == nil || err.Error() != "Unauthorized" {
		t.Errorf("ID token at the authorizer: err = %v, want Unauthorized", err)
	}
}
