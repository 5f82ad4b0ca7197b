package authorizer

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"

	"github.com/example/petstore-oidc/internal/testissuer"
)

// jwk is the public JWK of key with the given kid and metadata.
func jwk(t *testing.T, key any, kid string, meta jwkset.JWKMetadataOptions) jwkset.JWKMarshal {
	t.Helper()
	meta.KID = kid
	j, err := jwkset.NewJWKFromKey(key, jwkset.JWKOptions{Metadata: meta})
	if err != nil {
		t.Fatal(err)
	}
	return j.Marshal()
}

// serveJWKS serves body at /jwks and the given redirects (path -> Location).
func serveJWKS(t *testing.T, body string, redirects map[string]string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if to, ok := redirects[r.URL.Path]; ok {
			http.Redirect(w, r, to, http.StatusFound)
			return
		}
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func jwksJSON(t *testing.T, keys ...jwkset.JWKMarshal) string {
	b, err := json.Marshal(jwkset.JWKSMarshal{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func signWith(t *testing.T, m jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, claims)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (e *env) heldKIDs() []string {
	var kids []string
	for _, k := range e.auth.keys.current.Load().all {
		kids = append(kids, k.kid)
	}
	return kids
}

// An RSA key under 2048 bits is dropped from the JWKS: crypto/rsa would
// verify with a 1024-bit key, so the authorizer checks the size itself.
func TestRSAKeysUnder2048BitsAreRefused(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	good := testissuer.JWKS(t, "key-a").Keys[0]
	srv := serveJWKS(t, jwksJSON(t, jwk(t, &small.PublicKey, "small", jwkset.JWKMetadataOptions{USE: jwkset.UseSig}), good), nil)
	e := newEnv(t, func(c *Config) { c.JWKSURI = srv.URL + "/jwks" })
	if kids := e.heldKIDs(); !slices.Equal(kids, []string{"key-a"}) {
		t.Errorf("keys held %v, want key-a only", kids)
	}
	if _, err := e.authorize("Bearer " + signWith(t, jwt.SigningMethodRS256, small, "small", e.claims())); err == nil || e.lastDecision()["reason"] != "unknown_kid" {
		t.Errorf("a token signed by the 1024-bit key: err %v reason %v, want unknown_kid", err, e.lastDecision()["reason"])
	}
	if _, err := e.authorize("Bearer " + testissuer.Sign(t, "key-a", e.claims(), nil)); err != nil {
		t.Errorf("a token of the 2048-bit key beside it: %v", err)
	}
}

// Only signature keys are used: "use" other than "sig", or "key_ops"
// without "verify", drops a key; either one absent is no objection.
func TestJWKSUseAndKeyOps(t *testing.T) {
	k := &testissuer.Key(t, "key-b").PublicKey
	srv := serveJWKS(t, jwksJSON(t,
		jwk(t, k, "enc", jwkset.JWKMetadataOptions{USE: jwkset.UseEnc}),
		jwk(t, k, "ops-encrypt", jwkset.JWKMetadataOptions{KEYOPS: []jwkset.KEYOPS{jwkset.KeyOpsEncrypt}}),
		jwk(t, k, "ops-sign-only", jwkset.JWKMetadataOptions{KEYOPS: []jwkset.KEYOPS{jwkset.KeyOpsSign}}),
		jwk(t, k, "sig", jwkset.JWKMetadataOptions{USE: jwkset.UseSig}),
		jwk(t, k, "ops-verify", jwkset.JWKMetadataOptions{KEYOPS: []jwkset.KEYOPS{jwkset.KeyOpsVerify}}),
		jwk(t, k, "bare", jwkset.JWKMetadataOptions{}),
	), nil)
	e := newEnv(t, func(c *Config) { c.JWKSURI = srv.URL + "/jwks" })
	if kids := e.heldKIDs(); !slices.Equal(kids, []string{"sig", "ops-verify", "bare"}) {
		t.Errorf("keys held %v, want sig, ops-verify, bare", kids)
	}
	for kid, want := range map[string]string{"enc": "unknown_kid", "ops-encrypt": "unknown_kid", "ops-sign-only": "unknown_kid", "sig": "ok", "ops-verify": "ok", "bare": "ok"} {
		_, _ = e.authorize("Bearer " + testissuer.SignWith(t, "key-b", kid, e.claims()))
		if got := e.lastDecision()["reason"]; got != want {
			t.Errorf("kid %s: reason %v, want %s", kid, got, want)
		}
	}
}

// Two keys of different types under one kid: the first usable one wins,
// and a token whose alg needs the other type is refused, never verified
// with whichever key happens to fit.
func TestDuplicateKIDAcrossKeyTypes(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey := testissuer.Key(t, "key-a")
	rsaJWK := jwk(t, &rsaKey.PublicKey, "dup", jwkset.JWKMetadataOptions{USE: jwkset.UseSig})
	ecJWK := jwk(t, &ec.PublicKey, "dup", jwkset.JWKMetadataOptions{USE: jwkset.UseSig})
	both := func(c *Config) { c.Algorithms = []string{"RS256", "ES256"} }
	for _, tt := range []struct {
		name         string
		keys         []jwkset.JWKMarshal
		rsaOK, ecdOK bool
	}{
		{"RSA first", []jwkset.JWKMarshal{rsaJWK, ecJWK}, true, false},
		{"EC first", []jwkset.JWKMarshal{ecJWK, rsaJWK}, false, true},
	} {
		srv := serveJWKS(t, jwksJSON(t, tt.keys...), nil)
		e := newEnv(t, both, func(c *Config) { c.JWKSURI = srv.URL + "/jwks" })
		_, errRSA := e.authorize("Bearer " + signWith(t, jwt.SigningMethodRS256, rsaKey, "dup", e.claims()))
		rsaReason := e.lastDecision()["reason"]
		_, errEC := e.authorize("Bearer " + signWith(t, jwt.SigningMethodES256, ec, "dup", e.claims()))
		ecReason := e.lastDecision()["reason"]
		if (errRSA == nil) != tt.rsaOK || !tt.rsaOK && rsaReason != "algorithm" {
			t.Errorf("%s: RS256 token: %v (%v)", tt.name, errRSA, rsaReason)
		}
		if (errEC == nil) != tt.ecdOK || !tt.ecdOK && ecReason != "algorithm" {
			t.Errorf("%s: ES256 token: %v (%v)", tt.name, errEC, ecReason)
		}
	}
}

// The JWKS client follows a few redirects, each to a URL the configuration
// itself could name: plain http only on loopback, no endless loops.
func TestJWKSRedirects(t *testing.T) {
	body := jwksJSON(t, testissuer.JWKS(t, "key-a").Keys...)
	srv := serveJWKS(t, body, map[string]string{
		"/moved":   "/jwks",
		"/away":    "http://keys.example.com/jwks",
		"/loop":    "/loop",
		"/twice":   "/moved",
		"/scheme":  "ftp://127.0.0.1/jwks",
		"/to-user": "http://user:pass@127.0.0.1/jwks",
	})
	for path, ok := range map[string]bool{"/moved": true, "/twice": true, "/away": false, "/loop": false, "/scheme": false, "/to-user": false} {
		e := newEnv(t, func(c *Config) { c.JWKSURI = srv.URL + path })
		_, err := e.authorize("Bearer " + testissuer.Sign(t, "key-a", e.claims(), nil))
		if (err == nil) != ok {
			t.Errorf("JWKS at %s: err %v (%v), want allowed %v", path, err, e.lastDecision()["detail"], ok)
		}
		if !ok && e.lastDecision()["reason"] != "jwks_unavailable" {
			t.Errorf("JWKS at %s: reason %v", path, e.lastDecision()["reason"])
		}
	}
}

// A JWKS or discovery document is one JSON value and nothing else.
func TestJWKSIsStrictJSON(t *testing.T) {
	body := jwksJSON(t, testissuer.JWKS(t, "key-a").Keys...)
	for name, doc := range map[string]string{
		"trailing data": body + `{"keys":[]}`,
		"truncated":     body[:len(body)-1],
		"not an object": `[` + body + `]`,
		"HTML":          `<html>keys</html>`,
	} {
		srv := serveJWKS(t, doc, nil)
		e := newEnv(t, func(c *Config) { c.JWKSURI = srv.URL + "/jwks" })
		if _, err := e.authorize("Bearer " + testissuer.Sign(t, "key-a", e.claims(), nil)); err == nil || e.lastDecision()["reason"] != "jwks_unavailable" {
			t.Errorf("%s: err %v reason %v, want jwks_unavailable", name, err, e.lastDecision()["reason"])
		}
	}
}

// A token's base64url is strict: the same bytes spelled with non-zero
// padding bits, which a lenient decoder reads as the valid token, are
// refused.
func TestTokenBase64IsStrict(t *testing.T) {
	e := newEnv(t)
	token := testissuer.Sign(t, "key-a", e.claims(), nil)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, token[len(token)-1])
	if last&1 != 0 {
		t.Fatalf("the signature's last character %q has a padding bit set", token[len(token)-1])
	}
	lenient := token[:len(token)-1] + string(alphabet[last|1])
	if _, err := e.authorize("Bearer " + token); err != nil {
		t.Fatal(err)
	}
	if _, err := e.authorize("Bearer " + lenient); err == nil || e.lastDecision()["reason"] != "malformed" {
		t.Errorf("non-canonical base64: err %v reason %v, want malformed", err, e.lastDecision()["reason"])
	}
}
