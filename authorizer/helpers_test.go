package authorizer

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/example/petstore-oidc/internal/testissuer"
	"github.com/example/petstore-oidc/internal/testlog"
	"github.com/golang-jwt/jwt/v5"
)

const (
	testAudience  = "https://petstore.example.com"
	testClientID  = "cognito-app-client-id"
	testMethodARN = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/GET/pets"
)

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

// env is one authorizer under test with its IdP, clock and captured log.
type env struct {
	t     testing.TB
	idp   *testissuer.Issuer
	clock *clock
	logs  *testlog.Buffer
	auth  *Authorizer
}

type envOption func(*Config)

func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	e := &env{t: t, idp: testissuer.New(t, "key-a", "key-b"), clock: newClock(), logs: &testlog.Buffer{}}
	e.start(opts...)
	return e
}

func (e *env) config(opts ...envOption) Config {
	rules, err := ParseRouteRules(DefaultRouteScopes)
	if err != nil {
		e.t.Fatal(err)
	}
	cfg := Config{
		Issuer:    e.idp.URL,
		Audiences: []string{testAudience, testClientID},
		JWKSURI:   e.idp.URL + "/jwks",
		Rules:     rules,
		Logger:    slog.New(slog.NewJSONHandler(e.logs, nil)),
		Now:       e.clock.Now,
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

// claims returns valid access-token claims for the env's issuer and clock.
func (e *env) claims() jwt.MapClaims { return e.idp.Claims(e.clock.Now(), testAudience) }

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
