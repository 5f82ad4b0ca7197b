package gateway

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/example/petstore-oidc/local/samtemplate"
)

const token = "Bearer aaaa.bbbb.cccc"

// fakes records the events the gateway hands to the handlers.
type fakes struct {
	authCalls atomic.Int64
	authorize func(events.APIGatewayCustomAuthorizerRequest) (events.APIGatewayCustomAuthorizerResponse, error)
	mu        sync.Mutex
	events    []events.APIGatewayProxyRequest
	respond   func(events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error)
	// respondCtx, when set, answers instead of respond, with the context.
	respondCtx func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error)
}

func (f *fakes) lastEvent(t *testing.T) events.APIGatewayProxyRequest {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.events) == 0 {
		t.Fatal("the function was not invoked")
	}
	return f.events[len(f.events)-1]
}

// allowAll answers with a stage-wide policy like the real authorizer's for
// a read-only token.
func allowAll(req events.APIGatewayCustomAuthorizerRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	parts := strings.SplitN(req.MethodArn, "/", 3) // arn:...:apiId, stage, VERB/path
	if len(parts) != 3 {
		return events.APIGatewayCustomAuthorizerResponse{}, fmt.Errorf("method ARN %q", req.MethodArn)
	}
	stage := parts[0] + "/" + parts[1]
	return events.APIGatewayCustomAuthorizerResponse{
		PrincipalID:    "alice",
		PolicyDocument: policy(stage, []string{"GET/pets", "GET/pets/", "GET/pets/*", "GET/me", "GET/me/"}, []string{"POST/pets", "POST/pets/"}),
		Context:        map[string]any{"sub": "alice", "scope": "r", "n": 7.0, "b": true},
	}, nil
}

// policy allows and denies the given resources of a stage.
func policy(stage string, allow, deny []string) events.APIGatewayCustomAuthorizerPolicy {
	p := events.APIGatewayCustomAuthorizerPolicy{Version: "2012-10-17"}
	for effect, resources := range map[string][]string{"Allow": allow, "Deny": deny} {
		st := events.IAMPolicyStatement{Action: []string{"execute-api:Invoke"}, Effect: effect}
		for _, r := range resources {
			st.Resource = append(st.Resource, stage+"/"+r)
		}
		if len(st.Resource) > 0 {
			p.Statement = append(p.Statement, st)
		}
	}
	return p
}

type testGateway struct {
	*httptest.Server
	f     *fakes
	clock *clock
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// loadAPI reads the real template once per set of parameters.
func loadAPI(t *testing.T, params map[string]string) samtemplate.RestAPI {
	t.Helper()
	key := fmt.Sprint(params)
	if api, ok := apis.Load(key); ok {
		return api.(samtemplate.RestAPI)
	}
	tpl, err := samtemplate.Load("../../template.yaml", params)
	if err != nil {
		t.Fatal(err)
	}
	api, err := tpl.RestAPI("PetStoreApi")
	if err != nil {
		t.Fatal(err)
	}
	apis.Store(key, api)
	return api
}

var apis sync.Map

func newTestGateway(t *testing.T, params map[string]string, cfg func(*Config)) *testGateway {
	t.Helper()
	p := map[string]string{"Issuer": "http://localhost:9000", "Audience": "petstore", "CorsAllowOrigin": "http://localhost:8080"}
	for k, v := range params {
		p[k] = v
	}
	api := loadAPI(t, p)
	f := &fakes{authorize: allowAll, respond: func(e events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		return events.APIGatewayProxyResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "application/json"}, Body: `{"ok":true}`}, nil
	}}
	c := &clock{now: time.Now()}
	config := Config{
		API: api,
		Authorizers: map[string]AuthorizerFunc{"Authorizer": func(_ context.Context, r events.APIGatewayCustomAuthorizerRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
			f.authCalls.Add(1)
			return f.authorize(r)
		}},
		Functions: map[string]ProxyFunc{"PetStoreFunction": func(ctx context.Context, e events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			f.mu.Lock()
			f.events = append(f.events, e)
			f.mu.Unlock()
			if f.respondCtx != nil {
				return f.respondCtx(ctx, e)
			}
			return f.respond(e)
		}},
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Now:    c.Now,
	}
	if cfg != nil {
		cfg(&config)
	}
	g, err := New(config)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return &testGateway{Server: srv, f: f, clock: c}
}

