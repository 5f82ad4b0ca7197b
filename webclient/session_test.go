package webclient_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/example/petstore-oidc/local/idp"
	"github.com/example/petstore-oidc/webclient"
)

// A session the server has forgotten (idle too long) sends the browser
// home with a notice, not to an error.
func TestExpiredSession(t *testing.T) {
	e := newEnv(t, envOptions{cfg: func(c *webclient.Config) { c.SessionIdleTimeout = 500 * time.Millisecond }})
	e.signIn(t, "alice")
	if resp, _ := e.get(t, "/console"); resp.StatusCode != http.StatusOK {
		t.Fatalf("/console right after sign-in: %d", resp.StatusCode)
	}
	time.Sleep(700 * time.Millisecond)
	for _, page := range []string{"/console", "/token", "/profile"} {
		resp, _ := e.get(t, page)
		wantRedirect(t, resp, http.StatusSeeOther, "/?notice=expired")
	}
	resp, body := e.get(t, "/?notice=expired")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Your session has expired") || !strings.Contains(body, `href="/login"`) {
		t.Errorf("home after expiry: %d\n%s", resp.StatusCode, body)
	}
	// A browser that never signed in is only asked to.
	e.jar.SetCookies(mustURL(e.webURL), []*http.Cookie{{Name: "petstore_session", Path: "/", MaxAge: -1}})
	resp, _ = e.get(t, "/console")
	wantRedirect(t, resp, http.StatusSeeOther, "/?notice=signin")
}

// An access token that has expired (or is about to) is refreshed before
// the API call; a fresh one is not.
func TestRefreshOfAnExpiredAccessToken(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.signIn(t, "alice")
	e.callAPI(t, "list")
	first := e.lastBearer(t)
	calls := e.tokenCalls.Load()

	e.callAPI(t, "list")
	if e.lastBearer(t) != first || e.tokenCalls.Load() != calls {
		t.Fatal("a fresh access token was refreshed")
	}

	tests := []struct {
		name    string
		advance time.Duration
	}{
		{"expired", idp.DefaultAccessTokenTTL + time.Minute},
		{"expires in 10 seconds", idp.DefaultAccessTokenTTL - 10*time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.lastBearer(t)
			calls := e.tokenCalls.Load()
			webclient.SetClock(e.app, func() time.Time { return time.Now().Add(tt.advance) })
			defer webclient.SetClock(e.app, time.Now)
			resp, body := e.callAPI(t, "list")
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, "200 OK") {
				t.Fatalf("console: %d\n%s", resp.StatusCode, body)
			}
			if e.tokenCalls.Load() != calls+1 || e.lastBearer(t) == before {
				t.Fatalf("the access token was not refreshed: %d token requests", e.tokenCalls.Load()-calls)
			}
			if !strings.Contains(e.logs.String(), `"grant_type":"refresh_token"`) {
				t.Error("the IdP saw no refresh_token grant")
			}
		})
	}
}

// A refresh the provider refuses ends the session; a provider that does
// not answer leaves it, with a page that says so.
func TestRefreshFailures(t *testing.T) {
	tests := []struct {
		name         string
		break_       func(e *env)
		wantStatus   int
		wantLocation string
		stillSignIn  bool
	}{
		{"refused (invalid_grant)", func(e *env) { e.idpRefuses.Store(true) }, http.StatusSeeOther, "/?notice=expired", false},
		{"provider failing", func(e *env) { e.idpDown.Store(true) }, http.StatusBadGateway, "", true},
		{"provider rate limiting", func(e *env) { e.idpLimits.Store(true) }, http.StatusBadGateway, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{})
			e.signIn(t, "alice")
			csrf := e.csrf(t)
			webclient.SetClock(e.app, func() time.Time { return time.Now().Add(time.Hour) })
			tt.break_(e)
			resp, body := e.post(t, "/console", url.Values{"action": {"list"}, "csrf": {csrf}})
			if resp.StatusCode != tt.wantStatus || resp.Header.Get("Location") != tt.wantLocation {
				t.Fatalf("got %d %q, want %d %q\n%s", resp.StatusCode, resp.Header.Get("Location"), tt.wantStatus, tt.wantLocation, body)
			}
			if tt.wantStatus == http.StatusBadGateway && !strings.Contains(body, "You are still signed in") {
				t.Errorf("the page does not explain:\n%s", body)
			}
			webclient.SetClock(e.app, time.Now)
			resp, _ = e.get(t, "/profile")
			if signedIn := resp.StatusCode == http.StatusOK; signedIn != tt.stillSignIn {
				t.Errorf("signed in afterwards: %v, want %v", signedIn, tt.stillSignIn)
			}
		})
	}
}

