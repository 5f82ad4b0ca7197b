package gateway

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/example/petstore-oidc/authorizer"
	"github.com/example/petstore-oidc/internal/testissuer"
	"github.com/example/petstore-oidc/local/samtemplate"
)

// The repository's template.yaml with its default ROUTE_SCOPES: each route
// API Gateway routes to the authorizer gets exactly the intended decision
// for every combination of the PetStore's scopes, under both spellings a
// method ARN has (with and without the trailing slash). Since {param} and * both become IAM's "*", which
// crosses "/", and a Deny beats every Allow, a rule of one route could
// otherwise decide another's: this is the check that none does.
func TestTemplateRoutesGetTheIntendedDecisions(t *testing.T) {
	tpl, err := samtemplate.Load(filepath.Join("..", "..", "template.yaml"),
		map[string]string{"Issuer": "https://example.auth0.com/", "Audience": "petstore"})
	if err != nil {
		t.Fatal(err)
	}
	api, err := tpl.RestAPI("PetStoreApi")
	if err != nil {
		t.Fatal(err)
	}
	fn, err := tpl.Function("Authorizer")
	if err != nil {
		t.Fatal(err)
	}
	rules, err := authorizer.ParseRouteRules(fn.Environment[authorizer.EnvRouteScopes])
	if err != nil {
		t.Fatal(err)
	}
	// The intended scope of each protected route ("" is any valid token).
	intended := map[string]string{
		"GET /pets": "pets:read", "POST /pets": "pets:write", "GET /pets/{petId}": "pets:read", "GET /me": "",
	}
	idp := testissuer.New(t, "key-a")
	auth, err := authorizer.New(context.Background(), authorizer.Config{
		Issuer: idp.URL, Audiences: []string{"petstore"}, JWKSURI: idp.URL + "/jwks", Rules: rules,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	const stage = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/Prod/"
	policy := func(scope string) events.APIGatewayCustomAuthorizerPolicy {
		c := idp.Claims(time.Now(), "petstore")
		c["scope"] = scope
		resp, err := auth.Handle(context.Background(), events.APIGatewayCustomAuthorizerRequest{
			Type: "TOKEN", AuthorizationToken: "Bearer " + testissuer.Sign(t, "key-a", c, nil), MethodArn: stage + "GET/me",
		})
		if err != nil {
			t.Fatalf("scope %q: %v", scope, err)
		}
		return resp.PolicyDocument
	}
	protected := 0
	for _, scope := range []string{"", "openid", "pets:read", "pets:write", "pets:read pets:write"} {
		p := policy(scope)
		for _, r := range api.Routes {
			if r.Authorizer == "" {
				continue
			}
			protected++
			need, ok := intended[r.Method+" "+r.Path]
			if !ok {
				t.Fatalf("route %s %s is new: add its intended scope here", r.Method, r.Path)
			}
			want := ExplicitDeny
			if need == "" || slices.Contains(strings.Fields(scope), need) {
				want = Allow
			}
			path := strings.ReplaceAll(strings.TrimPrefix(r.Path, "/"), "{petId}", "7")
			for _, spelling := range []string{path, path + "/"} { // the method ARN's spellings
				if got, err := Evaluate(p, stage+r.Method+"/"+spelling); err != nil || got != want {
					t.Errorf("scope %q, %s /%s: %v (%v), want %v", scope, r.Method, spelling, got, err, want)
				}
			}
			// A denied route stays denied were every slash or an escape kept.
			for _, spelling := range []string{path + "//", path + "///", strings.Replace(path, "e", "%65", 1)} {
				if got, _ := Evaluate(p, stage+r.Method+"/"+spelling); want == ExplicitDeny && got != ExplicitDeny {
					t.Errorf("scope %q, %s /%s: %v, want ExplicitDeny", scope, r.Method, spelling, got)
				}
			}
		}
		// Methods no rule names are never allowed on the template's paths.
		for _, arn := range []string{"DELETE/pets/7", "PUT/pets/7", "POST/pets/7", "DELETE/me", "POST/me"} {
			if got, _ := Evaluate(p, stage+arn); got == Allow {
				t.Errorf("scope %q, %s: Allow, want a refusal", scope, arn)
			}
		}
	}
	if protected == 0 {
		t.Fatal("no protected route in the template")
	}
}
