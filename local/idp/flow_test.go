package idp_test

import (
	"encoding/json"
	"log"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/example/petstore-oidc/local/idp"
)

// A browserless login with authorization code + PKCE ends with an access
// token for the API, an ID token for the client and a refresh token; the
// refresh token rotates; userinfo answers. bob asking for pets:write gets
// pets:read only.
func TestAuthorizationCodeFlow(t *testing.T) {
	e := startIDP(t)
	tests := []struct {
		user, password string
		wantScopes     []string
		wantNotScopes  []string
		name, email    string
	}{
		{"alice", "alice", []string{"pets:read", "pets:write", "openid"}, nil, "Alice Example", "alice@example.com"},
		{"bob", "bob", []string{"pets:read", "openid"}, []string{"pets:write"}, "Bob Example", "bob@example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			t.Parallel()
			code := e.login(t, tt.user, tt.password, allScopes, testCodeVerifier)
			tr := e.exchangeCode(t, code, testCodeVerifier)
			wantTokens(t, tr, true, true)
			if tr.ExpiresIn <= 0 || tr.ExpiresIn > int(idp.DefaultAccessTokenTTL.Seconds()) {
				t.Errorf("expires_in = %d, want at most %v", tr.ExpiresIn, idp.DefaultAccessTokenTTL)
			}
			checkScopes(t, "token response scope", tr.Scope, tt.wantScopes, tt.wantNotScopes)

			// The access token: for the API, RS256 with a kid, the claims the authorizer reads.
			at := e.verifyJWT(t, tr.AccessToken, testAudience)
			wantClaim(t, at, "sub", tt.user)
			wantClaim(t, at, "client_id", idp.WebClientID)
			scope, _ := at["scope"].(string)
			checkScopes(t, "access token scope", scope, tt.wantScopes, tt.wantNotScopes)
			for _, claim := range []string{"jti", "iat", "exp"} {
				if at[claim] == nil {
					t.Errorf("access token has no %s", claim)
				}
			}
			if lifetime := at["exp"].(float64) - at["iat"].(float64); lifetime > idp.DefaultAccessTokenTTL.Seconds() {
				t.Errorf("access token lives %vs, want at most %v", lifetime, idp.DefaultAccessTokenTTL)
			}
			if header := jwtHeader(t, tr.AccessToken); header["kid"] == "" || header["alg"] != "RS256" {
				t.Errorf("access token header %v: want alg RS256 and a kid", header)
			}

			// The ID token: for the client alone, with the nonce and the user's claims.
			id := e.verifyJWT(t, tr.IDToken, idp.WebClientID)
			if aud, _ := id.GetAudience(); !slices.Equal(aud, []string{idp.WebClientID}) {
				t.Errorf("ID token aud = %v, want exactly [%s]", aud, idp.WebClientID)
			}
			wantClaim(t, id, "sub", tt.user)
			wantClaim(t, id, "nonce", testNonce)
			wantClaim(t, id, "name", tt.name)
			wantClaim(t, id, "email", tt.email)

			// userinfo, with the access token.
			info := e.userinfo(t, tr.AccessToken, http.StatusOK)
			if info["sub"] != tt.user || info["name"] != tt.name || info["email"] != tt.email {
				t.Errorf("userinfo = %v", info)
			}

			// Refresh: new tokens, same grant; the used refresh token stops working.
			refreshed := e.refresh(t, tr.RefreshToken)
			wantTokens(t, refreshed, true, true)
			if refreshed.RefreshToken == tr.RefreshToken || refreshed.AccessToken == tr.AccessToken {
				t.Error("refresh returned the same tokens")
			}
			at2 := e.verifyJWT(t, refreshed.AccessToken, testAudience)
			wantClaim(t, at2, "sub", tt.user)
			wantClaim(t, at2, "scope", scope)
			if at2["jti"] == at["jti"] {
				t.Error("refreshed access token has the same jti")
			}
			wantError(t, e.refresh(t, tr.RefreshToken), http.StatusBadRequest, "invalid_grant")
			wantTokens(t, e.refresh(t, refreshed.RefreshToken), true, true)
		})
	}
}

