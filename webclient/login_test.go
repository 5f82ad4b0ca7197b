package webclient_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/example/petstore-oidc/internal/testlog"
	"github.com/example/petstore-oidc/local/idp"
	"github.com/example/petstore-oidc/webclient"
)

// A sign-in sets one HttpOnly, SameSite=Lax cookie that names the browser,
// a random id: the state, the nonce and the verifier stay on the server.
// The callback starts a session under a new id, whose cookie holds only
// that id.
func TestSignInCookies(t *testing.T) {
	e := newEnv(t, envOptions{})
	// A session id planted before the sign-in (session fixation) must not
	// survive it.
	u, _ := url.Parse(e.webURL)
	e.jar.SetCookies(u, []*http.Cookie{{Name: "petstore_session", Value: "planted-by-an-attacker", Path: "/"}})

	callback, login := e.startSignIn(t, "alice")
	flow := login.Cookies()
	if len(flow) != 1 || flow[0].Name != "petstore_signin" {
		t.Fatalf("/login set %v, want the one petstore_signin cookie", flow)
	}
	authorize, _ := url.Parse(login.Header.Get("Location"))
	q := authorize.Query()
	for _, c := range flow {
		wantSafeCookie(t, c, false)
		for _, param := range []string{"state", "nonce", "code_challenge"} {
			if strings.Contains(c.Value, q.Get(param)) {
				t.Errorf("cookie %s holds the %s", c.Name, param)
			}
		}
	}
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" || q.Get("state") == "" {
		t.Errorf("authorization request without PKCE S256, nonce or state: %s", authorize.RawQuery)
	}

	resp, _ := e.get(t, callback)
	wantRedirect(t, resp, http.StatusSeeOther, "/")
	cq := mustURL(callback).Query()
	if logs := e.logs.String(); strings.Contains(logs, cq.Get("code")) || strings.Contains(logs, cq.Get("state")) {
		t.Error("the code or the state was logged")
	}
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "petstore_session" {
			session = c
		}
		wantSafeCookie(t, c, false)
		if jwtRe.MatchString(c.Value) || len(c.Value) > 100 {
			t.Errorf("cookie %s looks like it holds a token (%d bytes)", c.Name, len(c.Value))
		}
	}
	if session == nil || session.Value == "planted-by-an-attacker" || session.Value == "" {
		t.Fatalf("the callback did not start a session under a new id: %+v", session)
	}
	_, body := e.get(t, "/")
	if !strings.Contains(body, "Signed in as Alice Example") {
		t.Errorf("the home page does not say who is signed in:\n%s", body)
	}
}

// Sign-ins started in two tabs of one browser both complete, in either
// order, and a stray or forged callback (any site can send the browser to
// /callback?state=x) in between wipes neither.
func TestSignInsInTwoTabs(t *testing.T) {
	for _, order := range []string{"older first", "newer first"} {
		t.Run(order, func(t *testing.T) {
			e := newEnv(t, envOptions{})
			tab1, _ := e.startSignIn(t, "alice")
			tab2, _ := e.startSignIn(t, "bob")
			// Stray callbacks: an unknown state, a real state with a forged
			// code, no state at all.
			for _, stray := range []string{"/callback?state=x&code=y", "/callback?state=AAAAAAAAAAAAAAAAAAAAAAAAAA&code=y", "/callback?code=y"} {
				resp, body := e.get(t, stray)
				if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "No sign-in with this state") {
					t.Fatalf("stray callback %s: %d\n%s", stray, resp.StatusCode, body)
				}
			}
			first, second, firstName, secondName := tab1, tab2, "Alice", "Bob"
			if order == "newer first" {
				first, second, firstName, secondName = tab2, tab1, "Bob", "Alice"
			}
			for _, step := range []struct{ callback, name string }{{first, firstName}, {second, secondName}} {
				resp, _ := e.get(t, step.callback)
				wantRedirect(t, resp, http.StatusSeeOther, "/")
				_, body := e.get(t, "/")
				if !strings.Contains(body, "Signed in as "+step.name) {
					t.Fatalf("after the callback of %s's tab the home page says:\n%s", step.name, body)
				}
			}
		})
	}
}

