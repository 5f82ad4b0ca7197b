package webclient_test

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/example/petstore-oidc/internal/testlog"
	"github.com/example/petstore-oidc/local/stack"
)

// The console through the whole local stack (IdP, gateway, authorizer,
// PetStore): each call shows the status, the gateway's headers and what the
// status means, and the page never holds the access token.
func TestConsoleThroughTheGateway(t *testing.T) {
	logs := &testlog.Buffer{}
	s, err := stack.Start(context.Background(), stack.Options{
		TemplatePath: "../template.yaml",
		IdPAddr:      "127.0.0.1:0", GatewayAddr: "127.0.0.1:0", WebAddr: "127.0.0.1:0",
		Logger: slog.New(slog.NewJSONHandler(logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	t.Cleanup(func() { checkLogs(t, logs.String()) })

	tests := []struct {
		user, action string
		fields       []string
		wantStatus   string
		wantText     []string
	}{
		{"alice", "list", nil, "200 OK", []string{`"type": "dog"`, "X-Total-Count", "OK: the authorizer verified the token"}},
		{"alice", "get", []string{"pet_id", "1"}, "200 OK", []string{`"id": 1`}},
		{"alice", "get", []string{"pet_id", "999"}, "404 Not Found", []string{"pet 999 not found", "there is no such pet"}},
		{"alice", "get", []string{"pet_id", "abc"}, "400 Bad Request", []string{"petId must be a positive whole number"}},
		{"alice", "create", []string{"type", "cat", "price", "12.5"}, "201 Created", []string{`"type": "cat"`, `"createdBy": "alice"`, "Location", "/pets/"}},
		{"alice", "create", []string{"type", "cat", "price", "cheap"}, "400 Bad Request", []string{"price"}},
		{"alice", "me", nil, "200 OK", []string{`"principal": "alice"`, "\"openid\",\n    \"offline_access\",\n    \"pets:read\",\n    \"pets:write\"\n  ]"}},
		{"alice", "no-token", nil, "401 Unauthorized", []string{"{\n  \"message\": \"Unauthorized\"\n}", "x-amzn-ErrorType", "UnauthorizedException", "no Authorization header", "Access-Control-Allow-Origin"}},
		{"alice", "tampered", nil, "401 Unauthorized", []string{"UnauthorizedException", "signature no longer matches", "x-amzn-RequestId"}},
		{"bob", "create", []string{"type", "dog", "price", "10"}, "403 Forbidden", []string{"explicit deny", "AccessDeniedException", "needs pets:write"}},
		{"bob", "list", nil, "200 OK", nil},
	}
	browsers := map[string]*stackBrowser{}
	for _, tt := range tests {
		t.Run(tt.user+" "+tt.action+" "+strings.Join(tt.fields, "="), func(t *testing.T) {
			b := browsers[tt.user]
			if b == nil {
				b = newStackBrowser(t, s, tt.user)
				browsers[tt.user] = b
			}
			form := url.Values{"action": {tt.action}, "csrf": {b.csrf}}
			for i := 0; i+1 < len(tt.fields); i += 2 {
				form.Set(tt.fields[i], tt.fields[i+1])
			}
			resp, err := b.client.PostForm(s.WebURL+"/console", form)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body := html.UnescapeString(string(raw))
			m := statusRe.FindStringSubmatch(body)
			if resp.StatusCode != http.StatusOK || m == nil || m[1] != tt.wantStatus {
				t.Fatalf("page %d, API status %v, want %s\n%s", resp.StatusCode, m, tt.wantStatus, body)
			}
			for _, want := range tt.wantText {
				if !strings.Contains(body, want) {
					t.Errorf("the page lacks %q", want)
				}
			}
			if !strings.Contains(body, "Authorization:</span> Bearer eyJ") && tt.action != "no-token" {
				t.Error("the request's shortened Authorization header is not shown")
			}
			if jwtRe.MatchString(body) {
				t.Error("the console page holds a whole token")
			}
		})
	}
}

var statusRe = regexp.MustCompile(`id="status">(\d{3} [^<]+)<`)

type stackBrowser struct {
	client *http.Client
	csrf   string
}

// newStackBrowser signs user in to the stack's web client, following every
// redirect as a browser does.
func newStackBrowser(t *testing.T, s *stack.Stack, user string) *stackBrowser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err := c.Get(s.WebURL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := authRequestIDRe.FindStringSubmatch(string(b))
	if m == nil {
		t.Fatalf("no login page: %d %s", resp.StatusCode, b)
	}
	resp, err = c.PostForm(s.IssuerURL+"/login", url.Values{"authRequestID": {m[1]}, "username": {user}, "password": {user}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Request.URL.String() != s.WebURL+"/" || !strings.Contains(string(b), "Signed in as") {
		t.Fatalf("sign-in ended at %s: %d %s", resp.Request.URL, resp.StatusCode, b)
	}
	csrf := csrfRe.FindStringSubmatch(string(b))
	if csrf == nil {
		t.Fatal("no CSRF token on the home page")
	}
	return &stackBrowser{client: c, csrf: csrf[1]}
}

// An API that cannot be reached gives the console a readable error.
func TestUnreachableAPI(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.signIn(t, "alice")
	e.api.Close()
	resp, body := e.callAPI(t, "list")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "could not be reached") || !strings.Contains(body, "Check API_URL") {
		t.Fatalf("%d\n%s", resp.StatusCode, body)
	}
}