// A refresh may ask for fewer scopes: that access token is narrowed, the
// grant is not.
func TestRefreshNarrowsScopes(t *testing.T) {
	e := startIDP(t)
	tr := e.exchangeCode(t, e.login(t, "alice", "alice", allScopes, testCodeVerifier), testCodeVerifier)
	wantTokens(t, tr, true, true)

	narrow := e.token(t, url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken},
		"client_id": {idp.WebClientID}, "scope": {"openid pets:read"},
	}, idp.WebClientID, "")
	wantTokens(t, narrow, true, true)
	wantClaim(t, e.verifyJWT(t, narrow.AccessToken, testAudience), "scope", "openid pets:read")

	full := e.refresh(t, narrow.RefreshToken)
	wantTokens(t, full, true, true)
	scope, _ := e.verifyJWT(t, full.AccessToken, testAudience)["scope"].(string)
	checkScopes(t, "scope after a narrowed refresh", scope, []string{"pets:read", "pets:write"}, nil)

	more := e.token(t, url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {full.RefreshToken},
		"client_id": {idp.WebClientID}, "scope": {"pets:read pets:admin"},
	}, idp.WebClientID, "")
	wantError(t, more, http.StatusBadRequest, "invalid_scope")
}

// Without offline_access there is no refresh token, without openid no ID
// token (plain OAuth), and the access token still works.
func TestScopesDecideTheTokens(t *testing.T) {
	e := startIDP(t)
	tests := []struct {
		scope                 string
		wantID, wantRefresh   bool
		wantAccessTokenScopes string
	}{
		{"openid pets:read", true, false, "openid pets:read"},
		{"pets:read pets:write", false, false, "pets:read pets:write"},
		{"openid offline_access pets:unknown pets:read", true, true, "openid offline_access pets:read"},
	}
	for _, tt := range tests {
		t.Run(tt.scope, func(t *testing.T) {
			t.Parallel()
			tr := e.exchangeCode(t, e.login(t, "alice", "alice", tt.scope, testCodeVerifier), testCodeVerifier)
			wantTokens(t, tr, tt.wantID, tt.wantRefresh)
			wantClaim(t, e.verifyJWT(t, tr.AccessToken, testAudience), "scope", tt.wantAccessTokenScopes)
		})
	}
}

// The code exchange refuses what RFC 6749 and RFC 7636 refuse.
func TestCodeExchangeRefused(t *testing.T) {
	e := startIDP(t)
	tests := []struct {
		name       string
		exchange   func(t *testing.T, code string) tokenResponse
		wantStatus int
		wantError  string
	}{
		{"wrong code_verifier", func(t *testing.T, code string) tokenResponse {
			return e.exchangeCode(t, code, otherCodeVerifier)
		}, http.StatusBadRequest, "invalid_grant"},
		{"no code_verifier", func(t *testing.T, code string) tokenResponse {
			return e.exchangeCode(t, code, "")
		}, http.StatusBadRequest, "invalid_request"},
		{"reused code", func(t *testing.T, code string) tokenResponse {
			wantTokens(t, e.exchangeCode(t, code, testCodeVerifier), true, true)
			return e.exchangeCode(t, code, testCodeVerifier)
		}, http.StatusBadRequest, "invalid_grant"},
		{"code spent by a failed attempt", func(t *testing.T, code string) tokenResponse {
			wantError(t, e.exchangeCode(t, code, otherCodeVerifier), http.StatusBadRequest, "invalid_grant")
			return e.exchangeCode(t, code, testCodeVerifier)
		}, http.StatusBadRequest, "invalid_grant"},
		{"unknown code", func(t *testing.T, _ string) tokenResponse {
			return e.exchangeCode(t, "not-a-code", testCodeVerifier)
		}, http.StatusBadRequest, "invalid_grant"},
		{"other redirect_uri", func(t *testing.T, code string) tokenResponse {
			return e.token(t, url.Values{
				"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {testCodeVerifier},
				"redirect_uri": {"http://localhost:8080/other"}, "client_id": {idp.WebClientID},
			}, idp.WebClientID, "")
		}, http.StatusBadRequest, "invalid_grant"},
		{"code of another client", func(t *testing.T, code string) tokenResponse {
			return e.token(t, url.Values{
				"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {testCodeVerifier},
				"redirect_uri": {webRedirectURI},
			}, idp.M2MClientID, idp.M2MClientSecret)
		}, http.StatusBadRequest, "unauthorized_client"},
		{"unknown client", func(t *testing.T, code string) tokenResponse {
			return e.token(t, url.Values{
				"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {testCodeVerifier},
				"redirect_uri": {webRedirectURI}, "client_id": {"nobody"},
			}, "nobody", "")
		}, http.StatusUnauthorized, "invalid_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code := e.login(t, "alice", "alice", allScopes, testCodeVerifier)
			wantError(t, tt.exchange(t, code), tt.wantStatus, tt.wantError)
		})
	}
}

