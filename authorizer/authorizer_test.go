package authorizer

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/aws/aws-lambda-go/events"
	"github.com/example/petstore-oidc/internal/testissuer"
	"github.com/example/petstore-oidc/internal/testlog"
	"github.com/example/petstore-oidc/local/gateway"
	"github.com/golang-jwt/jwt/v5"
)

func TestValidTokensAreAllowed(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name       string
		claims     func(jwt.MapClaims)
		header     map[string]any
		scheme     string
		wantScopes string
		wantClient string
	}{
		{name: "aud string", wantScopes: "openid pets:read pets:write", wantClient: "web-client"},
		// The fixed 30 s leeway: 29 s past exp, or before nbf or iat, passes.
		{name: "exp 29 s ago", claims: func(c jwt.MapClaims) { c["exp"] = e.clock.Now().Add(-29 * time.Second).Unix() },
			wantScopes: "openid pets:read pets:write", wantClient: "web-client"},
		{name: "nbf and iat 29 s ahead", claims: func(c jwt.MapClaims) {
			c["nbf"] = e.clock.Now().Add(29 * time.Second).Unix()
			c["iat"] = e.clock.Now().Add(29 * time.Second).Unix()
		}, wantScopes: "openid pets:read pets:write", wantClient: "web-client"},
		{name: "aud array with another audience", claims: func(c jwt.MapClaims) {
			c["aud"] = []string{"https://tenant.example.com/userinfo", testAudience}
		}, wantScopes: "openid pets:read pets:write", wantClient: "web-client"},
		{name: "Cognito access token: no aud, client_id is an audience", claims: func(c jwt.MapClaims) {
			delete(c, "aud")
			c["token_use"] = "access"
			c["client_id"] = testClientID
			c["scope"] = "pets:read"
		}, wantScopes: "pets:read", wantClient: testClientID},
		{name: "Okta/Entra scp array", claims: func(c jwt.MapClaims) {
			delete(c, "scope")
			delete(c, "client_id")
			c["scp"] = []string{"pets:read", "pets:write"}
			c["cid"] = "okta-client" // not read: client_id is the only client claim
		}, wantScopes: "pets:read pets:write"},
		{name: "Entra scp string and azp", claims: func(c jwt.MapClaims) {
			delete(c, "scope")
			delete(c, "client_id")
			c["scp"] = "pets:read"
			c["azp"] = "entra-client" // not read
		}, wantScopes: "pets:read"},
		{name: "RFC 9068 typ at+jwt", header: map[string]any{"typ": "at+jwt"}, wantScopes: "openid pets:read pets:write", wantClient: "web-client"},
		{name: "lower-case scheme", scheme: "bearer ", wantScopes: "openid pets:read pets:write", wantClient: "web-client"},
		{name: "expired within the clock skew", claims: func(c jwt.MapClaims) {
			c["exp"] = e.clock.Now().Add(-10 * time.Second).Unix()
		}, wantScopes: "openid pets:read pets:write", wantClient: "web-client"},
		{name: "nbf within the clock skew", claims: func(c jwt.MapClaims) {
			c["nbf"] = e.clock.Now().Add(10 * time.Second).Unix()
		}, wantScopes: "openid pets:read pets:write", wantClient: "web-client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.claims()
			if tt.claims != nil {
				tt.claims(c)
			}
			scheme := tt.scheme
			if scheme == "" {
				scheme = "Bearer "
			}
			token := testissuer.Sign(t, "key-a", c, tt.header)
			resp, err := e.authorize(scheme + token)
			if err != nil {
				t.Fatalf("err = %v, want a policy; log: %s", err, e.logs.String())
			}
			if resp.PrincipalID != "user-123" {
				t.Errorf("principalId = %q", resp.PrincipalID)
			}
			if got := resp.Context["scope"]; got != tt.wantScopes {
				t.Errorf("context scope = %q, want %q", got, tt.wantScopes)
			}
			if got, ok := resp.Context["client_id"]; got != tt.wantClient && (ok || tt.wantClient != "") {
				t.Errorf("context client_id = %v, want %q", got, tt.wantClient)
			}
			if got := resp.Context["sub"]; got != "user-123" {
				t.Errorf("context sub = %v", got)
			}
			for k, v := range resp.Context {
				switch v.(type) {
				case string, bool, float64, int:
				default:
					t.Errorf("context %q is %T: API Gateway accepts only scalars", k, v)
				}
			}
			if d, _ := gateway.Evaluate(resp.PolicyDocument, testMethodARN); d != gateway.Allow {
				t.Errorf("policy gives %v for GET /pets", d)
			}
			if got := e.lastDecision()["outcome"]; got != "allow" {
				t.Errorf("logged outcome %v", got)
			}
		})
	}
}