func (g *testGateway) do(t *testing.T, method, path, authorization string, body io.Reader) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, g.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := g.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestRefusalsAreAPIGatewaysAnswers(t *testing.T) {
	tests := []struct {
		name          string
		method, path  string
		authorization string
		authorize     func(events.APIGatewayCustomAuthorizerRequest) (events.APIGatewayCustomAuthorizerResponse, error)
		status        int
		body          string
		errorType     string
		authCalls     int64
	}{
		{name: "no Authorization header", method: "GET", path: "/pets", status: 401, body: `{"message":"Unauthorized"}`, errorType: "UnauthorizedException"},
		{name: "validation expression mismatch", method: "GET", path: "/pets", authorization: "Basic dXNlcjpwYXNz", status: 401, body: `{"message":"Unauthorized"}`, errorType: "UnauthorizedException"},
		{name: "authorizer says Unauthorized", method: "GET", path: "/pets", authorization: token, authCalls: 1,
			authorize: func(events.APIGatewayCustomAuthorizerRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
				return events.APIGatewayCustomAuthorizerResponse{}, errors.New("Unauthorized")
			}, status: 401, body: `{"message":"Unauthorized"}`, errorType: "UnauthorizedException"},
		{name: "authorizer fails otherwise", method: "GET", path: "/pets", authorization: token, authCalls: 1,
			authorize: func(events.APIGatewayCustomAuthorizerRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
				return events.APIGatewayCustomAuthorizerResponse{}, errors.New("boom")
			}, status: 500, body: `{"message": null}`, errorType: "AuthorizerConfigurationException"},
		{name: "authorizer panics", method: "GET", path: "/pets", authorization: token, authCalls: 1,
			authorize: func(events.APIGatewayCustomAuthorizerRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
				panic("bug")
			}, status: 500, body: `{"message": null}`, errorType: "AuthorizerConfigurationException"},
		{name: "non-scalar context value", method: "GET", path: "/pets", authorization: token, authCalls: 1,
			authorize: func(r events.APIGatewayCustomAuthorizerRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
				resp, _ := allowAll(r)
				resp.Context["scopes"] = []string{"r"}
				return resp, nil
			}, status: 500, body: `{"message": null}`, errorType: "AuthorizerConfigurationException"},
		{name: "no principal", method: "GET", path: "/pets", authorization: token, authCalls: 1,
			authorize: func(r events.APIGatewayCustomAuthorizerRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
				resp, _ := allowAll(r)
				resp.PrincipalID = ""
				return resp, nil
			}, status: 500, body: `{"message": null}`, errorType: "AuthorizerConfigurationException"},
		{name: "explicit deny", method: "POST", path: "/pets", authorization: token, authCalls: 1, status: 403,
			body: `{"Message":"User is not authorized to access this resource with an explicit deny"}`, errorType: "AccessDeniedException"},
		{name: "no matching allow", method: "GET", path: "/pets", authorization: token, authCalls: 1,
			authorize: func(r events.APIGatewayCustomAuthorizerRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
				resp, _ := allowAll(r)
				resp.PolicyDocument = policy("arn:aws:execute-api:us-east-1:123456789012:otherapi/Prod", []string{"*"}, nil)
				return resp, nil
			}, status: 403, body: `{"Message":"User is not authorized to access this resource"}`, errorType: "AccessDeniedException"},
		{name: "unknown path", method: "GET", path: "/cats", authorization: token, status: 403, body: `{"message":"Missing Authentication Token"}`, errorType: "MissingAuthenticationTokenException"},
		{name: "method not defined", method: "DELETE", path: "/pets/1", authorization: token, status: 403, body: `{"message":"Missing Authentication Token"}`, errorType: "MissingAuthenticationTokenException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newTestGateway(t, nil, nil)
			if tt.authorize != nil {
				g.f.authorize = tt.authorize
			}
			resp, body := g.do(t, tt.method, tt.path, tt.authorization, nil)
			if resp.StatusCode != tt.status || body != tt.body {
				t.Errorf("got %d %s, want %d %s", resp.StatusCode, body, tt.status, tt.body)
			}
			if got := resp.Header.Get("x-amzn-ErrorType"); got != tt.errorType {
				t.Errorf("x-amzn-ErrorType = %q, want %q", got, tt.errorType)
			}
			if resp.Header.Get("x-amzn-RequestId") == "" || resp.Header.Get("Content-Type") != "application/json" {
				t.Errorf("headers %v", resp.Header)
			}
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "http://localhost:8080" {
				t.Errorf("gateway response lacks the template's CORS header: %q", got)
			}
			if tt.status == 401 && resp.Header.Get("WWW-Authenticate") != "Bearer" {
				t.Errorf("401 without WWW-Authenticate: Bearer")
			}
			if n := g.f.authCalls.Load(); n != tt.authCalls {
				t.Errorf("authorizer invoked %d times, want %d", n, tt.authCalls)
			}
			if len(g.f.events) != 0 {
				t.Error("a refused request reached the function")
			}
		})
	}
}