// A replayed code also revokes the refresh token its first use gave
// (RFC 6749 4.1.2): one of the two callers is an attacker.
func TestReplayedCodeRevokesRefreshToken(t *testing.T) {
	e := startIDP(t)
	code := e.login(t, "alice", "alice", allScopes, testCodeVerifier)
	first := e.exchangeCode(t, code, testCodeVerifier)
	wantTokens(t, first, true, true)

	wantError(t, e.exchangeCode(t, code, testCodeVerifier), http.StatusBadRequest, "invalid_grant")
	wantError(t, e.refresh(t, first.RefreshToken), http.StatusBadRequest, "invalid_grant")
}

// Authorization requests: an unknown client or redirect URI gets an error
// page, never a redirect (no open redirect); other errors go back to the
// registered redirect URI with the state, and never with a code.
func TestAuthorizeRefused(t *testing.T) {
	e := startIDP(t)
	tests := []struct {
		name      string
		change    func(q url.Values)
		wantError string // "": an error page, no redirect
	}{
		{"unknown redirect_uri", func(q url.Values) { q.Set("redirect_uri", "https://evil.example/callback") }, ""},
		{"redirect_uri with another path", func(q url.Values) { q.Set("redirect_uri", webRedirectURI+"/x") }, ""},
		{"redirect_uri with another port", func(q url.Values) { q.Set("redirect_uri", "http://localhost:8081/callback") }, ""},
		{"redirect_uri with a query", func(q url.Values) { q.Set("redirect_uri", webRedirectURI+"?next=https://evil.example") }, ""},
		{"no redirect_uri", func(q url.Values) { q.Del("redirect_uri") }, ""},
		{"unknown client", func(q url.Values) { q.Set("client_id", "nobody") }, ""},
		{"machine client", func(q url.Values) { q.Set("client_id", idp.M2MClientID) }, ""},
		{"no code_challenge", func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }, "invalid_request"},
		{"plain code_challenge_method", func(q url.Values) { q.Set("code_challenge_method", "plain") }, "invalid_request"},
		{"prompt=none", func(q url.Values) { q.Set("prompt", "none") }, "login_required"},
		// op refuses implicit flows to http redirect URIs without redirecting.
		{"implicit flow", func(q url.Values) { q.Set("response_type", "id_token token") }, ""},
		{"no scope", func(q url.Values) { q.Del("scope") }, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := authorizeQuery(allScopes, testCodeVerifier)
			tt.change(q)
			resp, body := e.get(t, "/authorize?"+q.Encode())
			if tt.wantError == "" {
				if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" || resp.Request.URL.Path != "/authorize" {
					t.Fatalf("got %d at %s (Location %q), want a 400 error page and no redirect",
						resp.StatusCode, resp.Request.URL.Path, resp.Header.Get("Location"))
				}
				return
			}
			loc := redirectTo(t, resp, body, webRedirectURI).Query()
			if loc.Get("error") != tt.wantError || loc.Get("state") != testState || loc.Has("code") {
				t.Fatalf("redirect query %v, want error=%s with the state and no code", loc, tt.wantError)
			}
		})
	}
}