func TestRefusedTokensGetExactlyUnauthorized(t *testing.T) {
	e := newEnv(t)
	attacker := testissuer.New(t, "attacker") // serves the attacker's JWKS for jku/x5u
	pubPEM := func() []byte {
		der, err := x509.MarshalPKIXPublicKey(&testissuer.Key(t, "key-a").PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}()
	attackerJWK := testissuer.JWKS(t, "attacker").Keys[0]
	valid := func() string { return testissuer.Sign(t, "key-a", e.claims(), nil) }
	with := func(f func(jwt.MapClaims)) string {
		c := e.claims()
		f(c)
		return testissuer.Sign(t, "key-a", c, nil)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	parts := func(tok string) []string { return strings.Split(tok, ".") }
	jsonB64 := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b64(b)
	}

	tests := []struct {
		name   string
		header func() string // the whole authorizationToken
		reason string
	}{
		{"expired", func() string {
			return "Bearer " + with(func(c jwt.MapClaims) { c["exp"] = e.clock.Now().Add(-2 * time.Minute).Unix() })
		}, "expired"},
		{"exp 31 s ago, past the 30 s leeway", func() string {
			return "Bearer " + with(func(c jwt.MapClaims) { c["exp"] = e.clock.Now().Add(-31 * time.Second).Unix() })
		}, "expired"},
		{"nbf 31 s ahead, past the 30 s leeway", func() string {
			return "Bearer " + with(func(c jwt.MapClaims) { c["nbf"] = e.clock.Now().Add(31 * time.Second).Unix() })
		}, "not_yet_valid"},
		{"iat 31 s ahead, past the 30 s leeway", func() string {
			return "Bearer " + with(func(c jwt.MapClaims) { c["iat"] = e.clock.Now().Add(31 * time.Second).Unix() })
		}, "not_yet_valid"},
		{"nbf in the future", func() string {
			return "Bearer " + with(func(c jwt.MapClaims) { c["nbf"] = e.clock.Now().Add(5 * time.Minute).Unix() })
		}, "not_yet_valid"},
		{"iat in the future", func() string {
			return "Bearer " + with(func(c jwt.MapClaims) { c["iat"] = e.clock.Now().Add(5 * time.Minute).Unix() })
		}, "not_yet_valid"},
		{"missing exp", func() string { return "Bearer " + with(func(c jwt.MapClaims) { delete(c, "exp") }) }, "missing_exp"},
		{"wrong iss", func() string {
			return "Bearer " + with(func(c jwt.MapClaims) { c["iss"] = "https://evil.example.com" })
		}, "issuer"},
		{"iss with an extra trailing slash", func() string {
			return "Bearer " + with(func(c jwt.MapClaims) { c["iss"] = e.idp.URL + "/" })
		}, "issuer"},
		{"missing iss", func() string { return "Bearer " + with(func(c jwt.MapClaims) { delete(c, "iss") }) }, "issuer"},
		{"wrong aud", func() string {
			return "Bearer " + with(func(c jwt.MapClaims) { c["aud"] = "https://other-api.example.com" })
		}, "audience"},
		{"wrong aud array", func() string {
			return "Bearer " + with(func(c jwt.MapClaims) { c["aud"] = []string{"a", "b"} })
		}, "audience"},
		{"missing aud", func() string { return "Bearer " + with(func(c jwt.MapClaims) { delete(c, "aud") }) }, "audience"},
		{"aud is one value, not a space-separated list", func() string {
			return "Bearer " + with(func(c jwt.MapClaims) { c["aud"] = "https://other-api.example.com " + testAudience })
		}, "audience"},
		{"Cognito access token for another client", func() string {
			return "Bearer " + with(func(c jwt.MapClaims) {
				delete(c, "aud")
				c["token_use"], c["client_id"] = "access", "some-other-client"
			})
		}, "audience"},
		{"Cognito ID token", func() string {
			return "Bearer " + with(func(c jwt.MapClaims) { c["aud"], c["token_use"] = testClientID, "id" })
		}, "token_type"},
		{"typ of another kind of JWT", func() string {
			return "Bearer " + testissuer.Sign(t, "key-a", e.claims(), map[string]any{"typ": "logout+jwt"})
		}, "token_type"},
		{"missing sub", func() string { return "Bearer " + with(func(c jwt.MapClaims) { delete(c, "sub") }) }, "missing_sub"},
		{"alg none", func() string {
			return "Bearer " + jsonB64(map[string]string{"alg": "none", "typ": "JWT"}) + "." + jsonB64(e.claims()) + "."
		}, "algorithm"},
		{"alg none with kid", func() string {
			return "Bearer " + jsonB64(map[string]string{"alg": "none", "kid": "key-a"}) + "." + jsonB64(e.claims()) + "."
		}, "algorithm"},
		{"HS256 signed with the public key", func() string {
			tok := jwt.NewWithClaims(jwt.SigningMethodHS256, e.claims())
			tok.Header["kid"] = "key-a"
			s, err := tok.SignedString(pubPEM)
			if err != nil {
				t.Fatal(err)
			}
			return "Bearer " + s
		}, "algorithm"},
		{"RS384: a real algorithm, but not on the allow-list", func() string {
			tok := jwt.NewWithClaims(jwt.SigningMethodRS384, e.claims())
			tok.Header["kid"] = "key-a"
			s, err := tok.SignedString(testissuer.Key(t, "key-a"))
			if err != nil {
				t.Fatal(err)
			}
			return "Bearer " + s
		}, "algorithm"},
		{"unknown alg", func() string {
			return "Bearer " + jsonB64(map[string]string{"alg": "XS999", "kid": "key-a"}) + "." + jsonB64(e.claims()) + ".c2ln"
		}, "algorithm"},
		{"unknown kid", func() string { return "Bearer " + testissuer.Sign(t, "attacker", e.claims(), nil) }, "unknown_kid"},
		{"known kid signed by another key", func() string {
			return "Bearer " + testissuer.SignWith(t, "attacker", "key-a", e.claims())
		}, "signature"},
		{"no kid while the JWKS has two keys", func() string {
			return "Bearer " + testissuer.SignWith(t, "key-a", "", e.claims())
		}, "missing_kid"},
		{"injected jwk header with the attacker's kid", func() string {
			return "Bearer " + testissuer.Sign(t, "attacker", e.claims(), map[string]any{"jwk": attackerJWK})
		}, "unknown_kid"},
		{"injected jwk header with a known kid", func() string {
			tok := jwt.NewWithClaims(jwt.SigningMethodRS256, e.claims())
			tok.Header["kid"], tok.Header["jwk"] = "key-a", attackerJWK
			s, _ := tok.SignedString(testissuer.Key(t, "attacker"))
			return "Bearer " + s
		}, "signature"},
		{"injected jku header", func() string {
			return "Bearer " + testissuer.Sign(t, "attacker", e.claims(), map[string]any{"jku": attacker.URL + "/jwks"})
		}, "unknown_kid"},
		{"injected x5u header", func() string {
			return "Bearer " + testissuer.Sign(t, "attacker", e.claims(), map[string]any{"x5u": attacker.URL + "/jwks"})
		}, "unknown_kid"},
		{"tampered payload", func() string {
			p := parts(valid())
			c := e.claims()
			c["scope"] = "pets:read pets:write admin"
			return "Bearer " + p[0] + "." + jsonB64(c) + "." + p[2]
		}, "signature"},
		{"tampered signature", func() string {
			p := parts(valid())
			sig := []byte(p[2])
			if sig[10] == 'A' {
				sig[10] = 'B'
			} else {
				sig[10] = 'A'
			}
			return "Bearer " + p[0] + "." + p[1] + "." + string(sig)
		}, "signature"},
		// The signature is checked before any claim: a token failing both
		// is a signature failure, and nothing of its claims is logged.
		{"expired, with a tampered signature", func() string {
			p := parts(with(func(c jwt.MapClaims) { c["exp"] = e.clock.Now().Add(-time.Hour).Unix(); c["sub"] = "forged-sub" }))
			return "Bearer " + p[0] + "." + p[1] + "." + parts(valid())[2]
		}, "signature"},
		{"wrong issuer, with a tampered signature", func() string {
			p := parts(with(func(c jwt.MapClaims) { c["iss"] = "https://evil.example"; c["sub"] = "forged-sub" }))
			return "Bearer " + p[0] + "." + p[1] + "." + parts(valid())[2]
		}, "signature"},
		{"signature of another token", func() string {
			other := parts(with(func(c jwt.MapClaims) { c["sub"] = "someone-else" }))
			p := parts(valid())
			return "Bearer " + p[0] + "." + p[1] + "." + other[2]
		}, "signature"},
		{"unknown crit header parameter", func() string {
			return "Bearer " + testissuer.Sign(t, "key-a", e.claims(), map[string]any{"crit": []string{"http://example.com/ext"}, "http://example.com/ext": true})
		}, "crit"},
		{"two segments", func() string { p := parts(valid()); return "Bearer " + p[0] + "." + p[1] }, "malformed"},
		{"four segments", func() string { return "Bearer " + valid() + ".e30" }, "malformed"},
		{"bad base64 in the header", func() string { p := parts(valid()); return "Bearer *!*." + p[1] + "." + p[2] }, "malformed"},
		{"bad base64 in the payload", func() string { p := parts(valid()); return "Bearer " + p[0] + ".%%%." + p[2] }, "malformed"},
		{"bad base64 in the signature", func() string { p := parts(valid()); return "Bearer " + p[0] + "." + p[1] + ".@@@" }, "malformed"},
		{"header is not JSON", func() string {
			p := parts(valid())
			return "Bearer " + b64([]byte("not json")) + "." + p[1] + "." + p[2]
		}, "malformed"},
		{"payload is not JSON", func() string { p := parts(valid()); return "Bearer " + p[0] + "." + b64([]byte("[1,2")) + "." + p[2] }, "malformed"},
		{"claim of the wrong type", func() string {
			return "Bearer " + with(func(c jwt.MapClaims) { c["exp"] = "tomorrow" })
		}, "malformed"},
		{"kid of the wrong type", func() string { return "Bearer " + testissuer.Sign(t, "key-a", e.claims(), map[string]any{"kid": 7}) }, "malformed"},
		{"oversized", func() string { return "Bearer " + strings.Repeat("a", maxTokenBytes+1) }, "oversized"},
		{"oversized but otherwise valid", func() string {
			return "Bearer " + with(func(c jwt.MapClaims) { c["pad"] = strings.Repeat("x", maxTokenBytes) })
		}, "oversized"},
		{"missing", func() string { return "" }, "missing_token"},
		{"blank", func() string { return "   " }, "missing_token"},
		{"Basic scheme", func() string { return "Basic dXNlcjpwYXNz" }, "scheme"},
		{"token without scheme", func() string { return valid() }, "scheme"},
		{"scheme without token", func() string { return "Bearer " }, "scheme"},
		{"two tokens", func() string { return "Bearer " + valid() + " " + valid() }, "scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := tt.header()
			resp, err := e.authorize(header)
			if err == nil || err.Error() != "Unauthorized" {
				t.Fatalf("err = %v, want exactly Unauthorized (policy %+v)", err, resp.PolicyDocument)
			}
			if resp.PrincipalID != "" || len(resp.PolicyDocument.Statement) != 0 {
				t.Errorf("a refusal carries a response: %+v", resp)
			}
			d := e.lastDecision()
			if d["reason"] != tt.reason || d["outcome"] != "unauthorized" {
				t.Errorf("logged outcome %v reason %v, want unauthorized %s (detail %v)", d["outcome"], d["reason"], tt.reason, d["detail"])
			}
			if tt.reason == "signature" && d["sub"] != nil {
				t.Errorf("the sub of a token whose signature failed was logged: %v", d["sub"])
			}
		})
	}
	if n := attacker.Fetches(); n != 0 {
		t.Errorf("the attacker's key server was asked %d times: keys must only come from the configured JWKS", n)
	}
	// No line of the log may carry a token or a signature.
	for _, line := range strings.Split(e.logs.String(), "\n") {
		if strings.Contains(line, "eyJ") {
			t.Errorf("log line carries a token: %s", line)
		}
	}
}

