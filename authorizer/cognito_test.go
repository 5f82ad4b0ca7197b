package authorizer_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/golang-jwt/jwt/v5"

	"github.com/example/petstore-oidc/authorizer"
	"github.com/example/petstore-oidc/internal/testissuer"
	"github.com/example/petstore-oidc/local/gateway"
	"github.com/example/petstore-oidc/local/samtemplate"
)

// TestCognitoAccessTokensAgainstTheTemplatesRules: the authorizer configured
// as template.yaml configures it when the stack creates its own user pool
// (Issuer empty), with one stand-in, a local issuer in place of the pool's
// URL, judges access tokens shaped as Cognito issues them (token_use access,
// client_id, no aud, prefixed custom scopes) route by route, as API Gateway
// applies its policy.
func TestCognitoAccessTokensAgainstTheTemplatesRules(t *testing.T) {
	for _, machine := range []string{"false", "true"} {
		t.Run("MachineClient="+machine, func(t *testing.T) { testCognitoTokens(t, machine) })
	}
}

func testCognitoTokens(t *testing.T, machineClient string) {
	tpl, err := samtemplate.Load(filepath.Join("..", "template.yaml"), map[string]string{"MachineClient": machineClient})
	if err != nil {
		t.Fatal(err)
	}
	fn, err := tpl.Function("Authorizer")
	if err != nil {
		t.Fatal(err)
	}
	env := fn.Environment
	// The pool's issuer, as the template gives it; the local reader names
	// the pool by its logical id.
	if want := "https://cognito-idp.us-east-1.amazonaws.com/UserPool"; env[authorizer.EnvIssuer] != want {
		t.Fatalf("ISSUER %q, want %q", env[authorizer.EnvIssuer], want)
	}
	iss := testissuer.New(t, "key-a")
	cfg, err := authorizer.ConfigFromEnv(func(k string) string {
		if k == authorizer.EnvIssuer {
			return iss.URL
		}
		return env[k]
	})
	if err != nil {
		t.Fatalf("the template's Cognito environment does not configure the authorizer: %v", err)
	}
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := authorizer.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}

	// A Cognito access token: no aud, client_id and token_use, the custom
	// scopes prefixed with the resource server's identifier.
	token := func(clientID, scope, tokenUse string) string {
		now := time.Now()
		c := jwt.MapClaims{
			"iss": iss.URL, "sub": "0f3c2a6e-aaaa-bbbb-cccc-000000000001", "client_id": clientID,
			"token_use": tokenUse, "scope": scope, "auth_time": now.Unix(), "exp": now.Add(time.Hour).Unix(),
			"iat": now.Unix(), "jti": "5b3e", "username": "alice", "version": 2, "origin_jti": "77aa",
			"cognito:groups": []string{"writers"},
		}
		return testissuer.Sign(t, "key-a", c, nil)
	}
	const arn = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/Prod/"
	routes := []string{"GET/pets", "GET/pets/7", "POST/pets", "GET/me"}
	decide := func(tok string) map[string]gateway.Decision {
		out := map[string]gateway.Decision{}
		for _, r := range routes {
			resp, err := a.Handle(context.Background(), events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN",
				AuthorizationToken: "Bearer " + tok, MethodArn: arn + r})
			if err != nil {
				out[r] = -1
				continue
			}
			d, err := gateway.Evaluate(resp.PolicyDocument, arn+r)
			if err != nil {
				t.Fatal(err)
			}
			out[r] = d
		}
		return out
	}
	allow, deny := gateway.Allow, gateway.ExplicitDeny
	clients := []string{"WebAppClient"}
	if machineClient == "true" {
		clients = append(clients, "MachineAppClient")
	}
	for _, client := range clients {
		for _, tt := range []struct {
			name, scope string
			want        map[string]gateway.Decision
		}{
			{"writer", "openid email profile petstore/pets:read petstore/pets:write",
				map[string]gateway.Decision{"GET/pets": allow, "GET/pets/7": allow, "POST/pets": allow, "GET/me": allow}},
			{"reader (the trigger suppressed pets:write)", "openid email profile petstore/pets:read",
				map[string]gateway.Decision{"GET/pets": allow, "GET/pets/7": allow, "POST/pets": deny, "GET/me": allow}},
			{"no API scope", "openid email profile",
				map[string]gateway.Decision{"GET/pets": deny, "GET/pets/7": deny, "POST/pets": deny, "GET/me": allow}},
			{"unprefixed scopes are not the pool's", "pets:read pets:write",
				map[string]gateway.Decision{"GET/pets": deny, "GET/pets/7": deny, "POST/pets": deny, "GET/me": allow}},
		} {
			got := decide(token(client, tt.scope, "access"))
			for r, want := range tt.want {
				if got[r] != want {
					t.Errorf("%s, %s: %s is %v, want %v", client, tt.name, r, got[r], want)
				}
			}
		}
	}
	// A Cognito ID token of the web client, shaped as Cognito issues it:
	// aud is the app client's id (an audience the authorizer accepts), no
	// client_id and no scope. Only the token_use guard refuses it: without
	// that guard it would pass GET /me, which needs no scope.
	idToken := func(clientID string) string {
		now := time.Now()
		return testissuer.Sign(t, "key-a", jwt.MapClaims{
			"iss": iss.URL, "sub": "0f3c2a6e-aaaa-bbbb-cccc-000000000001", "aud": clientID, "token_use": "id",
			"auth_time": now.Unix(), "exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "jti": "6c4f", "origin_jti": "77aa",
			"cognito:username": "alice", "cognito:groups": []string{"writers"}, "email": "alice@example.com", "email_verified": true,
			"at_hash": "q1w2e3",
		}, nil)
	}
	// Refused outright (the error Unauthorized, a 401): an app client that
	// is not the stack's, and a Cognito ID token.
	for name, tok := range map[string]string{
		"another client": token("someoneelse", "petstore/pets:read petstore/pets:write", "access"),
		"an ID token":    idToken("WebAppClient"),
	} {
		resp, err := a.Handle(context.Background(), events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN",
			AuthorizationToken: "Bearer " + tok, MethodArn: arn + "GET/me"})
		if err == nil || err.Error() != "Unauthorized" {
			t.Errorf("%s: %v %+v, want the error Unauthorized", name, err, resp.PolicyDocument)
		}
	}
}