// A wrong password shows the form again with a message and issues no code;
// the request stays usable, so the right password then works.
func TestLoginRefusesWrongCredentials(t *testing.T) {
	e := startIDP(t)
	tests := []struct{ name, username, password string }{
		{"wrong password", "alice", "bob"},
		{"empty password", "alice", ""},
		{"unknown user", "mallory", "mallory"},
		{"password of another user", "bob", "alice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			id := e.openLoginPage(t, authorizeQuery(allScopes, testCodeVerifier))
			resp, body := e.submitLogin(t, id, tt.username, tt.password)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Location") != "" {
				t.Fatalf("status %d, Location %q: want the form again", resp.StatusCode, resp.Header.Get("Location"))
			}
			for _, want := range []string{"Wrong username or password", `name="authRequestID" value="` + id + `"`, "Development only"} {
				if !strings.Contains(body, want) {
					t.Errorf("page lacks %q", want)
				}
			}
			if strings.Contains(body, "code=") {
				t.Error("page mentions a code")
			}
			resp, body = e.submitLogin(t, id, "alice", "alice")
			redirectTo(t, resp, body, webRedirectURI)
		})
	}

	t.Run("unknown authorization request", func(t *testing.T) {
		resp, body := e.submitLogin(t, "no-such-request", "alice", "alice")
		if resp.StatusCode != http.StatusBadRequest || strings.Contains(body, `name="password"`) {
			t.Fatalf("status %d: want 400 and no form", resp.StatusCode)
		}
	})
	t.Run("completed authorization request", func(t *testing.T) {
		id := e.openLoginPage(t, authorizeQuery(allScopes, testCodeVerifier))
		resp, body := e.submitLogin(t, id, "alice", "alice")
		redirectTo(t, resp, body, webRedirectURI)
		if resp, _ := e.submitLogin(t, id, "bob", "bob"); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("second login on one request: status %d, want 400", resp.StatusCode)
		}
	})
}