// Sign-out ends the local session first, then goes to the provider's
// end_session_endpoint, else LOGOUT_URL, else home.
func TestLogout(t *testing.T) {
	const cognitoStyle = "https://petstore.auth.eu-west-1.amazoncognito.com/logout?client_id=abc&logout_uri=http%3A%2F%2Flocalhost%3A8080%2F"
	tests := []struct {
		name string
		opts envOptions
		want func(t *testing.T, e *env, location string)
	}{
		{
			name: "end_session_endpoint",
			want: func(t *testing.T, e *env, location string) {
				u, _ := url.Parse(location)
				q := u.Query()
				if u.Scheme+"://"+u.Host+u.Path != e.issuer+"/end_session" || q.Get("post_logout_redirect_uri") != e.webURL+"/" ||
					q.Get("client_id") != idp.WebClientID || !jwtRe.MatchString(q.Get("id_token_hint")) {
					t.Fatalf("logout redirect %s", location)
				}
				// The IdP accepts it and sends the browser back home.
				resp, _ := e.do(t, http.MethodGet, location, nil)
				if got := resp.Header.Get("Location"); got != e.webURL+"/" {
					t.Errorf("the IdP sent the browser to %q after sign-out", got)
				}
			},
		},
		{
			name: "LOGOUT_URL when the provider has no end_session_endpoint",
			opts: envOptions{hideEndSession: true, cfg: func(c *webclient.Config) { c.LogoutURL = cognitoStyle }},
			want: func(t *testing.T, e *env, location string) {
				if location != cognitoStyle {
					t.Fatalf("logout redirect %q, want LOGOUT_URL", location)
				}
			},
		},
		{
			name: "home when there is neither",
			opts: envOptions{hideEndSession: true},
			want: func(t *testing.T, e *env, location string) {
				if location != "/" {
					t.Fatalf("logout redirect %q, want /", location)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.opts)
			e.signIn(t, "alice")
			old := e.sessionCookie()
			resp, _ := e.post(t, "/logout", url.Values{"csrf": {e.csrf(t)}})
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("logout: %d", resp.StatusCode)
			}
			if c := e.sessionCookie(); c != nil {
				t.Errorf("the session cookie is still in the browser: %v", c)
			}
			// The session is gone on the server: its old id gets nothing.
			e.jar.SetCookies(mustURL(e.webURL), []*http.Cookie{old})
			if resp, _ := e.get(t, "/profile"); resp.StatusCode != http.StatusSeeOther {
				t.Errorf("the old session id still works after sign-out: %d", resp.StatusCode)
			}
			tt.want(t, e, resp.Header.Get("Location"))
			_, body := e.get(t, "/")
			if strings.Contains(body, "Signed in as") {
				t.Error("home still shows a user after sign-out")
			}
		})
	}
}

// Forms without this session's CSRF token, or sent from another site, are
// refused and change nothing.
func TestCSRF(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.signIn(t, "alice")
	good := e.csrf(t)
	tests := []struct {
		name    string
		path    string
		form    url.Values
		headers []string
		want    int
	}{
		{"console without a token", "/console", url.Values{"action": {"list"}}, nil, http.StatusForbidden},
		{"console with a wrong token", "/console", url.Values{"action": {"list"}, "csrf": {"wrong"}}, nil, http.StatusForbidden},
		{"console from another site", "/console", url.Values{"action": {"list"}, "csrf": {good}}, []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"console from another origin", "/console", url.Values{"action": {"list"}, "csrf": {good}}, []string{"Origin", "https://evil.example"}, http.StatusForbidden},
		{"token reveal without a token", "/token", url.Values{}, nil, http.StatusForbidden},
		{"logout without a token", "/logout", url.Values{}, nil, http.StatusForbidden},
		{"console with the right token", "/console", url.Values{"action": {"list"}, "csrf": {good}}, []string{"Sec-Fetch-Site", "same-origin"}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.apiAuth.Store("")
			resp, body := e.do(t, http.MethodPost, tt.path, tt.form, tt.headers...)
			if resp.StatusCode != tt.want {
				t.Fatalf("got %d, want %d\n%s", resp.StatusCode, tt.want, body)
			}
			if tt.want == http.StatusForbidden {
				if e.apiAuth.Load() != "" || jwtRe.MatchString(body) {
					t.Error("a refused form still called the API or showed a token")
				}
				if resp, _ := e.get(t, "/profile"); resp.StatusCode != http.StatusOK {
					t.Error("a refused form signed the user out")
				}
			}
		})
	}
}

func (e *env) lastBearer(t *testing.T) string {
	t.Helper()
	auth, _ := e.apiAuth.Load().(string)
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || !jwtRe.MatchString(tok) {
		t.Fatalf("the API got no bearer token: %q", auth)
	}
	return tok
}

func mustURL(raw string) *url.URL {
	u, err := url.Parse(raw)
	if err != nil {
		panic(err)
	}
	return u
}
