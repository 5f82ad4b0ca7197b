// Package testissuer is a stand-in OIDC issuer for tests: RSA keys, a
// discovery document and a JWKS served on loopback (which can be made to
// fail or hang), and helpers that sign access tokens with golang-jwt.
// It is test support only; the development IdP of the local stack is
// local/idp.
package testissuer

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
)

// Key names with a generated RSA-2048 key each. Keys are generated once per
// test binary: RSA key generation is slow.
var keyNames = []string{"key-a", "key-b", "key-c", "attacker"}

var (
	keysOnce sync.Once
	rsaKeys  map[string]*rsa.PrivateKey
)

// Key returns the private key with that name (one of key-a, key-b, key-c,
// attacker).
func Key(t testing.TB, name string) *rsa.PrivateKey {
	t.Helper()
	keysOnce.Do(func() {
		rsaKeys = map[string]*rsa.PrivateKey{}
		for _, k := range keyNames {
			priv, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			rsaKeys[k] = priv
		}
	})
	k, ok := rsaKeys[name]
	if !ok {
		t.Fatalf("testissuer: no key %q", name)
	}
	return k
}

// Mode is how the issuer's endpoints answer.
type Mode string

// The modes of an Issuer.
const (
	OK   Mode = "ok"
	Down Mode = "down" // HTTP 500
	Hang Mode = "hang" // never answers, until the client gives up
)

// Issuer serves /.well-known/openid-configuration and /jwks on loopback.
type Issuer struct {
	URL           string // also the issuer identifier (iss)
	JWKSHits      atomic.Int64
	DiscoveryHits atomic.Int64

	srv             *httptest.Server
	mu              sync.Mutex
	published       []string
	mode            Mode
	discoveryIssuer string
	stop            chan struct{}
}

// New starts an issuer that publishes the named keys. It stops when the test
// ends.
func New(t testing.TB, kids ...string) *Issuer {
	t.Helper()
	for _, kid := range kids {
		Key(t, kid)
	}
	iss := &Issuer{published: kids, mode: OK, stop: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		iss.DiscoveryHits.Add(1)
		if !iss.serve(w, r) {
			return
		}
		iss.mu.Lock()
		name := iss.discoveryIssuer
		iss.mu.Unlock()
		if name == "" {
			name = iss.URL
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": name, "jwks_uri": iss.URL + "/jwks"})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		iss.JWKSHits.Add(1)
		if !iss.serve(w, r) {
			return
		}
		iss.mu.Lock()
		kids := append([]string(nil), iss.published...)
		iss.mu.Unlock()
		_ = json.NewEncoder(w).Encode(JWKS(t, kids...))
	})
	// The URL is set before the server starts: its handlers read it.
	iss.srv = httptest.NewUnstartedServer(mux)
	iss.URL = "http://" + iss.srv.Listener.Addr().String()
	iss.srv.Start()
	t.Cleanup(func() {
		close(iss.stop)
		iss.srv.Close()
	})
	return iss
}

func (iss *Issuer) serve(w http.ResponseWriter, r *http.Request) bool {
	iss.mu.Lock()
	mode := iss.mode
	iss.mu.Unlock()
	switch mode {
	case Down:
		http.Error(w, "unavailable", http.StatusInternalServerError)
		return false
	case Hang:
		select {
		case <-iss.stop:
		case <-r.Context().Done():
		}
		return false
	}
	w.Header().Set("Content-Type", "application/json")
	return true
}

// SetMode makes the endpoints answer normally, fail, or hang.
func (iss *Issuer) SetMode(m Mode) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	iss.mode = m
}

// Publish replaces the keys in the JWKS (a rotation).
func (iss *Issuer) Publish(kids ...string) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	iss.published = kids
}

// SetDiscoveryIssuer makes discovery name another issuer (an impostor).
func (iss *Issuer) SetDiscoveryIssuer(name string) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	iss.discoveryIssuer = name
}

// Fetches counts the requests made to discovery and the JWKS.
func (iss *Issuer) Fetches() int64 { return iss.JWKSHits.Load() + iss.DiscoveryHits.Load() }

// Claims returns valid access-token claims of this issuer for audience,
// issued at now, valid for an hour, with both PetStore scopes.
func (iss *Issuer) Claims(now time.Time, audience string) jwt.MapClaims {
	return jwt.MapClaims{
		"iss":       iss.URL,
		"sub":       "user-123",
		"aud":       audience,
		"scope":     "openid pets:read pets:write",
		"client_id": "web-client",
		"exp":       now.Add(time.Hour).Unix(),
		"iat":       now.Unix(),
		"jti":       "jti-1",
	}
}

// JWKS builds the public JWKS of the named keys with jwkset, as an IdP would.
func JWKS(t testing.TB, kids ...string) jwkset.JWKSMarshal {
	t.Helper()
	set := jwkset.JWKSMarshal{Keys: []jwkset.JWKMarshal{}}
	for _, kid := range kids {
		jwk, err := jwkset.NewJWKFromKey(&Key(t, kid).PublicKey, jwkset.JWKOptions{
			Metadata: jwkset.JWKMetadataOptions{KID: kid, USE: jwkset.UseSig, ALG: jwkset.AlgRS256},
		})
		if err != nil {
			t.Fatal(err)
		}
		set.Keys = append(set.Keys, jwk.Marshal())
	}
	return set
}

// Sign makes an RS256 token with the named key, its name as kid, and extra
// header parameters (a nil value removes one).
func Sign(t testing.TB, kid string, claims jwt.MapClaims, header map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = kid
	for k, v := range header {
		if v == nil {
			delete(tok.Header, k)
		} else {
			tok.Header[k] = v
		}
	}
	s, err := tok.SignedString(Key(t, kid))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// SignWith signs with the named key but puts another kid (none if empty) in
// the header.
func SignWith(t testing.TB, keyName, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(Key(t, keyName))
	if err != nil {
		t.Fatal(err)
	}
	return s
}