func TestAuthorizerTimeoutIs500(t *testing.T) {
	g := newTestGateway(t, nil, func(c *Config) { c.AuthorizerTimeout = 50 * time.Millisecond })
	g.f.authorize = func(events.APIGatewayCustomAuthorizerRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
		time.Sleep(300 * time.Millisecond)
		return events.APIGatewayCustomAuthorizerResponse{}, nil
	}
	resp, body := g.do(t, "GET", "/pets", token, nil)
	if resp.StatusCode != 500 || body != `{"message": null}` {
		t.Errorf("%d %s", resp.StatusCode, body)
	}
}

func TestIntegrationTimeoutIs502(t *testing.T) {
	g := newTestGateway(t, nil, func(c *Config) { c.IntegrationTimeout = 50 * time.Millisecond })
	// A function that honours its context ends at the timeout.
	g.f.respondCtx = func(ctx context.Context, _ events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		select {
		case <-ctx.Done():
			return events.APIGatewayProxyResponse{}, ctx.Err()
		case <-time.After(10 * time.Second):
			return events.APIGatewayProxyResponse{StatusCode: 200}, nil
		}
	}
	start := time.Now()
	resp, body := g.do(t, "GET", "/", "", nil)
	if resp.StatusCode != 502 || body != `{"message": "Internal server error"}` || time.Since(start) > 5*time.Second {
		t.Errorf("at the timeout: %d %s after %s", resp.StatusCode, body, time.Since(start))
	}

	// A function that ignores its context: its late answer is refused.
	g.f.respondCtx = nil
	g.f.respond = func(events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		time.Sleep(300 * time.Millisecond)
		return events.APIGatewayProxyResponse{StatusCode: 200}, nil
	}
	resp, body = g.do(t, "GET", "/", "", nil)
	if resp.StatusCode != 502 || body != `{"message": "Internal server error"}` {
		t.Errorf("late answer: %d %s", resp.StatusCode, body)
	}
}

