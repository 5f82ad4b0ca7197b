package webclient_test

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/example/petstore-oidc/internal/testissuer"
	"github.com/example/petstore-oidc/internal/testlog"
	"github.com/example/petstore-oidc/local/idp"
	"github.com/example/petstore-oidc/webclient"
	"github.com/golang-jwt/jwt/v5"
)

const testAudience = "https://petstore.example.com"

// env is the web client on a loopback port with the development IdP
// in-process and a fake API that records what it was sent. browser is an
// HTTP client with a cookie jar that follows redirects inside the IdP only,
// so each step of the web client can be checked.
type env struct {
	app     *webclient.App
	webURL  string
	issuer  string
	browser *http.Client
	jar     *cookiejar.Jar
	logs    *testlog.Buffer

	api        *httptest.Server
	apiAuth    atomic.Value // the last Authorization header the API got
	apiStatus  atomic.Int64 // what the API answers (default 200)
	idpRefuses atomic.Bool  // the IdP's token endpoint answers invalid_grant
	idpDown    atomic.Bool  // the IdP's token endpoint fails like a dead upstream
	idpLimits  atomic.Bool  // the IdP's token endpoint rate-limits (429)
	tokenCalls atomic.Int64 // requests to the IdP's token endpoint
	idpHost    string

	// With envOptions.reissueIDTokens, every ID token the IdP's token
	// endpoint returns is signed again with testissuer's key-a, whose JWKS
	// replaces the IdP's, after editIDToken (if set) has changed its claims
	// and chosen the key to sign with: so that a test can send the web
	// client any ID token. reissued counts them.
	// The key "key-b" stands for a key the provider has rotated to: its
	// tokens carry its own kid. keysDown makes the JWKS answer 503.
	editIDToken atomic.Pointer[func(jwt.MapClaims) (key string)]
	reissued    atomic.Int64
	keysDown    atomic.Bool
	// holdRefresh, when set, stops the next refresh grant at the IdP's
	// token endpoint until the test releases it; holdAPI the next call of
	// the API; holdBody the next read of a request body by the web client.
	holdRefresh atomic.Pointer[hold]
	holdAPI     atomic.Pointer[hold]
	holdBody    atomic.Pointer[hold]
	// noRotation makes the IdP answer a refresh grant without a new
	// refresh token, as Cognito does: the old one stays valid.
	noRotation bool
	rtMu       sync.Mutex
	currentRT  map[string]string // the refresh token sent -> the IdP's current one
}

// hold is a request kept waiting at the IdP: entered is closed when it
// arrives, and it goes on once release is closed.
type hold struct{ entered, release chan struct{} }

type envOptions struct {
	cfg             func(*webclient.Config)
	hideEndSession  bool // the IdP's discovery document has no end_session_endpoint
	reissueIDTokens bool // see env.editIDToken
	accessTokenTTL  time.Duration
	extraRedirectTo []string // more redirect URIs registered at the IdP
	noRotation      bool     // see env.noRotation
}

