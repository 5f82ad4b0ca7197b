package authorizer

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/aws/aws-lambda-go/events"
	"github.com/golang-jwt/jwt/v5"
)

const (
	testAudience  = "https://petstore.example.com"
	testClientID  = "cognito-app-client-id"
	testMethodARN = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/GET/pets"
)

// Test keys are generated once per test binary: RSA key generation is slow.
var (
	keysOnce sync.Once
	rsaKeys  map[string]*rsa.PrivateKey
)

func testKey(t testing.TB, kid string) *rsa.PrivateKey {
	t.Helper()
	keysOnce.Do(func() {
		rsaKeys = map[string]*rsa.PrivateKey{}
		for _, k := range []string{"key-a", "key-b", "key-c", "attacker"} {
			priv, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			rsaKeys[k] = priv
		}
	})
	k, ok := rsaKeys[kid]
	if !ok {
		t.Fatalf("no test key %q", kid)
	}
	return k
}

// clock is a settable time source shared by the authorizer and the test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Now().Truncate(time.Second)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fakeIdP serves discovery and a JWKS on loopback, and can fail on demand.
type fakeIdP struct {
	srv            *httptest.Server
	mu             sync.Mutex
	published      []string // kids of the keys in the JWKS
	mode           string   // "ok", "down" (HTTP 500) or "hang"
	jwksHits       atomic.Int64
	discoveryHits  atomic.Int64
	discoveryIssue string // when set, discovery names this issuer instead
	hang           chan struct{}
}

func newFakeIdP(t testing.TB, kids ...string) *fakeIdP {
	t.Helper()
	idp := &fakeIdP{published: kids, mode: "ok", hang: make(chan struct{})}
	for _, kid := range kids {
		testKey(t, kid)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		idp.discoveryHits.Add(1)
		if !idp.serve(w, r) {
			return
		}
		iss := idp.srv.URL
		idp.mu.Lock()
		if idp.discoveryIssue != "" {
			iss = idp.discoveryIssue
		}
		idp.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": iss, "jwks_uri": idp.srv.URL + "/jwks"})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		idp.jwksHits.Add(1)
		if !idp.serve(w, r) {
			return
		}
		idp.mu.Lock()
		kids := append([]string(nil), idp.published...)
		idp.mu.Unlock()
		_ = json.NewEncoder(w).Encode(jwksOf(t, kids...))
	})
	idp.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		close(idp.hang)
		idp.srv.Close()
	})
	return idp
}

func (idp *fakeIdP) serve(w http.ResponseWriter, r *http.Request) bool {
	idp.mu.Lock()
	mode := idp.mode
	idp.mu.Unlock()
	switch mode {
	case "down":
		http.Error(w, "unavailable", http.StatusInternalServerError)
		return false
	case "hang":
		select {
		case <-idp.hang:
		case <-r.Context().Done():
		}
		return false
	}
	w.Header().Set("Content-Type", "application/json")
	return true
}

func (idp *fakeIdP) setMode(mode string) {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	idp.mode = mode
}

func (idp *fakeIdP) publish(kids ...string) {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	idp.published = kids
}

func (idp *fakeIdP) fetches() int64 { return idp.jwksHits.Load() + idp.discoveryHits.Load() }

// jwksOf builds the public JWKS of test keys with jwkset, as an IdP would.
func jwksOf(t testing.TB, kids ...string) jwkset.JWKSMarshal {
	var set jwkset.JWKSMarshal
	for _, kid := range kids {
		jwk, err := jwkset.NewJWKFromKey(&testKey(t, kid).PublicKey, jwkset.JWKOptions{
			Metadata: jwkset.JWKMetadataOptions{KID: kid, USE: jwkset.UseSig, ALG: jwkset.AlgRS256},
		})
		if err != nil {
			t.Fatal(err)
		}
		set.Keys = append(set.Keys, jwk.Marshal())
	}
	return set
}

// env is one authorizer under test with its IdP, clock and captured log.
type env struct {
	t     testing.TB
	idp   *fakeIdP
	clock *clock
	logs  *syncBuffer
	auth  *Authorizer
}

type envOption func(*Config)

func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	e := &env{t: t, idp: newFakeIdP(t, "key-a", "key-b"), clock: newClock(), logs: &syncBuffer{}}
	e.start(opts...)
	return e
}

func (e *env) config(opts ...envOption) Config {
	rules, err := ParseRouteRules(DefaultRouteScopes)
	if err != nil {
		e.t.Fatal(err)
	}
	cfg := Config{
		Issuer:     e.idp.srv.URL,
		Audiences:  []string{testAudience, testClientID},
		JWKSURI:    e.idp.srv.URL + "/jwks",
		Rules:      rules,
		Algorithms: []string{"RS256"},
		ClockSkew:  DefaultClockSkew,
		CacheSize:  DefaultCacheSize,
		Logger:     slog.New(slog.NewJSONHandler(e.logs, nil)),
		Now:        e.clock.Now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	return cfg
}

func (e *env) start(opts ...envOption) {
	e.t.Helper()
	a, err := New(context.Background(), e.config(opts...))
	if err != nil {
		e.t.Fatal(err)
	}
	e.auth = a
}

// claims returns valid access-token claims for the env's issuer.
func (e *env) claims() jwt.MapClaims {
	now := e.clock.Now()
	return jwt.MapClaims{
		"iss":       e.idp.srv.URL,
		"sub":       "user-123",
		"aud":       testAudience,
		"scope":     "openid pets:read pets:write",
		"client_id": "web-client",
		"exp":       now.Add(time.Hour).Unix(),
		"iat":       now.Unix(),
		"jti":       "jti-1",
	}
}

// sign makes an RS256 token with kid and extra header parameters.
func sign(t testing.TB, kid string, claims jwt.MapClaims, header map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	for k, v := range header {
		if v == nil {
			delete(tok.Header, k)
		} else {
			tok.Header[k] = v
		}
	}
	s, err := tok.SignedString(testKey(t, kid))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// signWith signs with one key but names another kid in the header.
func signWith(t testing.TB, keyName, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(testKey(t, keyName))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (e *env) authorize(authorization string) (events.APIGatewayCustomAuthorizerResponse, error) {
	return e.auth.Handle(context.Background(), events.APIGatewayCustomAuthorizerRequest{
		Type: "TOKEN", AuthorizationToken: authorization, MethodArn: testMethodARN,
	})
}

// lastDecision returns the last decision line of the log.
func (e *env) lastDecision() map[string]any {
	e.t.Helper()
	lines := strings.Split(strings.TrimSpace(e.logs.String()), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		var m map[string]any
		if err := json.Unmarshal([]byte(lines[i]), &m); err != nil {
			e.t.Fatalf("log line is not JSON: %q", lines[i])
		}
		if m["msg"] == "authorizer decision" {
			return m
		}
	}
	e.t.Fatalf("no decision logged; log:\n%s", e.logs.String())
	return nil
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