func TestAllowedRequestBecomesAProxyEvent(t *testing.T) {
	g := newTestGateway(t, nil, nil)
	var methodARN string
	g.f.authorize = func(r events.APIGatewayCustomAuthorizerRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
		methodARN = r.MethodArn
		if r.Type != "TOKEN" || r.AuthorizationToken != token {
			t.Errorf("authorizer event %+v", r)
		}
		return allowAll(r)
	}
	g.f.respond = func(events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		return events.APIGatewayProxyResponse{
			StatusCode:        201,
			Headers:           map[string]string{"Content-Type": "image/png", "Location": "/pets/9"},
			MultiValueHeaders: map[string][]string{"Set-Cookie": {"a=1", "b=2"}},
			Body:              base64.StdEncoding.EncodeToString([]byte{0x89, 'P', 'N', 'G'}),
			IsBase64Encoded:   true,
		}, nil
	}
	req, _ := http.NewRequest("GET", g.URL+"/Prod/pets/42?x=1&x=2&y=3", nil)
	req.Header.Set("Authorization", token)
	req.Header.Add("X-Multi", "one")
	req.Header.Add("X-Multi", "two")
	resp, err := g.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 || string(body) != "\x89PNG" || resp.Header.Get("Location") != "/pets/9" ||
		strings.Join(resp.Header.Values("Set-Cookie"), ",") != "a=1,b=2" || resp.Header.Get("x-amzn-RequestId") == "" {
		t.Errorf("response %d %q %v", resp.StatusCode, body, resp.Header)
	}
	if methodARN != "arn:aws:execute-api:us-east-1:123456789012:local/Prod/GET/pets/42" {
		t.Errorf("methodArn %q", methodARN)
	}
	e := g.f.lastEvent(t)
	if e.Resource != "/pets/{petId}" || e.Path != "/pets/42" || e.HTTPMethod != "GET" || e.PathParameters["petId"] != "42" {
		t.Errorf("event %+v", e)
	}
	if e.QueryStringParameters["x"] != "2" || strings.Join(e.MultiValueQueryStringParameters["x"], ",") != "1,2" || e.QueryStringParameters["y"] != "3" {
		t.Errorf("query %v %v", e.QueryStringParameters, e.MultiValueQueryStringParameters)
	}
	if e.Headers["X-Multi"] != "two" || strings.Join(e.MultiValueHeaders["X-Multi"], ",") != "one,two" {
		t.Errorf("headers %v", e.MultiValueHeaders)
	}
	rc := e.RequestContext
	if rc.Stage != "Prod" || rc.Path != "/Prod/pets/42" || rc.ResourcePath != "/pets/{petId}" || rc.RequestID != resp.Header.Get("x-amzn-RequestId") || rc.Identity.SourceIP != "127.0.0.1" {
		t.Errorf("request context %+v", rc)
	}
	want := map[string]any{"principalId": "alice", "sub": "alice", "scope": "r", "n": "7", "b": "true"}
	got, _ := json.Marshal(rc.Authorizer)
	wantJSON, _ := json.Marshal(want)
	if string(got) != string(wantJSON) {
		t.Errorf("authorizer context %s, want %s (strings only)", got, wantJSON)
	}
}

func TestPublicRoutePreflightAndRequestBody(t *testing.T) {
	g := newTestGateway(t, nil, nil)
	if resp, _ := g.do(t, "GET", "/", "", nil); resp.StatusCode != 200 || g.f.authCalls.Load() != 0 {
		t.Errorf("GET / is public: %d, %d authorizer calls", resp.StatusCode, g.f.authCalls.Load())
	}
	if e := g.f.lastEvent(t); e.RequestContext.Authorizer != nil || e.Resource != "/" {
		t.Errorf("public event %+v", e)
	}
	if e := g.f.lastEvent(t); e.RequestContext.Path != "/" || e.RequestContext.Stage != "Prod" {
		t.Errorf("a caller without the stage: requestContext.path %q", e.RequestContext.Path)
	}
	resp, _ := g.do(t, "OPTIONS", "/pets", "", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:8080" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Authorization") || g.f.authCalls.Load() != 0 {
		t.Errorf("preflight %d %v", resp.StatusCode, resp.Header)
	}
	if resp, _ := g.do(t, "OPTIONS", "/nowhere", "", nil); resp.StatusCode != 403 {
		t.Errorf("preflight of an unknown path: %d", resp.StatusCode)
	}

	if resp, _ := g.do(t, "POST", "/me", token, strings.NewReader("x")); resp.StatusCode != 403 {
		t.Errorf("POST /me is not defined: %d", resp.StatusCode)
	}
	g.f.authorize = func(r events.APIGatewayCustomAuthorizerRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
		resp, _ := allowAll(r)
		resp.PolicyDocument = policy("arn:aws:execute-api:us-east-1:123456789012:local/Prod", []string{"*"}, nil)
		return resp, nil
	}
	if resp, _ := g.do(t, "POST", "/pets", "Bearer x.y.z", strings.NewReader(`{"type":"dog","price":1}`)); resp.StatusCode != 200 || g.f.lastEvent(t).Body != `{"type":"dog","price":1}` {
		t.Errorf("POST body: %d %q", resp.StatusCode, g.f.lastEvent(t).Body)
	}
	big := strings.NewReader(strings.Repeat("x", MaxPayloadBytes+1))
	if resp, body := g.do(t, "POST", "/pets", "Bearer x.y.z", big); resp.StatusCode != 413 {
		t.Errorf("oversized body: %d %s", resp.StatusCode, body)
	}
}