// The login page names the demo users and says they are for development.
func TestLoginPage(t *testing.T) {
	e := startIDP(t)
	id := e.openLoginPage(t, authorizeQuery(allScopes, testCodeVerifier))
	resp, body := e.get(t, "/login?authRequestID="+url.QueryEscape(id))
	for _, want := range []string{"Development only", "never deploy it", "Demo users",
		"<code>alice</code>", "<code>bob</code>", "pets:write", idp.WebClientID, `type="password"`} {
		if !strings.Contains(body, want) {
			t.Errorf("login page lacks %q", want)
		}
	}
	if strings.Contains(body, "<script") {
		t.Error("login page has a script")
	}
	for header, want := range map[string]string{
		"Content-Type":    "text/html; charset=utf-8",
		"Cache-Control":   "no-store",
		"X-Frame-Options": "DENY",
	} {
		if got := resp.Header.Get(header); got != want {
			t.Errorf("%s = %q, want %q", header, got, want)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
}

// TestHomePage: the provider's address, which the README lists, says what
// it is (development only) and gives its discovery URL, its demo users and
// its clients, instead of a bare 404; other unknown paths stay 404.
func TestHomePage(t *testing.T) {
	e := startIDP(t)
	resp, body := e.get(t, "/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /: %d", resp.StatusCode)
	}
	for _, want := range []string{"Development only", "never deploy it",
		e.issuer + "/.well-known/openid-configuration", "<code>alice</code>", "<code>bob</code>", "pets:write",
		"<code>" + idp.WebClientID + "</code>", "<code>" + idp.M2MClientID + "</code>", idp.M2MClientSecret, "client_credentials"} {
		if !strings.Contains(body, want) {
			t.Errorf("the home page lacks %q", want)
		}
	}
	if strings.Contains(body, "<script") || strings.Contains(body, "<form") {
		t.Error("the home page has a script or a form")
	}
	if got := resp.Header.Get("Content-Security-Policy"); !strings.Contains(got, "default-src 'none'") {
		t.Errorf("Content-Security-Policy = %q", got)
	}
	if resp, _ := e.get(t, "/no-such-page"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /no-such-page: %d, want 404", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodPost, e.issuer+"/", nil)
	if resp, err := e.client.Do(req); err != nil || resp.StatusCode == http.StatusOK {
		t.Errorf("POST /: %v %v, want a refusal", resp, err)
	} else {
		resp.Body.Close()
	}
}

// Logout redirects only to a registered post_logout_redirect_uri, and with
// an id_token_hint revokes the user's refresh tokens.
func TestEndSession(t *testing.T) {
	e := startIDP(t)
	tests := []struct {
		name         string
		query        url.Values
		wantRedirect string // "": a 400 error, no redirect
	}{
		{"registered URI", url.Values{"client_id": {idp.WebClientID}, "post_logout_redirect_uri": {webPostLogoutURI}, "state": {"s1"}}, webPostLogoutURI + "?state=s1"},
		{"unregistered URI", url.Values{"client_id": {idp.WebClientID}, "post_logout_redirect_uri": {"https://evil.example/"}}, ""},
		{"registered URI with a suffix", url.Values{"client_id": {idp.WebClientID}, "post_logout_redirect_uri": {webPostLogoutURI + "x"}}, ""},
		{"URI without a client", url.Values{"post_logout_redirect_uri": {"https://evil.example/"}}, "/logged-out"},
		{"unknown client", url.Values{"client_id": {"nobody"}, "post_logout_redirect_uri": {webPostLogoutURI}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := e.endSession(t, tt.query)
			loc := resp.Header.Get("Location")
			if tt.wantRedirect == "" {
				if resp.StatusCode != http.StatusBadRequest || loc != "" {
					t.Fatalf("status %d, Location %q: want 400 and no redirect", resp.StatusCode, loc)
				}
				return
			}
			if resp.StatusCode != http.StatusFound || loc != tt.wantRedirect {
				t.Fatalf("status %d, Location %q: want a redirect to %s", resp.StatusCode, loc, tt.wantRedirect)
			}
		})
	}

	t.Run("id_token_hint revokes the refresh token", func(t *testing.T) {
		tr := e.exchangeCode(t, e.login(t, "alice", "alice", allScopes, testCodeVerifier), testCodeVerifier)
		wantTokens(t, tr, true, true)
		resp := e.endSession(t, url.Values{"id_token_hint": {tr.IDToken}, "post_logout_redirect_uri": {webPostLogoutURI}})
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != webPostLogoutURI {
			t.Fatalf("status %d, Location %q", resp.StatusCode, loc)
		}
		wantError(t, e.refresh(t, tr.RefreshToken), http.StatusBadRequest, "invalid_grant")
	})

	t.Run("logged-out page", func(t *testing.T) {
		resp, body := e.get(t, "/logged-out")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Signed out") || !strings.Contains(body, "Development only") {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
	})
}

// userinfo needs a recorded access token with the openid scope.
func TestUserinfoRefused(t *testing.T) {
	e := startIDP(t)
	tr := e.exchangeCode(t, e.login(t, "alice", "alice", allScopes, testCodeVerifier), testCodeVerifier)
	wantTokens(t, tr, true, true)
	m2m := e.clientCredentials(t, idp.M2MClientSecret, "")
	wantTokens(t, m2m, false, false)

	tests := []struct {
		name, token string
		wantStatus  int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"garbage", "not-a-token", http.StatusUnauthorized},
		{"ID token", tr.IDToken, http.StatusForbidden},
		{"machine token", m2m.AccessToken, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.userinfo(t, tt.token, tt.wantStatus)
		})
	}
}

// Discovery names this provider's endpoints; the JWKS holds one RS256 key.
func TestDiscoveryAndKeys(t *testing.T) {
	e := startIDP(t)
	resp, body := e.get(t, "/.well-known/openid-configuration")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("discovery: %d", resp.StatusCode)
	}
	var d map[string]any
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatal(err)
	}
	for field, want := range map[string]string{
		"issuer":                 e.issuer,
		"authorization_endpoint": e.issuer + "/authorize",
		"token_endpoint":         e.issuer + "/oauth/token",
		"userinfo_endpoint":      e.issuer + "/userinfo",
		"end_session_endpoint":   e.issuer + "/end_session",
		"revocation_endpoint":    e.issuer + "/revoke",
		"jwks_uri":               e.issuer + "/keys",
	} {
		if d[field] != want {
			t.Errorf("%s = %v, want %s", field, d[field], want)
		}
	}
	for field, want := range map[string]string{
		"code_challenge_methods_supported":      "S256",
		"scopes_supported":                      "pets:write",
		"grant_types_supported":                 "client_credentials",
		"id_token_signing_alg_values_supported": "RS256",
	} {
		if list, _ := d[field].([]any); !slices.Contains(list, any(want)) {
			t.Errorf("%s = %v, want it to contain %s", field, d[field], want)
		}
	}
	if d["introspection_endpoint"] != nil {
		t.Errorf("introspection_endpoint = %v, want none", d["introspection_endpoint"])
	}

	_, body = e.get(t, "/keys")
	var jwks struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal([]byte(body), &jwks); err != nil {
		t.Fatal(err)
	}
	if len(jwks.Keys) != 1 {
		t.Fatalf("JWKS has %d keys, want 1", len(jwks.Keys))
	}
	k := jwks.Keys[0]
	if k["kty"] != "RSA" || k["alg"] != "RS256" || k["use"] != "sig" || k["kid"] == "" || k["d"] != nil {
		t.Errorf("JWKS key %v: want a public RS256 signing key with a kid", k)
	}
}