// Another browser cannot finish this browser's sign-in with its callback
// URL (login CSRF), and its attempt leaves the sign-in in progress for the
// browser that started it.
func TestCallbackFromAnotherBrowser(t *testing.T) {
	e := newEnv(t, envOptions{})
	callback, _ := e.startSignIn(t, "alice")
	victim := e.browser
	e.newBrowser()
	e.get(t, "/login") // the other browser has a sign-in cookie of its own
	resp, body := e.get(t, callback)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "No sign-in with this state") {
		t.Fatalf("another browser's callback: %d\n%s", resp.StatusCode, body)
	}
	e.browser = victim
	e.jar = victim.Jar.(*cookiejar.Jar)
	resp, _ = e.get(t, callback)
	wantRedirect(t, resp, http.StatusSeeOther, "/")
}

// On https every cookie is Secure and __Host- prefixed.
func TestCookiesAreSecureOnHTTPS(t *testing.T) {
	const public = "https://petstore.example.org"
	e := newEnv(t, envOptions{
		extraRedirectTo: []string{public + "/callback"},
		cfg:             func(c *webclient.Config) { c.RedirectURL = public + "/callback" },
	})
	// The app runs behind a TLS proxy: drive its handler directly.
	login := httptest.NewRecorder()
	e.app.ServeHTTP(login, httptest.NewRequest(http.MethodGet, public+"/login", nil))
	flow := login.Result().Cookies()
	if len(flow) != 1 {
		t.Fatalf("/login set %d cookies", len(flow))
	}
	for _, c := range flow {
		wantSafeCookie(t, c, true)
	}

	// Sign in at the IdP with the authorization request the app made.
	resp, body := e.do(t, http.MethodGet, login.Header().Get("Location"), nil)
	m := authRequestIDRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("login page: %d", resp.StatusCode)
	}
	resp, _ = e.do(t, http.MethodPost, e.issuer+"/login", url.Values{"authRequestID": {m[1]}, "username": {"alice"}, "password": {"alice"}})
	callback := resp.Header.Get("Location")
	if !strings.HasPrefix(callback, public+"/callback?") {
		t.Fatalf("IdP redirect: %q", callback)
	}
	req := httptest.NewRequest(http.MethodGet, callback, nil)
	for _, c := range flow {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	e.app.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("callback: %d %s", rec.Code, rec.Body)
	}
	var session bool
	for _, c := range rec.Result().Cookies() {
		wantSafeCookie(t, c, true)
		session = session || c.Name == "__Host-petstore_session"
	}
	if !session {
		t.Error("no __Host-petstore_session cookie")
	}
	if rec.Header().Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS header on https")
	}
}

func wantSafeCookie(t *testing.T, c *http.Cookie, https bool) {
	t.Helper()
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
		t.Errorf("cookie %s: HttpOnly=%v SameSite=%v Path=%q, want HttpOnly, Lax, /", c.Name, c.HttpOnly, c.SameSite, c.Path)
	}
	if c.Secure != https {
		t.Errorf("cookie %s: Secure=%v on https=%v", c.Name, c.Secure, https)
	}
	if https != strings.HasPrefix(c.Name, "__Host-") {
		t.Errorf("cookie %s: the __Host- prefix belongs on https only", c.Name)
	}
}

