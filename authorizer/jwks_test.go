package authorizer

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"

	"github.com/example/petstore-oidc/internal/testissuer"
	"github.com/example/petstore-oidc/internal/testlog"
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
	for kid := range e.auth.keys.current.Load().byKID {
		kids = append(kids, kid)
	}
	slices.Sort(kids)
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
	if kids := e.heldKIDs(); !slices.Equal(kids, []string{"bare", "ops-verify", "sig"}) {
		t.Errorf("keys held %v, want bare, ops-verify, sig", kids)
	}
	for kid, want := range map[string]string{"enc": "unknown_kid", "ops-encrypt": "unknown_kid", "ops-sign-only": "unknown_kid", "sig": "ok", "ops-verify": "ok", "bare": "ok"} {
		_, _ = e.authorize("Bearer " + testissuer.SignWith(t, "key-b", kid, e.claims()))
		if got := e.lastDecision()["reason"]; got != want {
			t.Errorf("kid %s: reason %v, want %s", kid, got, want)
		}
	}
}

// An EC key beside an RSA key under one kid: the EC key is never held, in
// either order, and an ES256 token naming that kid is refused for its alg.
func TestDuplicateKIDAcrossKeyTypes(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey := testissuer.Key(t, "key-a")
	rsaJWK := jwk(t, &rsaKey.PublicKey, "dup", jwkset.JWKMetadataOptions{USE: jwkset.UseSig})
	ecJWK := jwk(t, &ec.PublicKey, "dup", jwkset.JWKMetadataOptions{USE: jwkset.UseSig})
	for name, keys := range map[string][]jwkset.JWKMarshal{"RSA first": {rsaJWK, ecJWK}, "EC first": {ecJWK, rsaJWK}} {
		srv := serveJWKS(t, jwksJSON(t, keys...), nil)
		e := newEnv(t, func(c *Config) { c.JWKSURI = srv.URL + "/jwks" })
		if held, ok := e.auth.keys.current.Load().byKID["dup"]; !ok || !held.key.Equal(&rsaKey.PublicKey) {
			t.Errorf("%s: kid dup holds %+v, want the RSA key", name, held)
		}
		if _, err := e.authorize("Bearer " + signWith(t, jwt.SigningMethodRS256, rsaKey, "dup", e.claims())); err != nil {
			t.Errorf("%s: RS256 token: %v (%v)", name, err, e.lastDecision()["reason"])
		}
		_, err := e.authorize("Bearer " + signWith(t, jwt.SigningMethodES256, ec, "dup", e.claims()))
		if reason := e.lastDecision()["reason"]; err == nil || reason != "algorithm" {
			t.Errorf("%s: ES256 token: %v (%v), want algorithm", name, err, reason)
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

// A JWKS of maxDocumentBytes is read; one byte more is refused unread
// (jwks_unavailable), however valid the keys at its start.
func TestJWKSOverOneMiBIsRefused(t *testing.T) {
	body := jwksJSON(t, testissuer.JWKS(t, "key-a").Keys...)
	for size, ok := range map[int]bool{maxDocumentBytes: true, maxDocumentBytes + 1: false} {
		srv := serveJWKS(t, body+strings.Repeat(" ", size-len(body)), nil) // JSON allows trailing spaces
		e := newEnv(t, func(c *Config) { c.JWKSURI = srv.URL + "/jwks" })
		_, err := e.authorize("Bearer " + testissuer.Sign(t, "key-a", e.claims(), nil))
		if (err == nil) != ok || !ok && e.lastDecision()["reason"] != "jwks_unavailable" {
			t.Errorf("a JWKS of %d bytes: err %v reason %v, want allowed %v", size, err, e.lastDecision()["reason"], ok)
		}
	}
}

// Discovery's jwks_uri must be a URL the configuration itself could name:
// https, or plain http on loopback. A document pointing the keys at plain
// http elsewhere is refused before anything is fetched from it.
func TestDiscoveredJWKSURIMustUseHTTPS(t *testing.T) {
	idp := testissuer.New(t, "key-a")
	var jwksURI string
	var fetched atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			fetched.Add(1)
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": "http://" + r.Host, "jwks_uri": jwksURI})
	}))
	t.Cleanup(srv.Close)
	for uri, ok := range map[string]bool{
		idp.URL + "/jwks":                 true, // loopback http
		"http://keys.example.com/jwks":    false,
		"ftp://127.0.0.1/jwks":            false,
		"//keys.example.com/jwks":         false,
		"http://user:pw@127.0.0.1/jwks":   false,
		"http://host.docker.internal/key": false, // not under sam local
	} {
		jwksURI = uri
		e := &env{t: t, idp: idp, clock: newClock(), logs: &testlog.Buffer{}}
		e.start(func(c *Config) { c.Issuer, c.JWKSURI = srv.URL, "" })
		claims := e.claims()
		claims["iss"] = srv.URL
		_, err := e.authorize("Bearer " + testissuer.Sign(t, "key-a", claims, nil))
		if (err == nil) != ok {
			t.Errorf("jwks_uri %s: err %v (%v), want allowed %v", uri, err, e.lastDecision()["detail"], ok)
		}
		if !ok && (e.lastDecision()["reason"] != "jwks_unavailable" || !strings.Contains(e.logs.String(), "jwks_uri")) {
			t.Errorf("jwks_uri %s: reason %v, log %s", uri, e.lastDecision()["reason"], e.logs.String())
		}
	}
	if n := fetched.Load(); n != 0 {
		t.Errorf("%d requests besides discovery", n)
	}
}

// A redirect to another https host is followed: an IdP may serve its keys
// from a CDN, and https authenticates that host. Each hop must be a URL the
// configuration could name, at most 3 of them (TestJWKSRedirects).
func TestJWKSRedirectToAnotherHTTPSHost(t *testing.T) {
	body := jwksJSON(t, testissuer.JWKS(t, "key-a").Keys...)
	keys := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "keys.example.com" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(keys.Close)
	origin := httptest.NewTLSServer(http.RedirectHandler("https://keys.example.com/jwks", http.StatusFound))
	t.Cleanup(origin.Close)
	e := newEnv(t, func(c *Config) { c.JWKSURI = origin.URL + "/jwks" }) // its cold start fails: the test CA is unknown
	// Trust the test CA (it also names *.example.com), and send
	// keys.example.com to the keys server.
	transport := origin.Client().Transport.(*http.Transport).Clone()
	transport.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == "keys.example.com:443" {
			addr = keys.Listener.Addr().String()
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	e.auth.keys.client.Transport = transport
	e.clock.Advance(noKeysRetryInterval)
	if _, err := e.authorize("Bearer " + testissuer.Sign(t, "key-a", e.claims(), nil)); err != nil {
		t.Fatalf("JWKS behind a redirect to another https host: %v (%v)", err, e.lastDecision()["detail"])
	}
}