// Logs say who got what, but never hold a token, a code, a password or a
// client secret.
func TestLogsHoldNoSecrets(t *testing.T) {
	e := startIDP(t)
	// zitadel logs to slog.Default: check its lines too. (No test runs in
	// parallel with this one.)
	prevLogger, prevWriter, prevFlags := slog.Default(), log.Writer(), log.Flags()
	slog.SetDefault(slog.New(slog.NewJSONHandler(e.logs, nil)))
	t.Cleanup(func() {
		slog.SetDefault(prevLogger)
		log.SetOutput(prevWriter)
		log.SetFlags(prevFlags)
	})
	const wrongPassword = "not-the-password-7f3e"
	id := e.openLoginPage(t, authorizeQuery(allScopes, testCodeVerifier))
	e.submitLogin(t, id, "alice", wrongPassword)
	resp, body := e.submitLogin(t, id, "alice", "alice")
	code := redirectTo(t, resp, body, webRedirectURI).Query().Get("code")
	tr := e.exchangeCode(t, code, testCodeVerifier)
	wantTokens(t, tr, true, true)
	refreshed := e.refresh(t, tr.RefreshToken)
	m2m := e.clientCredentials(t, idp.M2MClientSecret, "")
	e.clientCredentials(t, "wrong-secret-5d1c", "")

	logs := e.logs.String()
	for name, secret := range map[string]string{
		"code": code, "access token": tr.AccessToken, "ID token": tr.IDToken, "refresh token": tr.RefreshToken,
		"rotated refresh token": refreshed.RefreshToken, "machine token": m2m.AccessToken,
		"wrong password": wrongPassword, "client secret": idp.M2MClientSecret, "wrong client secret": "wrong-secret-5d1c",
		"code_verifier": testCodeVerifier,
	} {
		if secret == "" {
			t.Fatalf("%s is empty", name)
		}
		if strings.Contains(logs, secret) {
			t.Errorf("the logs contain the %s", name)
		}
	}
	for _, want := range []string{`"msg":"request error"`, `"msg":"login","outcome":"wrong_credentials"`, `"msg":"login","outcome":"ok"`,
		`"msg":"access token issued"`, `"grant_type":"refresh_token"`, `"msg":"client authentication failed"`, `"msg":"idp request"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("the logs lack %s", want)
		}
	}
}

// userinfo calls the userinfo endpoint and decodes its JSON answer.
func (e *testIDP) userinfo(t *testing.T, accessToken string, wantStatus int) map[string]any {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.issuer+"/userinfo", nil)
	if err != nil {
		t.Fatal(err)
	}
	if accessToken != "" {
		req.Header.Set("Authorization", "Bearer "+accessToken)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, resp)
	if resp.StatusCode != wantStatus {
		t.Fatalf("userinfo: status %d, want %d: %s", resp.StatusCode, wantStatus, body)
	}
	var info map[string]any
	if err := json.Unmarshal([]byte(body), &info); err != nil {
		t.Fatalf("userinfo: %v: %s", err, body)
	}
	return info
}

// endSession calls end_session without following its redirect.
func (e *testIDP) endSession(t *testing.T, q url.Values) *http.Response {
	t.Helper()
	client := *e.client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Get(e.issuer + "/end_session?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	return resp
}

func wantClaim(t *testing.T, claims jwt.MapClaims, name, want string) {
	t.Helper()
	if got, _ := claims[name].(string); got != want {
		t.Errorf("claim %s = %v, want %q", name, claims[name], want)
	}
}

func checkScopes(t *testing.T, what, scope string, want, wantNot []string) {
	t.Helper()
	got := strings.Fields(scope)
	for _, s := range want {
		if !slices.Contains(got, s) {
			t.Errorf("%s %q lacks %s", what, scope, s)
		}
	}
	for _, s := range wantNot {
		if slices.Contains(got, s) {
			t.Errorf("%s %q has %s", what, scope, s)
		}
	}
}

func jwtHeader(t *testing.T, token string) map[string]string {
	t.Helper()
	tok, _, err := jwt.NewParser().ParseUnverified(token, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	h := map[string]string{}
	for k, v := range tok.Header {
		if s, ok := v.(string); ok {
			h[k] = s
		}
	}
	return h
}

// Revocation (RFC 7009): a client revokes its own tokens; another client
// cannot; an unknown token is not an error.
func TestRevocation(t *testing.T) {
	e := startIDP(t)
	tr := e.exchangeCode(t, e.login(t, "alice", "alice", allScopes, testCodeVerifier), testCodeVerifier)
	wantTokens(t, tr, true, true)

	e.revoke(t, url.Values{"token": {tr.RefreshToken}}, idp.M2MClientID, idp.M2MClientSecret, http.StatusUnauthorized)
	refreshed := e.refresh(t, tr.RefreshToken) // another client could not revoke it
	wantTokens(t, refreshed, true, true)

	e.revoke(t, url.Values{"token": {"no-such-token"}, "client_id": {idp.WebClientID}}, idp.WebClientID, "", http.StatusOK)
	e.revoke(t, url.Values{"token": {refreshed.RefreshToken}, "client_id": {idp.WebClientID}}, idp.WebClientID, "", http.StatusOK)
	wantError(t, e.refresh(t, refreshed.RefreshToken), http.StatusBadRequest, "invalid_grant")

	// An access token: userinfo stops accepting it (the API accepts the JWT until it expires).
	e.userinfo(t, refreshed.AccessToken, http.StatusOK)
	e.revoke(t, url.Values{"token": {refreshed.AccessToken}, "token_type_hint": {"access_token"}, "client_id": {idp.WebClientID}}, idp.WebClientID, "", http.StatusOK)
	e.userinfo(t, refreshed.AccessToken, http.StatusForbidden)
}

// revoke posts to the revocation endpoint; a non-empty secret goes in HTTP Basic.
func (e *testIDP) revoke(t *testing.T, form url.Values, clientID, secret string, wantStatus int) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.issuer+"/revoke", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if secret != "" {
		req.SetBasicAuth(clientID, secret)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, resp); resp.StatusCode != wantStatus {
		t.Fatalf("revoke: status %d, want %d: %s", resp.StatusCode, wantStatus, body)
	}
}

// A code and a refresh token work once even when redeemed concurrently.
func TestConcurrentRedemptionWorksOnce(t *testing.T) {
	e := startIDP(t)
	tests := []struct {
		name string
		form func(t *testing.T) url.Values // the form all the goroutines post
	}{
		{"code", func(t *testing.T) url.Values {
			return codeForm(e.login(t, "alice", "alice", allScopes, testCodeVerifier), testCodeVerifier)
		}},
		{"refresh token", func(t *testing.T) url.Values {
			return refreshForm(e.exchangeCode(t, e.login(t, "alice", "alice", allScopes, testCodeVerifier), testCodeVerifier).RefreshToken)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := tt.form(t)
			results := make(chan tokenResponse, 8)
			errs := make(chan error, cap(results))
			var wg sync.WaitGroup
			for range cap(results) {
				wg.Go(func() {
					tr, err := e.tryToken(form, idp.WebClientID, "")
					if err != nil {
						errs <- err
						return
					}
					results <- tr
				})
			}
			wg.Wait()
			close(results)
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			succeeded := 0
			for tr := range results {
				if tr.status == http.StatusOK {
					succeeded++
				} else if tr.Error != "invalid_grant" {
					t.Errorf("refusal %d %q, want invalid_grant", tr.status, tr.Error)
				}
			}
			if succeeded != 1 {
				t.Errorf("%d of %d concurrent redemptions succeeded, want 1", succeeded, cap(results))
			}
		})
	}
}