func newEnv(t *testing.T, opts envOptions) *env {
	t.Helper()
	e := &env{logs: &testlog.Buffer{}, noRotation: opts.noRotation, currentRT: map[string]string{}}
	e.apiStatus.Store(http.StatusOK)
	log := slog.New(slog.NewJSONHandler(e.logs, nil))

	webSrv := httptest.NewUnstartedServer(nil)
	e.webURL = "http://" + webSrv.Listener.Addr().String()
	idpSrv := httptest.NewUnstartedServer(nil)
	e.issuer = "http://" + idpSrv.Listener.Addr().String()

	provider, err := idp.New(idp.Config{
		Issuer:                    e.issuer,
		Audience:                  testAudience,
		WebRedirectURIs:           append([]string{e.webURL + "/callback"}, opts.extraRedirectTo...),
		WebPostLogoutRedirectURIs: []string{e.webURL + "/"},
		AccessTokenTTL:            opts.accessTokenTTL,
		Logger:                    log.With("component", "idp"),
	})
	if err != nil {
		t.Fatal(err)
	}
	handler := e.wrapIDP(provider.Handler(), opts.hideEndSession)
	if opts.reissueIDTokens {
		handler = e.reissueIDTokens(t, handler)
	}
	idpSrv.Config.Handler = handler
	idpSrv.Start()
	t.Cleanup(idpSrv.Close)

	e.api = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := e.holdAPI.Swap(nil); h != nil {
			close(h.entered)
			<-h.release
		}
		e.apiAuth.Store(r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("x-amzn-RequestId", "req-1")
		w.WriteHeader(int(e.apiStatus.Load()))
		io.WriteString(w, `{"path":"`+r.URL.Path+`"}`)
	}))
	t.Cleanup(e.api.Close)

	cfg := webclient.Config{
		Issuer:      e.issuer,
		ClientID:    idp.WebClientID,
		RedirectURL: e.webURL + "/callback",
		APIURL:      e.api.URL,
		Logger:      log.With("component", "webclient"),
	}
	if opts.cfg != nil {
		opts.cfg(&cfg)
	}
	e.app, err = webclient.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	webSrv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			if h := e.holdBody.Swap(nil); h != nil {
				r.Body = &heldBody{ReadCloser: r.Body, h: h}
			}
		}
		e.app.ServeHTTP(w, r)
	})
	webSrv.Start()
	t.Cleanup(webSrv.Close)

	e.idpHost = idpSrv.Listener.Addr().String()
	e.newBrowser()
	t.Cleanup(func() { checkLogs(t, e.logs.String()) })
	return e
}

