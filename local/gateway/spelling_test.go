package gateway

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/example/petstore-oidc/authorizer"
	"github.com/example/petstore-oidc/internal/testissuer"
	"github.com/example/petstore-oidc/local/samtemplate"
)

// The method ARN names the path as API Gateway routes it: percent-escapes
// decoded, runs of slashes collapsed, a trailing slash kept.
func TestMethodARNFromThePath(t *testing.T) {
	var got []string
	api := samtemplate.RestAPI{
		StageName: "Prod",
		Routes: []samtemplate.Route{
			{Method: "GET", Path: "/pets/{petId}", Function: "F", Authorizer: "A"},
		},
		Authorizers: map[string]samtemplate.TokenAuthorizer{"A": {Name: "A", Function: "Auth", PayloadType: "TOKEN", Header: "Authorization"}},
	}
	g, err := New(Config{
		API: api,
		Authorizers: map[string]AuthorizerFunc{"Auth": func(_ context.Context, r events.APIGatewayCustomAuthorizerRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
			got = append(got, r.MethodArn)
			return events.APIGatewayCustomAuthorizerResponse{}, errors.New("Unauthorized")
		}},
		Functions: map[string]ProxyFunc{"F": func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			return events.APIGatewayProxyResponse{StatusCode: 200}, nil
		}},
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	const stage = "arn:aws:execute-api:us-east-1:123456789012:local/Prod/GET/"
	for path, want := range map[string]string{
		"/pets/1":          stage + "pets/1",
		"/pets/1/":         stage + "pets/1/",
		"/pets/1//":        stage + "pets/1/",
		"/pets//1":         stage + "pets/1",
		"//pets/1///":      stage + "pets/1/",
		"/Prod/pets/1//":   stage + "pets/1/",
		"/Prod//pets//1/":  stage + "pets/1/",
		"//Prod/pets/1":    stage + "pets/1",
		"/pets/%2F1":       stage + "pets/1", // the decoded path, as routed
		"/pets/1/%2F%2F/":  stage + "pets/1/",
		"/pets/%31":        stage + "pets/1", // escapes decoded
		"/p%65ts/1%2F":     stage + "pets/1/",
		"/pets/abc-7/":     stage + "pets/abc-7/",
		"/pets/1?x=/a//b/": stage + "pets/1",
	} {
		got = nil
		req := httptest.NewRequest(http.MethodGet, "http://gateway"+path, nil)
		req.Header.Set("Authorization", "Bearer x")
		g.ServeHTTP(httptest.NewRecorder(), req)
		if len(got) != 1 || got[0] != want {
			t.Errorf("%s: method ARN %q, want %q", path, got, want)
		}
	}
}

// TestDeniedRouteUnderEverySpelling sends every spelling of a denied route
// that API Gateway routes to it through the emulator and the real
// authorizer: a read-only token may read any pet but not its secret; the
// routes beside and below the secret stay readable. The token's policy is
// cached after the first request and serves every later one, as on AWS.
func TestDeniedRouteUnderEverySpelling(t *testing.T) {
	idp := testissuer.New(t, "key-a")
	rules, err := authorizer.ParseRouteRules("GET /pets=pets:read,GET /pets/*=pets:read,GET /pets/{petId}/secret=admin,GET /pets/{petId}/secret/public=pets:read")
	if err != nil {
		t.Fatal(err)
	}
	auth, err := authorizer.New(context.Background(), authorizer.Config{
		Issuer: idp.URL, Audiences: []string{"petstore"}, JWKSURI: idp.URL + "/jwks", Rules: rules,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	route := func(path string) samtemplate.Route {
		return samtemplate.Route{Method: "GET", Path: path, Function: "F", Authorizer: "A"}
	}
	var authCalls atomic.Int64
	g, err := New(Config{
		API: samtemplate.RestAPI{
			StageName: "Prod",
			Routes:    []samtemplate.Route{route("/pets"), route("/pets/{petId}"), route("/pets/{petId}/secret"), route("/pets/{petId}/secret/public")},
			Authorizers: map[string]samtemplate.TokenAuthorizer{"A": {
				Name: "A", Function: "Auth", PayloadType: "TOKEN", Header: "Authorization", ReauthorizeEvery: 300,
			}},
		},
		Authorizers: map[string]AuthorizerFunc{"Auth": func(ctx context.Context, r events.APIGatewayCustomAuthorizerRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
			authCalls.Add(1)
			return auth.Handle(ctx, r)
		}},
		Functions: map[string]ProxyFunc{"F": func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			return events.APIGatewayProxyResponse{StatusCode: 200, Body: "{}"}, nil
		}},
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	token := func(scope string) string {
		c := idp.Claims(time.Now(), "petstore")
		c["scope"] = scope
		return "Bearer " + testissuer.Sign(t, "key-a", c, nil)
	}
	reader, admin := token("pets:read"), token("pets:read admin")
	get := func(path, authorization string) int {
		req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", authorization)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	secret := []string{
		"/pets/1/secret", "/pets/1/secret/", "/pets/1/secret//", "/pets/1/secret///",
		"/pets//1/secret", "/pets/1//secret/", "//pets/1/secret", "/Prod/pets/1/secret/",
		"/Prod//pets/1/secret//", "/pets/1/secret%2F", "/pets/abc-7/secret/",
		"/pets/1/%73ecret", "/pets/1/%73%65%63%72%65%74/", "/pets/1/s%65cret", "/pets/1%2Fsecret", "/p%65ts/1/secret",
	}
	beside := []string{
		"/pets", "/pets/", "/pets//", "/pets/1", "/pets/1/", "/pets/1//", "/Prod/pets/1/",
		"/pets/1/secret/public", "/pets/1/secret/public/", "/pets//1/secret/public//",
	}
	for _, path := range secret {
		t.Run("denied "+path, func(t *testing.T) {
			if got := get(path, reader); got != http.StatusForbidden {
				t.Errorf("pets:read, GET %s: %d, want 403", path, got)
			}
			if got := get(path, admin); got != http.StatusOK {
				t.Errorf("admin, GET %s: %d, want 200", path, got)
			}
		})
	}
	for _, path := range beside {
		t.Run("allowed "+path, func(t *testing.T) {
			if got := get(path, reader); got != http.StatusOK {
				t.Errorf("pets:read, GET %s: %d, want 200", path, got)
			}
		})
	}
	if n := authCalls.Load(); n != 2 {
		t.Errorf("the authorizer ran %d times, want once per token (API Gateway's cache)", n)
	}
}
