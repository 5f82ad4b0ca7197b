package stack

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/example/petstore-oidc/internal/testlog"
)

var (
	authRequestIDRe = regexp.MustCompile(`name="authRequestID" value="([^"]+)"`)
	csrfRe          = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
)

// Three web client instances behind the function URL share SessionsTable:
// the sign-in starts on one, its callback lands on the next, the console
// on the third calls the API through the gateway, and the sign-out on the
// first ends the session for all of them.
func TestWebClientInstancesShareTheSessions(t *testing.T) {
	logs := &testlog.Buffer{}
	s, err := Start(context.Background(), Options{
		TemplatePath: "../../template.yaml",
		IdPAddr:      "127.0.0.1:0", GatewayAddr: "127.0.0.1:0", WebAddr: "127.0.0.1:0",
		WebInstances: 3,
		Logger:       slog.New(slog.NewJSONHandler(logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(context.Background()) })

	jar, _ := cookiejar.New(nil)
	idpHost := mustParse(t, s.IssuerURL).Host
	browser := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Host != idpHost {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	do := func(method, target string, form url.Values) (*http.Response, string) {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, target, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		client := browser
		if strings.HasPrefix(target, s.WebURL) {
			// Each step of the web client is checked: no redirect followed.
			c := *browser
			c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			client = &c
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	// Instance 0: /login.
	resp, _ := do(http.MethodGet, s.WebURL+"/login", nil)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("/login: %d", resp.StatusCode)
	}
	resp, body := do(http.MethodGet, resp.Header.Get("Location"), nil)
	m := authRequestIDRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("the IdP's login page: %d %s", resp.StatusCode, body)
	}
	resp, _ = do(http.MethodPost, s.IssuerURL+"/login", url.Values{"authRequestID": {m[1]}, "username": {"alice"}, "password": {"alice"}})
	callback := resp.Header.Get("Location")
	if !strings.HasPrefix(callback, s.WebURL+"/callback?") {
		t.Fatalf("the IdP sent the browser to %q", callback)
	}
	// Instance 1: the callback.
	if resp, body := do(http.MethodGet, callback, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("callback: %d %s", resp.StatusCode, body)
	}
	// Instance 2: the console page; instance 0: the call through the gateway.
	_, body = do(http.MethodGet, s.WebURL+"/console", nil)
	m = csrfRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no console for the session started elsewhere:\n%s", body)
	}
	resp, body = do(http.MethodPost, s.WebURL+"/console", url.Values{"action": {"list"}, "csrf": {m[1]}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "200") {
		t.Fatalf("console call: %d\n%s", resp.StatusCode, body)
	}
	// Instance 1: sign out; instance 2 then finds no session.
	if resp, _ := do(http.MethodPost, s.WebURL+"/logout", url.Values{"csrf": {m[1]}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if resp, _ := do(http.MethodGet, s.WebURL+"/profile", nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("/profile after sign-out: %d", resp.StatusCode)
	}

	// Which instance served what, from the web client's request log.
	served := map[string][]float64{}
	for _, line := range strings.Split(logs.String(), "\n") {
		var rec struct {
			Component, Msg, Method, Path string
			Instance                     *float64
		}
		if json.Unmarshal([]byte(line), &rec) != nil || rec.Msg != "webclient request" || rec.Instance == nil {
			continue
		}
		served[rec.Method+" "+rec.Path] = append(served[rec.Method+" "+rec.Path], *rec.Instance)
	}
	want := map[string][]float64{
		"GET /login": {0}, "GET /callback": {1}, "GET /console": {2}, "POST /console": {0}, "POST /logout": {1}, "GET /profile": {2},
	}
	for k, v := range want {
		if len(served[k]) != 1 || served[k][0] != v[0] {
			t.Errorf("%s served by instance %v, want %v (all: %v)", k, served[k], v, served)
		}
	}
}

func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