// Every callback that does not answer the sign-in this browser started is
// refused with a page that says why and offers to try again, and signs
// nobody in.
func TestCallbackRefusals(t *testing.T) {
	tests := []struct {
		name string
		// tamper changes the callback URL or the browser's cookies, given
		// a second sign-in's cookies where a case needs them.
		tamper     func(t *testing.T, e *env, callback string) string
		wantStatus int
		wantText   string
	}{
		{
			name:       "state mismatch",
			tamper:     func(t *testing.T, e *env, cb string) string { return setParam(cb, "state", "forged-state") },
			wantStatus: http.StatusBadRequest, wantText: "state does not match",
		},
		{
			name: "the state of another sign-in (the code is this one's)",
			tamper: func(t *testing.T, e *env, cb string) string {
				// The code redeems with the other flow's verifier? No: PKCE
				// refuses it, as the provider sees another challenge.
				other, _ := e.startSignIn(t, "alice")
				return setParam(cb, "state", mustURL(other).Query().Get("state"))
			},
			wantStatus: http.StatusBadRequest, wantText: "PKCE verifier does not match",
		},
		{
			name: "missing sign-in cookie",
			tamper: func(t *testing.T, e *env, cb string) string {
				e.dropCookie(t, "petstore_signin")
				return cb
			},
			wantStatus: http.StatusBadRequest, wantText: "No sign-in with this state",
		},
		{
			name: "another browser's sign-in cookie",
			tamper: func(t *testing.T, e *env, cb string) string {
				e.setCookies(t, []*http.Cookie{{Name: "petstore_signin", Value: "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}}, "petstore_signin")
				return cb
			},
			wantStatus: http.StatusBadRequest, wantText: "No sign-in with this state",
		},
		{
			name: "error parameter from the provider",
			tamper: func(t *testing.T, e *env, cb string) string {
				u, _ := url.Parse(cb)
				return e.webURL + "/callback?" + url.Values{"error": {"access_denied"}, "error_description": {"the user cancelled"}, "state": {u.Query().Get("state")}}.Encode()
			},
			wantStatus: http.StatusBadRequest, wantText: "access_denied: the user cancelled",
		},
		{
			name:       "no code",
			tamper:     func(t *testing.T, e *env, cb string) string { return setParam(cb, "code", "") },
			wantStatus: http.StatusBadRequest, wantText: "sent no authorization code",
		},
		{
			name: "code redeemed already (replay with the sign-in cookies restored)",
			tamper: func(t *testing.T, e *env, cb string) string {
				if resp, _ := e.get(t, cb); resp.StatusCode != http.StatusSeeOther {
					t.Fatalf("first use of the callback: %d", resp.StatusCode)
				}
				e.post(t, "/logout", url.Values{"csrf": {e.csrf(t)}})
				return cb
			},
			wantStatus: http.StatusBadRequest, wantText: "this link was already used",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{})
			callback, _ := e.startSignIn(t, "alice")
			callback = tt.tamper(t, e, callback)
			resp, body := e.get(t, callback)
			if resp.StatusCode != tt.wantStatus || !strings.Contains(body, tt.wantText) {
				t.Fatalf("got %d, want %d with %q:\n%s", resp.StatusCode, tt.wantStatus, tt.wantText, body)
			}
			if !strings.Contains(body, `href="/login"`) || !strings.Contains(body, "Sign-in failed") {
				t.Errorf("the page offers no way to try again:\n%s", body)
			}
			resp, _ = e.get(t, "/profile")
			if resp.StatusCode != http.StatusSeeOther {
				t.Errorf("a refused callback signed the browser in: /profile answered %d", resp.StatusCode)
			}
		})
	}
}

// The same callback URL twice in the same browser: the first signs in, the
// second finds no sign-in in progress (the callback cleared its cookies).
func TestReplayedCallback(t *testing.T) {
	e := newEnv(t, envOptions{})
	callback, _ := e.startSignIn(t, "alice")
	resp, _ := e.get(t, callback)
	wantRedirect(t, resp, http.StatusSeeOther, "/")
	before := e.tokenCalls.Load()
	resp, body := e.get(t, callback)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "this link was already used") {
		t.Fatalf("replayed callback: %d\n%s", resp.StatusCode, body)
	}
	if e.tokenCalls.Load() != before {
		t.Error("a replayed callback reached the token endpoint")
	}
}