// newBrowser gives the test a browser of its own: no cookies, no session.
func (e *env) newBrowser() {
	e.jar, _ = cookiejar.New(nil)
	e.browser = &http.Client{
		Jar:     e.jar,
		Timeout: 10 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host != e.idpHost || len(via) > 10 {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
}

// reissueIDTokens: see env.editIDToken.
func (e *env) reissueIDTokens(t *testing.T, next http.Handler) http.Handler {
	keys := map[string]*rsa.PrivateKey{"key-a": testissuer.Key(t, "key-a"), "key-b": testissuer.Key(t, "key-b"), "attacker": testissuer.Key(t, "attacker")}
	jwks, err := json.Marshal(testissuer.JWKS(t, "key-a")) // key-b: not published yet
	if err != nil {
		t.Fatal(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/keys":
			if e.keysDown.Load() {
				http.Error(w, "unavailable", http.StatusServiceUnavailable)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write(jwks)
			return
		case "/oauth/token":
		default:
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		var body map[string]any
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &body) != nil {
			copyResponse(w, rec)
			return
		}
		raw, _ := body["id_token"].(string)
		if raw == "" {
			copyResponse(w, rec)
			return
		}
		claims := jwt.MapClaims{}
		if _, _, err := jwt.NewParser().ParseUnverified(raw, claims); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		key := "key-a"
		if edit := e.editIDToken.Load(); edit != nil {
			key = cmp.Or((*edit)(claims), key)
		}
		if key == "none" {
			// Unsigned: the header says so, the signature is empty.
			payload, _ := json.Marshal(claims)
			raw = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." +
				base64.RawURLEncoding.EncodeToString(payload) + "."
		} else {
			// Not testissuer.Sign: this runs on the IdP's goroutine, where
			// its t.Fatal may not be called.
			tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
			tok.Header["kid"] = "key-a" // also for another key: the signature must be checked
			if key == "key-b" {
				tok.Header["kid"] = "key-b"
			}
			if raw, err = tok.SignedString(keys[key]); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		}
		body["id_token"] = raw
		e.reissued.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(body)
	})
}

func copyResponse(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	maps.Copy(w.Header(), rec.Header())
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

// wrapIDP lets a test break the IdP's token endpoint or hide its
// end_session_endpoint.
func (e *env) wrapIDP(next http.Handler, hideEndSession bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/oauth/token":
			e.tokenCalls.Add(1)
			if h := e.holdRefresh.Load(); h != nil && isRefreshGrant(r) && e.holdRefresh.CompareAndSwap(h, nil) {
				close(h.entered)
				<-h.release
			}
			if e.idpRefuses.Load() {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				io.WriteString(w, `{"error":"invalid_grant","error_description":"refresh token revoked"}`)
				return
			}
			if e.idpDown.Load() {
				http.Error(w, "bad gateway", http.StatusBadGateway)
				return
			}
			if e.idpLimits.Load() {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusTooManyRequests)
				io.WriteString(w, `{"error":"slow_down"}`)
				return
			}
			if e.noRotation && isRefreshGrant(r) {
				// The development IdP rotates: stand between it and the web
				// client, which keeps sending the first refresh token.
				raw, _ := io.ReadAll(r.Body)
				form, _ := url.ParseQuery(string(raw))
				sent := form.Get("refresh_token")
				e.rtMu.Lock()
				if current, ok := e.currentRT[sent]; ok {
					form.Set("refresh_token", current)
				}
				e.rtMu.Unlock()
				encoded := form.Encode()
				r.Body, r.ContentLength = io.NopCloser(strings.NewReader(encoded)), int64(len(encoded))
				rec := httptest.NewRecorder()
				next.ServeHTTP(rec, r)
				var body map[string]any
				if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &body) != nil {
					copyResponse(w, rec)
					return
				}
				if rotated, _ := body["refresh_token"].(string); rotated != "" {
					e.rtMu.Lock()
					e.currentRT[sent] = rotated
					e.rtMu.Unlock()
				}
				delete(body, "refresh_token")
				w.Header().Set("Content-Type", "application/json")
				json.NewEncoder(w).Encode(body)
				return
			}
		case r.URL.Path == "/.well-known/openid-configuration" && hideEndSession:
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			var doc map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			delete(doc, "end_session_endpoint")
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(doc)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// isRefreshGrant reads the form of a token request, leaving it for the IdP.
func isRefreshGrant(r *http.Request) bool {
	body, err := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	form, _ := url.ParseQuery(string(body))
	return err == nil && form.Get("grant_type") == "refresh_token"
}

// holdNextRefresh stops the next refresh grant at the IdP until release is
// called (at the latest when the test ends, before the servers close).
func (e *env) holdNextRefresh(t *testing.T) (entered <-chan struct{}, release func()) {
	h := &hold{entered: make(chan struct{}), release: make(chan struct{})}
	e.holdRefresh.Store(h)
	var once sync.Once
	release = func() { once.Do(func() { close(h.release) }) }
	t.Cleanup(release)
	return h.entered, release
}

// heldBody stops the first read of a request body until the test
// releases it: by then the web client has loaded the request's session.
type heldBody struct {
	io.ReadCloser
	h    *hold
	once sync.Once
}

func (b *heldBody) Read(p []byte) (int, error) {
	b.once.Do(func() {
		close(b.h.entered)
		<-b.h.release
	})
	return b.ReadCloser.Read(p)
}

type holdPoint = atomic.Pointer[hold]

// holdNext stops the next request at p (e.holdAPI or e.holdBody) until
// release is called (at the latest when the test ends).
func holdNext(t *testing.T, p *atomic.Pointer[hold]) (entered <-chan struct{}, release func()) {
	h := &hold{entered: make(chan struct{}), release: make(chan struct{})}
	p.Store(h)
	var once sync.Once
	release = func() { once.Do(func() { close(h.release) }) }
	t.Cleanup(release)
	return h.entered, release
}

// consoleList presses "list" on the console as browser, following no
// redirect, and returns the status (0 if the request failed). Unlike
// e.post it may run on any goroutine.
func (e *env) consoleList(ctx context.Context, browser *http.Client, csrf string) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.webURL+"/console",
		strings.NewReader(url.Values{"action": {"list"}, "csrf": {csrf}}.Encode()))
	if err != nil {
		return 0
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	c := *browser
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// get fetches a page of the web client without following redirects.
func (e *env) get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	return e.do(t, http.MethodGet, path, nil)
}

// post sends a form to the web client, as the browser would from one of
// its pages (same origin).
func (e *env) post(t *testing.T, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	return e.do(t, http.MethodPost, path, form)
}

func (e *env) do(t *testing.T, method, path string, form url.Values, headers ...string) (*http.Response, string) {
	t.Helper()
	target := path
	if !strings.HasPrefix(path, "http") {
		target = e.webURL + path
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	client := e.browser
	if strings.HasPrefix(target, e.webURL) {
		// Each step of the web client is checked: no redirect is followed.
		c := *e.browser
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		client = &c
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var authRequestIDRe = regexp.MustCompile(`name="authRequestID" value="([^"]+)"`)

// startSignIn clicks "Sign in" and signs in at the IdP, and returns the
// callback URL the IdP sends the browser to (not yet followed), with the
// response of /login that set the sign-in cookies.
func (e *env) startSignIn(t *testing.T, username string) (callbackURL string, login *http.Response) {
	t.Helper()
	login, _ = e.get(t, "/login")
	if login.StatusCode != http.StatusFound {
		t.Fatalf("/login: %d", login.StatusCode)
	}
	resp, body := e.do(t, http.MethodGet, login.Header.Get("Location"), nil)
	m := authRequestIDRe.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("the IdP's login page: %d %s", resp.StatusCode, body)
	}
	resp, body = e.do(t, http.MethodPost, e.issuer+"/login", url.Values{
		"authRequestID": {m[1]}, "username": {username}, "password": {username},
	})
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, e.webURL+"/callback?") {
		t.Fatalf("the IdP did not send the browser back to the callback: %d %q %s", resp.StatusCode, loc, body)
	}
	return loc, login
}

// signIn signs username in (the demo users' passwords are their names).
func (e *env) signIn(t *testing.T, username string) {
	t.Helper()
	callback, _ := e.startSignIn(t, username)
	resp, body := e.get(t, callback)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("callback: %d %q %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the CSRF token of the signed-in session, read from a page.
func (e *env) csrf(t *testing.T) string {
	t.Helper()
	resp, body := e.get(t, "/console")
	m := csrfRe.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("no CSRF token on /console: %d", resp.StatusCode)
	}
	return m[1]
}

// callAPI presses a button of the API console.
func (e *env) callAPI(t *testing.T, action string, fields ...string) (*http.Response, string) {
	t.Helper()
	form := url.Values{"action": {action}, "csrf": {e.csrf(t)}}
	for i := 0; i+1 < len(fields); i += 2 {
		form.Set(fields[i], fields[i+1])
	}
	return e.post(t, "/console", form)
}

// sessionCookie is the browser's session cookie, if it has one.
func (e *env) sessionCookie() *http.Cookie {
	u, _ := url.Parse(e.webURL)
	for _, c := range e.jar.Cookies(u) {
		if c.Name == "petstore_session" {
			return c
		}
	}
	return nil
}

// jwtRe finds anything shaped like a JWT.
var jwtRe = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+`)

// checkLogs fails a test whose logs hold a token.
func checkLogs(t *testing.T, logs string) {
	t.Helper()
	if jwtRe.MatchString(logs) {
		t.Errorf("a token was logged:\n%s", logs)
	}
}

func wantRedirect(t *testing.T, resp *http.Response, status int, location string) {
	t.Helper()
	if resp.StatusCode != status || resp.Header.Get("Location") != location {
		t.Fatalf("got %d to %q, want %d to %q", resp.StatusCode, resp.Header.Get("Location"), status, location)
	}
}

func newLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewJSONHandler(w, nil)) }