// A token must name its key, even when the JWKS holds a single one, and
// the refusal comes before any fetch.
func TestTokenWithoutKIDIsRefusedEvenWithOneKey(t *testing.T) {
	e := newEnv(t)
	e.idp.Publish("key-a")
	e.start()
	before := e.idp.Fetches()
	if _, err := e.authorize("Bearer " + testissuer.SignWith(t, "key-a", "", e.claims())); err == nil || e.lastDecision()["reason"] != "missing_kid" {
		t.Fatalf("err = %v, reason %v; want missing_kid", err, e.lastDecision()["reason"])
	}
	if n := e.idp.Fetches() - before; n != 0 {
		t.Errorf("a token without kid caused %d JWKS fetches", n)
	}
}

// Only RS256 is accepted: every other real algorithm is refused with
// reason algorithm, whatever key signed it.
func TestOnlyRS256IsAccepted(t *testing.T) {
	e := newEnv(t)
	ec256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaB := testissuer.Key(t, "key-b")
	for _, tt := range []struct {
		method jwt.SigningMethod
		key    any
	}{
		{jwt.SigningMethodPS256, rsaB}, {jwt.SigningMethodRS512, rsaB}, {jwt.SigningMethodES256, ec256},
		{jwt.SigningMethodEdDSA, ed}, {jwt.SigningMethodHS256, []byte("a shared secret of 32 bytes long")},
	} {
		_, err := e.authorize("Bearer " + signWith(t, tt.method, tt.key, "key-b", e.claims()))
		if reason := e.lastDecision()["reason"]; err == nil || reason != "algorithm" {
			t.Errorf("%s: err = %v, reason %v; want algorithm", tt.method.Alg(), err, reason)
		}
	}
}