// The provider cannot be reached: the app starts, and signing in shows a
// page that names the provider and offers to try again.
func TestUnreachableProvider(t *testing.T) {
	dead := httptest.NewServer(nil)
	dead.Close()
	logs := &testlog.Buffer{}
	app, err := webclient.New(context.Background(), webclient.Config{
		Issuer: dead.URL, ClientID: idp.WebClientID, RedirectURL: "http://localhost:8080/callback",
		APIURL: "http://localhost:3000", Logger: newLogger(logs),
	})
	if err != nil {
		t.Fatalf("New must not fail on an unreachable provider: %v", err)
	}
	for _, path := range []string{"/login", "/callback?code=x&state=y"} {
		rec := httptest.NewRecorder()
		app.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		body := rec.Body.String()
		if path == "/login" && (rec.Code != http.StatusBadGateway || !strings.Contains(body, "Identity provider unreachable") || !strings.Contains(body, dead.URL)) {
			t.Errorf("%s: %d\n%s", path, rec.Code, body)
		}
		if rec.Code < 400 || !strings.Contains(body, "<html") || strings.Contains(body, "goroutine") {
			t.Errorf("%s: %d is not a readable error page:\n%s", path, rec.Code, body)
		}
	}
}

// A provider that hangs delays the pages that need it, not the others: the
// discovery is shared by its waiters and no other page waits for it.
func TestHangingProviderStallsNoOtherPage(t *testing.T) {
	release := make(chan struct{})
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hanging.Close()
	defer close(release)
	start, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	app, err := webclient.New(start, webclient.Config{
		Issuer: hanging.URL, ClientID: idp.WebClientID, RedirectURL: "http://localhost:8080/callback",
		APIURL: "http://localhost:3000", Logger: newLogger(&testlog.Buffer{}),
	})
	if err != nil {
		t.Fatalf("New must not fail on a hanging provider: %v", err)
	}
	for range 3 {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			app.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/login", nil).WithContext(ctx))
		}()
	}
	time.Sleep(50 * time.Millisecond) // the sign-ins are waiting for the discovery
	began := time.Now()
	for _, path := range []string{"/healthz", "/"} {
		rec := httptest.NewRecorder()
		app.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusOK {
			t.Errorf("%s: %d", path, rec.Code)
		}
	}
	if took := time.Since(began); took > time.Second {
		t.Errorf("pages that do not need the provider waited %s for it", took)
	}
}

// An ISSUER that is not the provider's exact issuer stops the app at start
// with a message naming the variable.
func TestIssuerMismatchIsAConfigurationError(t *testing.T) {
	e := newEnv(t, envOptions{})
	_, err := webclient.New(context.Background(), webclient.Config{
		Issuer: e.issuer + "/", ClientID: idp.WebClientID, RedirectURL: e.webURL + "/callback",
		APIURL: e.api.URL, Logger: newLogger(e.logs),
	})
	if err == nil || !strings.Contains(err.Error(), "ISSUER") {
		t.Fatalf("New with a trailing slash the issuer lacks: %v", err)
	}
}

func setParam(rawURL, name, value string) string {
	u, _ := url.Parse(rawURL)
	q := u.Query()
	if value == "" {
		q.Del(name)
	} else {
		q.Set(name, value)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// setCookies puts the named ones of cookies into the browser.
func (e *env) setCookies(t *testing.T, cookies []*http.Cookie, names ...string) {
	t.Helper()
	u, _ := url.Parse(e.webURL)
	for _, c := range cookies {
		for _, n := range names {
			if c.Name == n {
				e.jar.SetCookies(u, []*http.Cookie{{Name: c.Name, Value: c.Value, Path: "/"}})
			}
		}
	}
}

func (e *env) dropCookie(t *testing.T, name string) {
	t.Helper()
	u, _ := url.Parse(e.webURL)
	e.jar.SetCookies(u, []*http.Cookie{{Name: name, Path: "/", MaxAge: -1}})
}