func TestIntegrationFailureIs502(t *testing.T) {
	g := newTestGateway(t, nil, nil)
	for name, respond := range map[string]func(events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error){
		"error": func(events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			return events.APIGatewayProxyResponse{}, errors.New("x")
		},
		"panic": func(events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) { panic("bug") },
		"no status": func(events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			return events.APIGatewayProxyResponse{Body: "x"}, nil
		},
		"bad base64": func(events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			return events.APIGatewayProxyResponse{StatusCode: 200, Body: "!", IsBase64Encoded: true}, nil
		},
	} {
		g.f.respond = respond
		resp, body := g.do(t, "GET", "/", "", nil)
		if resp.StatusCode != 502 || body != `{"message": "Internal server error"}` {
			t.Errorf("%s: %d %s", name, resp.StatusCode, body)
		}
	}
}

func TestAuthorizerCachePerTokenForTheTTL(t *testing.T) {
	g := newTestGateway(t, map[string]string{"AuthorizerCacheTtl": "300"}, nil)
	for range 3 {
		for _, p := range []string{"/pets", "/pets/1", "/me"} {
			if resp, _ := g.do(t, "GET", p, token, nil); resp.StatusCode != 200 {
				t.Fatalf("GET %s: %d", p, resp.StatusCode)
			}
		}
	}
	// The cached policy also decides a route it denies, without a new call.
	if resp, _ := g.do(t, "POST", "/pets", token, strings.NewReader("{}")); resp.StatusCode != 403 {
		t.Errorf("cached deny: %d", resp.StatusCode)
	}
	if n := g.f.authCalls.Load(); n != 1 {
		t.Errorf("authorizer invoked %d times for one token within the TTL, want 1", n)
	}
	g.do(t, "GET", "/pets", "Bearer other.token.here", nil)
	if n := g.f.authCalls.Load(); n != 2 {
		t.Errorf("another token must be authorized on its own: %d calls", n)
	}
	g.clock.Advance(301 * time.Second)
	g.do(t, "GET", "/pets", token, nil)
	if n := g.f.authCalls.Load(); n != 3 {
		t.Errorf("after the TTL the authorizer must run again: %d calls", n)
	}

	off := newTestGateway(t, map[string]string{"AuthorizerCacheTtl": "0"}, nil)
	for range 3 {
		off.do(t, "GET", "/pets", token, nil)
	}
	if n := off.f.authCalls.Load(); n != 3 {
		t.Errorf("with a TTL of 0 every request is authorized: %d calls", n)
	}
}

func TestNewRefusesAnIncompleteWiring(t *testing.T) {
	api := loadAPI(t, map[string]string{"Issuer": "http://localhost:9000", "Audience": "x"})
	if _, err := New(Config{API: api}); err == nil {
		t.Error("a gateway without handlers was created")
	}
}

// TestTwoAuthorizationHeadersAreRefused: the authorizer would decide on one
// value and the integration receive another (the proxy event's headers keep
// the last); the gateway refuses the request without invoking either.
func TestTwoAuthorizationHeadersAreRefused(t *testing.T) {
	g := newTestGateway(t, nil, nil)
	for _, pair := range [][2]string{{token, "Bearer xxxx.yyyy.zzzz"}, {token, token}, {"Basic abc", token}} {
		req, err := http.NewRequest(http.MethodGet, g.URL+"/pets", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Add("Authorization", pair[0])
		req.Header.Add("Authorization", pair[1])
		resp, err := g.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || string(body) != `{"message":"Unauthorized"}` {
			t.Errorf("%q: %d %s, want 401 Unauthorized", pair, resp.StatusCode, body)
		}
	}
	if n := g.f.authCalls.Load(); n != 0 {
		t.Errorf("the authorizer was invoked %d times", n)
	}
	g.f.mu.Lock()
	delivered := len(g.f.events)
	g.f.mu.Unlock()
	if delivered != 0 {
		t.Errorf("the integration received %d requests", delivered)
	}
	// One header still works.
	if resp, _ := g.do(t, http.MethodGet, "/pets", token, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("one Authorization header: %d", resp.StatusCode)
	}
}