// An RSA key whose JWK names another alg (here PS256) verifies no RS256
// token, though the key itself could.
func TestJWKAlgIsEnforced(t *testing.T) {
	k := testissuer.Key(t, "key-b")
	srv := serveJWKS(t, jwksJSON(t, jwk(t, &k.PublicKey, "pss", jwkset.JWKMetadataOptions{ALG: jwkset.AlgPS256})), nil)
	e := newEnv(t, func(c *Config) { c.JWKSURI = srv.URL + "/jwks" })
	if _, err := e.authorize("Bearer " + signWith(t, jwt.SigningMethodRS256, k, "pss", e.claims())); err == nil || e.lastDecision()["reason"] != "algorithm" {
		t.Fatalf("err = %v, reason %v; want the JWK's alg to be enforced", err, e.lastDecision()["reason"])
	}
}

func TestDenyPolicyWhenScopesPermitNothing(t *testing.T) {
	e := newEnv(t)
	c := e.claims()
	c["scope"] = "openid profile"
	resp, err := e.authorize("Bearer " + testissuer.Sign(t, "key-a", c, nil))
	if err != nil {
		t.Fatalf("a verified token must get a policy, not an error: %v", err)
	}
	for _, arn := range []string{testMethodARN, "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/POST/pets"} {
		if d, _ := gateway.Evaluate(resp.PolicyDocument, arn); d != gateway.ExplicitDeny {
			t.Errorf("%s: %v, want ExplicitDeny", arn, d)
		}
	}
	// GET /me needs no scope, so it stays allowed.
	if d, _ := gateway.Evaluate(resp.PolicyDocument, "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/GET/me"); d != gateway.Allow {
		t.Errorf("GET /me: %v", d)
	}

	e2 := newEnv(t, func(c *Config) { c.Rules, _ = ParseRouteRules("GET /pets=pets:read") })
	c = e2.claims()
	c["scope"] = "openid profile"
	resp, err = e2.authorize("Bearer " + testissuer.Sign(t, "key-a", c, nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.PolicyDocument.Statement) != 1 || resp.PolicyDocument.Statement[0].Effect != "Deny" {
		t.Errorf("policy %+v, want a single Deny", resp.PolicyDocument)
	}
	if d := e2.lastDecision(); d["outcome"] != "deny" || d["reason"] != "scope" {
		t.Errorf("logged %v/%v, want deny/scope", d["outcome"], d["reason"])
	}
}

func TestInvalidMethodARNIsAConfigurationError(t *testing.T) {
	e := newEnv(t)
	_, err := e.auth.Handle(context.Background(), events.APIGatewayCustomAuthorizerRequest{
		Type: "TOKEN", AuthorizationToken: "Bearer " + testissuer.Sign(t, "key-a", e.claims(), nil), MethodArn: "arn:aws:s3:::bucket",
	})
	if err == nil || err.Error() == "Unauthorized" {
		t.Fatalf("err = %v, want a non-Unauthorized error (API Gateway 500)", err)
	}
}

func TestDecisionLogLine(t *testing.T) {
	e := newEnv(t)
	token := testissuer.Sign(t, "key-a", e.claims(), nil)
	if _, err := e.authorize("Bearer " + token); err != nil {
		t.Fatal(err)
	}
	d := e.lastDecision()
	for _, k := range []string{"outcome", "reason", "sub", "kid", "token_sha256", "duration_us", "method_arn"} {
		if _, ok := d[k]; !ok {
			t.Errorf("decision line lacks %q: %v", k, d)
		}
	}
	if d["kid"] != "key-a" || d["sub"] != "user-123" || len(d["token_sha256"].(string)) != 12 {
		t.Errorf("decision line %v", d)
	}
	if strings.Contains(e.logs.String(), strings.Split(token, ".")[2]) {
		t.Error("the log carries the token's signature")
	}
}

// Holding no keys at all (a failed cold start), the authorizer refuses
// every token with a 401 (reason jwks_unavailable) and fetches again at
// most once per second, however many requests come, until the IdP answers:
// it recovers without a restart. Once keys are held, an unknown kid waits
// for keyRefreshInterval again.
func TestWithoutKeysTheFetchIsRetriedOncePerSecond(t *testing.T) {
	e := &env{t: t, idp: testissuer.New(t, "key-a"), clock: newClock(), logs: &testlog.Buffer{}}
	e.idp.SetMode(testissuer.Down)
	e.start()
	token := "Bearer " + testissuer.Sign(t, "key-a", e.claims(), nil)
	burst := func(token string) {
		t.Helper()
		for range 50 {
			if _, err := e.authorize(token); err == nil || err.Error() != "Unauthorized" {
				t.Fatalf("err %v, want Unauthorized", err)
			}
		}
	}
	burst(token)
	if n := e.idp.JWKSHits.Load(); n != 1 || e.lastDecision()["reason"] != "jwks_unavailable" {
		t.Errorf("%d fetches within the first second (reason %v), want the cold start's only", n, e.lastDecision()["reason"])
	}
	e.clock.Advance(noKeysRetryInterval - time.Millisecond)
	burst(token)
	if n := e.idp.JWKSHits.Load(); n != 1 {
		t.Errorf("%d fetches before a second passed, want 1", n)
	}
	e.clock.Advance(time.Millisecond)
	burst(token)
	if n := e.idp.JWKSHits.Load(); n != 2 {
		t.Errorf("%d fetches after %s, want one more", n, noKeysRetryInterval)
	}
	e.idp.SetMode(testissuer.OK)
	e.clock.Advance(noKeysRetryInterval)
	if _, err := e.authorize(token); err != nil {
		t.Fatalf("after the IdP came back: %v (%v)", err, e.lastDecision()["detail"])
	}
	if n := e.idp.JWKSHits.Load(); n != 3 {
		t.Errorf("%d fetches, want 3", n)
	}
	// Keys held: unknown kids cost one fetch per keyRefreshInterval.
	e.clock.Advance(keyRefreshInterval)
	unknown := "Bearer " + testissuer.Sign(t, "key-c", e.claims(), nil)
	burst(unknown)
	e.clock.Advance(noKeysRetryInterval)
	burst(unknown)
	if n := e.idp.JWKSHits.Load(); n != 4 {
		t.Errorf("%d fetches, want 4: with keys held, one per %s", n, keyRefreshInterval)
	}
}

func TestJWKSOutageAtColdStartThenRecovery(t *testing.T) {
	e := &env{t: t, idp: testissuer.New(t, "key-a"), clock: newClock(), logs: &testlog.Buffer{}}
	e.idp.SetMode(testissuer.Down)
	e.start()
	token := "Bearer " + testissuer.Sign(t, "key-a", e.claims(), nil)
	if _, err := e.authorize(token); err == nil || e.lastDecision()["reason"] != "jwks_unavailable" {
		t.Fatalf("during the outage: err %v reason %v", err, e.lastDecision()["reason"])
	}
	e.idp.SetMode(testissuer.OK)
	e.clock.Advance(noKeysRetryInterval)
	if _, err := e.authorize(token); err != nil {
		t.Fatalf("after recovery: %v (%v)", err, e.lastDecision()["detail"])
	}
	if n := e.idp.JWKSHits.Load(); n != 2 {
		t.Errorf("JWKS fetched %d times, want 2 (cold start, then once on recovery)", n)
	}
}

func TestJWKSOutageWhileWarm(t *testing.T) {
	e := newEnv(t)
	e.idp.SetMode(testissuer.Down)
	e.clock.Advance(2 * keyMaxAge) // keys are stale: a refresh is attempted and fails
	token := testissuer.Sign(t, "key-a", e.claims(), nil)
	if _, err := e.authorize("Bearer " + token); err != nil {
		t.Fatalf("a known key must keep working during an outage: %v", err)
	}
	// The failed refresh is a warning with its reason, never the token.
	var warned bool
	for _, line := range strings.Split(strings.TrimSpace(e.logs.String()), "\n") {
		if strings.Contains(line, `"level":"WARN"`) && strings.Contains(line, `"msg":"JWKS refresh failed`) &&
			strings.Contains(line, `"reason":"jwks_unavailable"`) && strings.Contains(line, `"fetched_at"`) {
			warned = true
		}
		if strings.Contains(line, token) || strings.Contains(line, strings.Split(token, ".")[2]) {
			t.Errorf("log line carries the token: %s", line)
		}
	}
	if !warned {
		t.Errorf("no warning for the failed refresh of stale keys; log:\n%s", e.logs.String())
	}
	e.clock.Advance(keyRefreshInterval)
	if _, err := e.authorize("Bearer " + testissuer.Sign(t, "key-c", e.claims(), nil)); err == nil || e.lastDecision()["reason"] != "jwks_unavailable" {
		t.Fatalf("an unknown key during an outage: err %v reason %v", err, e.lastDecision()["reason"])
	}
	if n := e.idp.JWKSHits.Load(); n != 3 {
		t.Errorf("JWKS fetched %d times, want 3", n)
	}
}

func TestJWKSRotation(t *testing.T) {
	e := newEnv(t)
	e.idp.Publish("key-b", "key-c") // key-a retired, key-c new
	e.clock.Advance(time.Second)
	newToken := "Bearer " + testissuer.Sign(t, "key-c", e.claims(), nil)
	if _, err := e.authorize(newToken); err == nil || e.lastDecision()["reason"] != "unknown_kid" {
		t.Fatalf("1 s after cold start the refresh is rate limited: err %v reason %v", err, e.lastDecision()["reason"])
	}
	e.clock.Advance(keyRefreshInterval)
	if _, err := e.authorize(newToken); err != nil {
		t.Fatalf("the rotated key must be picked up within %s: %v (%v)", keyRefreshInterval, err, e.lastDecision()["detail"])
	}
	if _, err := e.authorize("Bearer " + testissuer.Sign(t, "key-a", e.claims(), nil)); err == nil || e.lastDecision()["reason"] != "unknown_kid" {
		t.Fatalf("a key removed from the JWKS must stop working: err %v", err)
	}
}

func TestUnknownKIDFloodIsRateLimited(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Now = time.Now })
	claims := e.claims()
	done := make(chan error)
	for i := range 200 {
		go func() {
			_, err := e.authorize("Bearer " + testissuer.SignWith(t, "key-a", "random-"+string(rune('a'+i%26))+strings.Repeat("x", i), claims))
			done <- err
		}()
	}
	for range 200 {
		if err := <-done; err == nil {
			t.Error("a token with a random kid was allowed")
		}
	}
	if n := e.idp.Fetches(); n > 2 {
		t.Errorf("200 unknown kids caused %d JWKS fetches, want at most 2", n)
	}
}

