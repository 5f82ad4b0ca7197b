package stack

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/example/petstore-oidc/internal/testissuer"
	"github.com/example/petstore-oidc/local/gateway"
	"github.com/example/petstore-oidc/local/tables"
)

// localStack is the whole stack on free loopback ports, with a movable
// clock for the authorizer cache and a count of authorizer invocations.
type localStack struct {
	*Stack
	calls   atomic.Int64
	failing atomic.Bool // the authorizer's Lambda fails (not with Unauthorized)
	clock   struct {
		sync.Mutex
		now time.Time
	}
}

func startStack(t *testing.T) *localStack { return startStackOn(t, "") }

// startStackOn starts the stack with its pets on the DynamoDB endpoint
// dynamoURL (empty: its embedded one).
func startStackOn(t *testing.T, dynamoURL string) *localStack {
	t.Helper()
	ls := &localStack{}
	ls.clock.now = time.Now()
	s, err := Start(context.Background(), Options{
		TemplatePath:     "../../template.yaml",
		DynamoDBEndpoint: dynamoURL,
		IdPAddr:          "127.0.0.1:0",
		GatewayAddr:      "127.0.0.1:0",
		WebAddr:          "127.0.0.1:0",
		Logger:           slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Clock: func() time.Time {
			ls.clock.Lock()
			defer ls.clock.Unlock()
			return ls.clock.now
		},
		WrapAuthorizer: func(next gateway.AuthorizerFunc) gateway.AuthorizerFunc {
			return func(ctx context.Context, req events.APIGatewayCustomAuthorizerRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
				ls.calls.Add(1)
				if ls.failing.Load() {
					return events.APIGatewayCustomAuthorizerResponse{}, errors.New("function crashed")
				}
				return next(ctx, req)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	ls.Stack = s
	return ls
}

func (ls *localStack) token(t *testing.T, scopes ...string) string {
	t.Helper()
	tok, err := MachineToken(context.Background(), ls.IssuerURL, scopes)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (ls *localStack) call(t *testing.T, method, path, token, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, ls.GatewayURL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestPetsOnAnExternalEndpoint: with -dynamodb-endpoint the stack creates
// PetsTable there from the template, seeds it once, and a second start on
// the same endpoint finds the pets of the first (as DynamoDB Local keeps
// them across restarts).
func TestPetsOnAnExternalEndpoint(t *testing.T) {
	db, err := tables.StartServer("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })

	first := startStackOn(t, db.URL)
	if first.EmbeddedDynamoDB || first.DynamoDBURL != db.URL || first.PetsTable != "PetsTable" {
		t.Errorf("stack on %s, table %s, embedded %v", first.DynamoDBURL, first.PetsTable, first.EmbeddedDynamoDB)
	}
	tok := first.token(t, "pets:read", "pets:write")
	if res, body := first.call(t, "POST", "/pets", tok, `{"type":"bird","price":7}`); res.StatusCode != 201 || !strings.Contains(body, `"id":4`) {
		t.Fatalf("POST /pets: %d %s", res.StatusCode, body)
	}
	if err := first.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	second := startStackOn(t, db.URL)
	tok = second.token(t, "pets:read")
	res, body := second.call(t, "GET", "/pets/4", tok, "")
	if res.StatusCode != 200 || body != `{"id":4,"type":"bird","price":7,"createdBy":"petstore-m2m"}` {
		t.Errorf("GET /pets/4 after a restart: %d %s", res.StatusCode, body)
	}
	if res, _ := second.call(t, "GET", "/pets", tok, ""); res.Header.Get("X-Total-Count") != "4" {
		t.Errorf("X-Total-Count %q after a restart, want 4 (seeded once)", res.Header.Get("X-Total-Count"))
	}
}

func TestEndToEndThroughTheGateway(t *testing.T) {
	ls := startStack(t)
	full := ls.token(t)
	readOnly := ls.token(t, "pets:read")

	resp, body := ls.call(t, "GET", "/pets", full, "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"type":"dog"`) {
		t.Fatalf("GET /pets with a client_credentials token: %d %s", resp.StatusCode, body)
	}

	for name, tok := range map[string]string{
		"no header":                  "",
		"forged token (another key)": testissuer.Sign(t, "attacker", testissuer.New(t, "attacker").Claims(time.Now(), DefaultAudience), nil),
		"token of the right shape, not signed by the IdP": full[:strings.LastIndex(full, ".")] + ".AAAA",
	} {
		resp, body := ls.call(t, "GET", "/pets", tok, "")
		if resp.StatusCode != 401 || body != `{"message":"Unauthorized"}` || resp.Header.Get("x-amzn-ErrorType") != "UnauthorizedException" {
			t.Errorf("%s: %d %s %v", name, resp.StatusCode, body, resp.Header)
		}
	}

	resp, body = ls.call(t, "POST", "/pets", readOnly, `{"type":"cat","price":12.5}`)
	if resp.StatusCode != 403 || body != `{"Message":"User is not authorized to access this resource with an explicit deny"}` {
		t.Errorf("read-only token on POST /pets: %d %s", resp.StatusCode, body)
	}

	resp, body = ls.call(t, "POST", "/pets", full, `{"type":"bird","price":42.5}`)
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	var created struct {
		ID        int    `json:"id"`
		CreatedBy string `json:"createdBy"`
	}
	if err := json.Unmarshal([]byte(body), &created); err != nil || created.CreatedBy != "petstore-m2m" {
		t.Fatalf("created %s (%v)", body, err)
	}
	resp, body = ls.call(t, "GET", resp.Header.Get("Location"), readOnly, "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"type":"bird"`) {
		t.Errorf("read back via Location %q: %d %s", resp.Header.Get("Location"), resp.StatusCode, body)
	}

	resp, body = ls.call(t, "GET", "/me", readOnly, "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"principal":"petstore-m2m"`) {
		t.Errorf("GET /me: %d %s", resp.StatusCode, body)
	}
	resp, body = ls.call(t, "GET", "/", "", "")
	if resp.StatusCode != 200 {
		t.Errorf("GET / (public): %d %s", resp.StatusCode, body)
	}
}

func TestAuthorizerRunsOncePerTokenWithinTheTTL(t *testing.T) {
	ls := startStack(t)
	tok := ls.token(t, "pets:read")
	for range 5 {
		for _, p := range []string{"/pets", "/pets/1", "/me"} {
			if resp, body := ls.call(t, "GET", p, tok, ""); resp.StatusCode != 200 {
				t.Fatalf("GET %s: %d %s", p, resp.StatusCode, body)
			}
		}
	}
	if resp, _ := ls.call(t, "POST", "/pets", tok, `{"type":"dog","price":1}`); resp.StatusCode != 403 {
		t.Errorf("the cached policy must deny POST /pets: %d", resp.StatusCode)
	}
	if n := ls.calls.Load(); n != 1 {
		t.Fatalf("the authorizer ran %d times for 16 requests with one token in the TTL, want 1", n)
	}
	ls.clock.Lock()
	ls.clock.now = ls.clock.now.Add(301 * time.Second) // the template's ReauthorizeEvery is 300
	ls.clock.Unlock()
	ls.call(t, "GET", "/pets", tok, "")
	if n := ls.calls.Load(); n != 2 {
		t.Errorf("after the TTL the authorizer must run again: %d runs", n)
	}
}

func TestGatewayRefusesBeforeOrAroundTheAuthorizer(t *testing.T) {
	ls := startStack(t)
	resp, body := ls.call(t, "GET", "/pets", "not-a-jwt", "")
	if resp.StatusCode != 401 || body != `{"message":"Unauthorized"}` || ls.calls.Load() != 0 {
		t.Errorf("validation-expression mismatch: %d %s, authorizer ran %d times", resp.StatusCode, body, ls.calls.Load())
	}
	ls.failing.Store(true)
	resp, body = ls.call(t, "GET", "/pets", ls.token(t), "")
	if resp.StatusCode != 500 || body != `{"message": null}` || resp.Header.Get("x-amzn-ErrorType") != "AuthorizerConfigurationException" {
		t.Errorf("failing authorizer: %d %s %v", resp.StatusCode, body, resp.Header)
	}
}

func TestTokenEventForSamLocalInvoke(t *testing.T) {
	ls := startStack(t)
	b, err := TokenEvent(ls.token(t), MethodARN("Prod", "get", "/pets"))
	if err != nil {
		t.Fatal(err)
	}
	var e events.APIGatewayCustomAuthorizerRequest
	if err := json.Unmarshal(b, &e); err != nil || e.Type != "TOKEN" || !strings.HasPrefix(e.AuthorizationToken, "Bearer ey") ||
		e.MethodArn != "arn:aws:execute-api:us-east-1:123456789012:local/Prod/GET/pets" {
		t.Errorf("event %+v (%v)", e, err)
	}
}

func TestDefaultsAreLoopback(t *testing.T) {
	o := Options{}.withDefaults()
	for _, addr := range []string{o.IdPAddr, o.GatewayAddr, o.WebAddr} {
		if !loopback(addr) {
			t.Errorf("default address %s is not loopback", addr)
		}
	}
	for addr, want := range map[string]bool{"localhost:1": true, "127.0.0.1:1": true, "[::1]:1": true, "0.0.0.0:1": false, ":1": false, "10.0.0.1:1": false} {
		if loopback(addr) != want {
			t.Errorf("loopback(%q) = %v", addr, !want)
		}
	}
}

func TestStartFailsCleanly(t *testing.T) {
	busy, err := Start(context.Background(), Options{TemplatePath: "../../template.yaml", IdPAddr: "127.0.0.1:0", GatewayAddr: "127.0.0.1:0", WebAddr: "127.0.0.1:0", Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Shutdown(context.Background())
	gw := strings.TrimPrefix(busy.GatewayURL, "http://")
	for name, opts := range map[string]Options{
		"port in use":      {GatewayAddr: gw},
		"missing template": {TemplatePath: "no-such-template.yaml"},
		"not loopback":     {GatewayAddr: "0.0.0.0:0"},
		"extra IdP on all": {IdPExtraAddrs: []string{"0.0.0.0:0"}},
	} {
		opts.IdPAddr, opts.WebAddr, opts.Logger = "127.0.0.1:0", "127.0.0.1:0", slog.New(slog.NewJSONHandler(io.Discard, nil))
		if opts.GatewayAddr == "" {
			opts.GatewayAddr = "127.0.0.1:0"
		}
		if opts.TemplatePath == "" {
			opts.TemplatePath = "../../template.yaml"
		}
		if _, err := Start(context.Background(), opts); err == nil {
			t.Errorf("%s: started", name)
		}
	}
}

// TestExtraIdPAddressClasses: the extra IdP listener (for sam local invoke
// in Docker) takes loopback or a Docker bridge's own address: reachable by
// this host's containers (and by the local link only if someone routes the
// bridge's subnet here), never a LAN, public or wildcard address.
func TestExtraIdPAddressClasses(t *testing.T) {
	machine := func() (map[string][]net.IP, error) {
		return map[string][]net.IP{
			"lo":               {net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
			"eth0":             {net.ParseIP("10.0.0.5"), net.ParseIP("203.0.113.7")},
			"docker0":          {net.ParseIP("172.17.0.1")},
			"br-0123456789ab":  {net.ParseIP("172.18.0.1")},
			"br-evil":          {net.ParseIP("172.19.0.1")},
			"br-0123456789abc": {net.ParseIP("172.20.0.1")},
			"xbr-0123456789ab": {net.ParseIP("172.21.0.1")},
			"wlan0":            {net.ParseIP("192.168.1.20")},
		}, nil
	}
	tests := []struct {
		class, addr string
		ok          bool
	}{
		{"loopback IPv4", "127.0.0.1:9000", true},
		{"loopback IPv6", "[::1]:9000", true},
		{"localhost", "localhost:9000", true},
		{"docker0", "172.17.0.1:9000", true},
		{"user network bridge", "172.18.0.1:9000", true},
		{"every IPv4 interface", "0.0.0.0:9000", false},
		{"every IPv6 interface", "[::]:9000", false},
		{"no host", ":9000", false},
		{"LAN address", "10.0.0.5:9000", false},
		{"Wi-Fi address", "192.168.1.20:9000", false},
		{"public address", "203.0.113.7:9000", false},
		{"private but on no interface", "172.17.0.2:9000", false},
		{"bridge-like name", "172.19.0.1:9000", false},
		{"bridge id too long", "172.20.0.1:9000", false},
		{"bridge name not anchored", "172.21.0.1:9000", false},
		{"host name", "host.docker.internal:9000", false},
		{"no port", "172.17.0.1", false},
	}
	for _, tt := range tests {
		err := checkExtraIdPAddr(tt.addr, machine)
		if (err == nil) != tt.ok {
			t.Errorf("%s %s: error %v, want allowed=%v", tt.class, tt.addr, err, tt.ok)
		}
	}
}
