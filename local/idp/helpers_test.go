package idp_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/example/petstore-oidc/internal/testlog"
	"github.com/example/petstore-oidc/local/idp"
)

// The client configuration of the tests, as cmd/local would pass it.
const (
	testAudience      = "https://petstore.example.com"
	webRedirectURI    = "http://localhost:8080/callback"
	webPostLogoutURI  = "http://localhost:8080/"
	allScopes         = "openid profile email offline_access pets:read pets:write"
	testState         = "state-5f2a"
	testNonce         = "nonce-91c7"
	testCodeVerifier  = "verifier-0123456789-0123456789-0123456789-0123456789"
	otherCodeVerifier = "verifier-9876543210-9876543210-9876543210-9876543210"
)

// testIDP is a provider on 127.0.0.1 (a free port), driven over HTTP like
// a browser with a cookie jar that stops at the first redirect leaving the
// provider (to the web client, which is not running).
type testIDP struct {
	issuer string
	client *http.Client
	logs   *testlog.Buffer
}

func startIDP(t *testing.T, changes ...func(*idp.Config)) *testIDP {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	logs := &testlog.Buffer{}
	cfg := idp.Config{
		Issuer:                    issuer,
		Audience:                  testAudience,
		WebRedirectURIs:           []string{webRedirectURI},
		WebPostLogoutRedirectURIs: []string{webPostLogoutURI},
		Logger:                    slog.New(slog.NewJSONHandler(logs, nil)),
	}
	for _, change := range changes {
		change(&cfg)
	}
	p, err := idp.New(cfg)
	if err != nil {
		t.Fatalf("idp.New: %v", err)
	}
	srv.Config.Handler = p.Handler()
	srv.Start()
	t.Cleanup(srv.Close)

	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	host := srv.Listener.Addr().String()
	client := &http.Client{
		Jar:     jar,
		Timeout: 10 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host != host || len(via) >= 10 {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
	return &testIDP{issuer: issuer, client: client, logs: logs}
}

// authorizeQuery is the web client's authorization request, with PKCE.
func authorizeQuery(scope, verifier string) url.Values {
	return url.Values{
		"client_id":             {idp.WebClientID},
		"redirect_uri":          {webRedirectURI},
		"response_type":         {"code"},
		"scope":                 {scope},
		"state":                 {testState},
		"nonce":                 {testNonce},
		"code_challenge":        {s256(verifier)},
		"code_challenge_method": {"S256"},
	}
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// get fetches a path of the provider (following its own redirects) and
// returns the last response with its body read.
func (e *testIDP) get(t *testing.T, pathAndQuery string) (*http.Response, string) {
	t.Helper()
	resp, err := e.client.Get(e.issuer + pathAndQuery)
	if err != nil {
		t.Fatalf("GET %s: %v", pathAndQuery, err)
	}
	return resp, readBody(t, resp)
}

// openLoginPage sends an authorization request and expects the login page.
func (e *testIDP) openLoginPage(t *testing.T, q url.Values) (authRequestID string) {
	t.Helper()
	resp, body := e.get(t, "/authorize?"+q.Encode())
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/login" {
		t.Fatalf("authorize ended at %s with %d, want the login page: %s", resp.Request.URL, resp.StatusCode, body)
	}
	id := resp.Request.URL.Query().Get("authRequestID")
	if id == "" {
		t.Fatalf("login page URL %s has no authRequestID", resp.Request.URL)
	}
	return id
}

// submitLogin posts the login form.
func (e *testIDP) submitLogin(t *testing.T, authRequestID, username, password string) (*http.Response, string) {
	t.Helper()
	resp, err := e.client.PostForm(e.issuer+"/login", url.Values{
		"authRequestID": {authRequestID}, "username": {username}, "password": {password},
	})
	if err != nil {
		t.Fatalf("POST /login: %v", err)
	}
	return resp, readBody(t, resp)
}

// login runs authorize, the login form and op's callback, and returns the
// code the provider sends to the web client's redirect URI.
func (e *testIDP) login(t *testing.T, username, password, scope, verifier string) string {
	t.Helper()
	id := e.openLoginPage(t, authorizeQuery(scope, verifier))
	resp, body := e.submitLogin(t, id, username, password)
	redirect := redirectTo(t, resp, body, webRedirectURI)
	if got := redirect.Query().Get("state"); got != testState {
		t.Fatalf("state = %q, want %q", got, testState)
	}
	code := redirect.Query().Get("code")
	if code == "" {
		t.Fatalf("redirect %s has no code", redirect.Redacted())
	}
	return code
}

// redirectTo checks that resp redirects to the URI (query aside).
func redirectTo(t *testing.T, resp *http.Response, body, uri string) *url.URL {
	t.Helper()
	if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d, want a redirect to %s: %s", resp.StatusCode, uri, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := (&url.URL{Scheme: loc.Scheme, Host: loc.Host, Path: loc.Path}).String(); got != uri {
		t.Fatalf("redirect to %s, want %s", got, uri)
	}
	return loc
}

// tokenResponse is the token endpoint's answer, success or error.
type tokenResponse struct {
	AccessToken      string `json:"access_token"`
	IDToken          string `json:"id_token"`
	RefreshToken     string `json:"refresh_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int    `json:"expires_in"`
	Scope            string `json:"scope"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`

	status int
}

// token posts to the token endpoint; a non-empty secret goes in HTTP Basic.
func (e *testIDP) token(t *testing.T, form url.Values, clientID, secret string) tokenResponse {
	t.Helper()
	tr, err := e.tryToken(form, clientID, secret)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// tryToken is token for goroutines other than the test's, which must not
// call t.Fatal.
func (e *testIDP) tryToken(form url.Values, clientID, secret string) (tokenResponse, error) {
	req, err := http.NewRequest(http.MethodPost, e.issuer+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		return tokenResponse{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if secret != "" {
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return tokenResponse{}, fmt.Errorf("POST /oauth/token: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return tokenResponse{}, fmt.Errorf("POST /oauth/token: %w", err)
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return tokenResponse{}, fmt.Errorf("token response %d is not JSON: %s", resp.StatusCode, body)
	}
	tr.status = resp.StatusCode
	return tr, nil
}

func codeForm(code, verifier string) url.Values {
	form := url.Values{
		"grant_type":   {"authorization_code"},
		"code":         {code},
		"redirect_uri": {webRedirectURI},
		"client_id":    {idp.WebClientID},
	}
	if verifier != "" {
		form.Set("code_verifier", verifier)
	}
	return form
}

func refreshForm(refreshToken string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}, "client_id": {idp.WebClientID}}
}

// exchangeCode is the web client's code exchange (a public client: its
// client_id in the form, no secret).
func (e *testIDP) exchangeCode(t *testing.T, code, verifier string) tokenResponse {
	t.Helper()
	return e.token(t, codeForm(code, verifier), idp.WebClientID, "")
}

func (e *testIDP) refresh(t *testing.T, refreshToken string) tokenResponse {
	t.Helper()
	return e.token(t, refreshForm(refreshToken), idp.WebClientID, "")
}

// clientCredentials asks for a machine token; scope "" sends none.
func (e *testIDP) clientCredentials(t *testing.T, secret, scope string) tokenResponse {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	if scope != "" {
		form.Set("scope", scope)
	}
	return e.token(t, form, idp.M2MClientID, secret)
}

// wantTokens fails unless tr is a success with the named tokens.
func wantTokens(t *testing.T, tr tokenResponse, idToken, refreshToken bool) {
	t.Helper()
	if tr.status != http.StatusOK || tr.AccessToken == "" || tr.TokenType != "Bearer" {
		t.Fatalf("token response %d: %q %q", tr.status, tr.Error, tr.ErrorDescription)
	}
	if (tr.IDToken != "") != idToken || (tr.RefreshToken != "") != refreshToken {
		t.Fatalf("id_token present %v (want %v), refresh_token present %v (want %v)",
			tr.IDToken != "", idToken, tr.RefreshToken != "", refreshToken)
	}
}

// wantError fails unless tr is the OAuth error with that status.
func wantError(t *testing.T, tr tokenResponse, status int, code string) {
	t.Helper()
	if tr.status != status || tr.Error != code || tr.AccessToken != "" {
		t.Fatalf("got %d %q (%s), want %d %q", tr.status, tr.Error, tr.ErrorDescription, status, code)
	}
}

// verifyJWT checks a token's signature with the provider's JWKS, its iss,
// exp and aud, independently of zitadel (golang-jwt), and returns its claims.
func (e *testIDP) verifyJWT(t *testing.T, token, audience string) jwt.MapClaims {
	t.Helper()
	_, body := e.get(t, "/keys")
	var jwks jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(body), &jwks); err != nil {
		t.Fatalf("JWKS: %v: %s", err, body)
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		keys := jwks.Key(kid)
		if len(keys) != 1 {
			t.Fatalf("kid %q: %d keys in the JWKS", kid, len(keys))
		}
		return keys[0].Key, nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(e.issuer), jwt.WithAudience(audience),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	if err != nil {
		t.Fatalf("token does not verify: %v", err)
	}
	return claims
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