func TestHangingJWKSStillAnswersWithin4s(t *testing.T) {
	e := &env{t: t, idp: testissuer.New(t, "key-a"), clock: newClock(), logs: &testlog.Buffer{}}
	e.idp.SetMode(testissuer.Hang)
	start := time.Now()
	e.start() // cold start
	_, err := e.authorize("Bearer " + testissuer.Sign(t, "key-a", e.claims(), nil))
	if took := time.Since(start); took > 4*time.Second {
		t.Errorf("cold start plus first answer took %s against a hanging JWKS, want under 4s", took)
	}
	if err == nil || e.lastDecision()["reason"] != "jwks_unavailable" {
		t.Fatalf("err %v reason %v", err, e.lastDecision()["reason"])
	}

	// Warm, then the IdP hangs while a new kid needs a refresh.
	w := newEnv(t)
	w.idp.SetMode(testissuer.Hang)
	w.clock.Advance(keyRefreshInterval)
	start = time.Now()
	_, err = w.authorize("Bearer " + testissuer.Sign(t, "key-c", w.claims(), nil))
	if took := time.Since(start); took > 4*time.Second {
		t.Errorf("warm refresh against a hanging JWKS took %s", took)
	}
	if err == nil {
		t.Fatal("allowed a token it could not verify")
	}
}

