package authorizer

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/example/petstore-oidc/internal/testissuer"
	"github.com/golang-jwt/jwt/v5"
)

func FuzzExtractBearerToken(f *testing.F) {
	for _, s := range []string{"Bearer abc.def.ghi", "bearer x", "Basic abc", "", "Bearer  a b", "Bearer\x00x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		token, err := extractBearerToken(header)
		if err != nil {
			if token != "" {
				t.Fatalf("token %q with error %v", token, err)
			}
			return
		}
		if token == "" || len(token) > maxTokenBytes || strings.ContainsAny(token, " \t\r\n") {
			t.Fatalf("accepted token %q from %q", token, header)
		}
	})
}

// FuzzHandle feeds arbitrary Authorization values and method ARNs to the
// whole handler: it must never panic, and must answer either a policy for a
// token that verifies, exactly "Unauthorized", or a method ARN error.
func FuzzHandle(f *testing.F) {
	e := newEnv(f)
	e.auth.cfg.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil)) // millions of lines otherwise
	valid := testissuer.Sign(f, "key-a", e.claims(), nil)
	parts := strings.Split(valid, ".")
	for _, s := range []string{
		"Bearer " + valid, "Bearer " + parts[0] + "." + parts[1] + ".", "Bearer " + parts[0] + ".e30.e30",
		"Bearer eyJhbGciOiJub25lIn0.e30.", "Bearer ...", "Bearer a.b.c.d", "bearer " + valid + "x",
	} {
		f.Add(s, testMethodARN)
	}
	f.Add("Bearer "+valid, "arn:aws:execute-api:r:1:a/s/GET/*")
	f.Fuzz(func(t *testing.T, header, methodARN string) {
		resp, err := e.auth.Handle(context.Background(), events.APIGatewayCustomAuthorizerRequest{
			Type: "TOKEN", AuthorizationToken: header, MethodArn: methodARN,
		})
		switch {
		case err == nil:
			if resp.PrincipalID != "user-123" || len(resp.PolicyDocument.Statement) == 0 {
				t.Fatalf("policy without a verified principal: %+v", resp)
			}
		case err.Error() == "Unauthorized", errors.Is(err, errInvalidMethodARN):
		default:
			t.Fatalf("unexpected error %v", err)
		}
	})
}

// FuzzAccessClaims feeds arbitrary payloads to the claim decoder, which
// golang-jwt runs before the signature is checked. It must never panic, and
// a payload it accepts must read the same as a plain decode into a map with
// exact lookups (accepted payloads name no member twice, so the map's
// last-wins rule cannot differ): no look-alike name stands in for a claim.
// Every scope it grants is one of RFC 6749's scope-tokens.
func FuzzAccessClaims(f *testing.F) {
	for _, s := range []string{
		`{"iss":"https://idp.example.com/","sub":"u","aud":["a","b"],"exp":1700000000,"iat":1.5,"scope":"a b"}`,
		`{"ISS":"x","iss":"y"}`, `{"\u0069ss":"x"}`, `{"iss":"x","\u0069ss":"y"}`, "\ufeff{}", `[]`, `{"a":{"iss":1}}`,
		`{"scp":["a b","c"],"exp":null,"scope":"d\u00a0e\tf g"}`, `{"\u017Fub":"x","to\u212Aen_use":"id","client_id":"c"}`,
		`{"nbf":-1e13,"exp":"1"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		var c accessClaims
		if err := json.Unmarshal(payload, &c); err != nil {
			return
		}
		var ref map[string]any
		if err := json.Unmarshal(payload, &ref); err != nil {
			t.Fatalf("accepted %q, which is no JSON object: %v", payload, err)
		}
		str := func(name string) string { s, _ := ref[name].(string); return s }
		if c.Issuer != str("iss") || c.Subject != str("sub") || c.ClientID != str("client_id") || c.TokenUse != str("token_use") {
			t.Fatalf("%q: read %+v", payload, c)
		}
		list := func(name string) []string { // a string is one element here; scope splits below
			switch v := ref[name].(type) {
			case string:
				return []string{v}
			case []any:
				var out []string
				for _, e := range v {
					out = append(out, e.(string))
				}
				return out
			}
			return nil
		}
		if !slices.Equal(c.Audience, list("aud")) {
			t.Fatalf("%q: aud %q", payload, c.Audience)
		}
		for name, got := range map[string][]string{"scope": c.Scope, "scp": c.Scp} {
			want := list(name)
			if s, ok := ref[name].(string); ok {
				want = strings.Split(s, " ")
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%q: %s %q, want %q", payload, name, got, want)
			}
		}
		for name, got := range map[string]*jwt.NumericDate{"exp": c.ExpiresAt, "nbf": c.NotBefore, "iat": c.IssuedAt} {
			v, ok := ref[name].(float64)
			if ok != (got != nil) || ok && math.Abs(float64(got.UnixMilli())/1000-v) >= 1 { // jwt.TimePrecision: 1 s
				t.Fatalf("%q: %s %v, want %v", payload, name, got, ref[name])
			}
		}
		for _, s := range c.scopes() {
			if s == "" || strings.ContainsFunc(s, func(r rune) bool { return r < '!' || r > '~' || r == '"' || r == '\\' }) {
				t.Fatalf("%q: granted scope %q", payload, s)
			}
		}
	})
}