func TestJWKSDiscovery(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.JWKSURI = "" })
	if _, err := e.authorize("Bearer " + testissuer.Sign(t, "key-a", e.claims(), nil)); err != nil {
		t.Fatalf("with discovery: %v (%v)", err, e.lastDecision()["detail"])
	}
	if e.idp.DiscoveryHits.Load() != 1 {
		t.Errorf("discovery fetched %d times", e.idp.DiscoveryHits.Load())
	}

	bad := &env{t: t, idp: testissuer.New(t, "key-a"), clock: newClock(), logs: &testlog.Buffer{}}
	bad.idp.SetDiscoveryIssuer("https://impostor.example.com")
	bad.start(func(c *Config) { c.JWKSURI = "" })
	if _, err := bad.authorize("Bearer " + testissuer.Sign(t, "key-a", bad.claims(), nil)); err == nil || bad.lastDecision()["reason"] != "jwks_unavailable" {
		t.Fatalf("a discovery document for another issuer must not be trusted: %v", err)
	}
}

func TestJWKSSkipsUnusableKeys(t *testing.T) {
	var hits atomic.Int64
	good := testissuer.JWKS(t, "key-a").Keys[0]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		enc := good
		enc.USE = jwkset.UseEnc
		enc.KID = "enc-key"
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []any{
			map[string]string{"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
			enc,
			map[string]string{"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"},
			good,
		}})
	}))
	defer srv.Close()
	e := newEnv(t, func(c *Config) { c.JWKSURI = srv.URL })
	snap := e.auth.keys.current.Load()
	var kids []string
	for kid := range snap.byKID {
		kids = append(kids, kid)
	}
	if !slices.Equal(kids, []string{"key-a"}) {
		t.Errorf("usable keys %v, want only key-a", kids)
	}
	if _, err := e.authorize("Bearer " + testissuer.Sign(t, "key-a", e.claims(), nil)); err != nil {
		t.Fatal(err)
	}
}
