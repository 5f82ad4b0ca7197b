package webclient_test

import (
	"cmp"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/example/petstore-oidc/local/idp"
	"github.com/example/petstore-oidc/webclient"
	"github.com/golang-jwt/jwt/v5"
)

// idTokenEdits are ways to spoil an ID token: each changes its claims and
// names the key that signs it (see env.editIDToken).
var idTokenEdits = map[string]func(jwt.MapClaims) string{
	"signed by another key":  func(jwt.MapClaims) string { return "attacker" },
	"unsigned (alg none)":    func(jwt.MapClaims) string { return "none" },
	"for another audience":   func(c jwt.MapClaims) string { c["aud"] = "another-client"; return "" },
	"from another issuer":    func(c jwt.MapClaims) string { c["iss"] = "https://impostor.example.com"; return "" },
	"expired":                func(c jwt.MapClaims) string { c["exp"] = time.Now().Add(-time.Hour).Unix(); return "" },
	"without an expiry":      func(c jwt.MapClaims) string { delete(c, "exp"); return "" },
	"for another subject":    func(c jwt.MapClaims) string { c["sub"] = "mallory"; return "" },
	"nonce of another flow":  func(c jwt.MapClaims) string { c["nonce"] = "another-nonce"; return "" },
	"at_hash of another one": func(c jwt.MapClaims) string { c["at_hash"] = "AAAAAAAAAAAAAAAAAAAAAA"; return "" },
}

// The callback verifies the ID token (signature with the provider's keys,
// issuer, audience, expiry), then its nonce and at_hash: a token that fails
// any of them signs no one in.
func TestSignInVerifiesTheIDToken(t *testing.T) {
	const didNotVerify = "The ID token did not verify"
	tests := []struct {
		edit     string
		wantText string // empty: the sign-in succeeds
	}{
		{"", ""},
		{"for another subject", ""}, // a first sign-in may be anyone
		{"signed by another key", didNotVerify},
		{"unsigned (alg none)", didNotVerify},
		{"for another audience", didNotVerify},
		{"from another issuer", didNotVerify},
		{"expired", didNotVerify},
		{"without an expiry", didNotVerify},
		{"nonce of another flow", "nonce does not match"},
		{"at_hash of another one", "does not match the ID token"},
	}
	for _, tt := range tests {
		t.Run(cmp.Or(tt.edit, "as issued"), func(t *testing.T) {
			e := newEnv(t, envOptions{reissueIDTokens: true})
			if tt.edit != "" {
				edit := idTokenEdits[tt.edit]
				e.editIDToken.Store(&edit)
			}
			callback, _ := e.startSignIn(t, "alice")
			resp, body := e.get(t, callback)
			if e.reissued.Load() != 1 {
				t.Fatalf("%d ID tokens reissued, want 1", e.reissued.Load())
			}
			if tt.wantText == "" {
				wantRedirect(t, resp, http.StatusSeeOther, "/")
				if resp, _ := e.get(t, "/profile"); resp.StatusCode != http.StatusOK {
					t.Fatalf("not signed in: /profile answered %d", resp.StatusCode)
				}
				return
			}
			if resp.StatusCode < 400 || !strings.Contains(body, tt.wantText) {
				t.Fatalf("got %d, want a refusal with %q:\n%s", resp.StatusCode, tt.wantText, body)
			}
			if resp, _ := e.get(t, "/profile"); resp.StatusCode != http.StatusSeeOther {
				t.Errorf("a refused ID token signed the browser in: /profile answered %d", resp.StatusCode)
			}
		})
	}
}

// A refresh that returns an ID token which does not verify, or names
// another user, ends the session (OpenID Connect Core 12.2).
func TestRefreshVerifiesTheIDToken(t *testing.T) {
	for _, edit := range []string{"", "for another subject", "signed by another key", "unsigned (alg none)",
		"for another audience", "from another issuer", "expired", "without an expiry"} {
		t.Run(cmp.Or(edit, "as issued"), func(t *testing.T) {
			e := newEnv(t, envOptions{reissueIDTokens: true})
			e.signIn(t, "alice")
			csrf := e.csrf(t)
			if edit != "" {
				f := idTokenEdits[edit]
				e.editIDToken.Store(&f)
			}
			webclient.SetClock(e.app, func() time.Time { return time.Now().Add(idp.DefaultAccessTokenTTL + time.Minute) })
			resp, body := e.post(t, "/console", url.Values{"action": {"list"}, "csrf": {csrf}})
			if e.reissued.Load() != 2 {
				t.Fatalf("%d ID tokens reissued, want 2 (the refresh returned none)", e.reissued.Load())
			}
			webclient.SetClock(e.app, time.Now)
			if edit == "" {
				if resp.StatusCode != http.StatusOK || !strings.Contains(body, "200 OK") {
					t.Fatalf("console after the refresh: %d\n%s", resp.StatusCode, body)
				}
				return
			}
			wantRedirect(t, resp, http.StatusSeeOther, "/?notice=expired")
			if resp, _ := e.get(t, "/profile"); resp.StatusCode != http.StatusSeeOther {
				t.Errorf("still signed in after a refreshed ID token %s: /profile answered %d", edit, resp.StatusCode)
			}
		})
	}
}

// Requests of one session that find the access token expired at the same
// time spend its refresh token once; another session's refresh does not
// wait for theirs.
func TestConcurrentRefreshes(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.signIn(t, "alice")
	alice, aliceCSRF := e.browser, e.csrf(t)
	e.newBrowser()
	e.signIn(t, "bob")
	bobCSRF := e.csrf(t)
	calls := e.tokenCalls.Load()

	webclient.SetClock(e.app, func() time.Time { return time.Now().Add(idp.DefaultAccessTokenTTL + time.Minute) })
	defer webclient.SetClock(e.app, time.Now)
	entered, release := e.holdNextRefresh(t)

	// Two requests of alice's: the first one's refresh is held at the IdP.
	statuses := make(chan int, 2)
	consoleAs := func(browser *http.Client) { statuses <- e.consoleList(context.Background(), browser, aliceCSRF) }
	go consoleAs(alice)
	select {
	case <-entered:
	case <-time.After(5 * time.Second):
		t.Fatal("alice's refresh never reached the IdP")
	}
	go consoleAs(alice)

	// Bob's refresh goes through while alice's is held.
	bob := *e.browser
	bob.Timeout = 5 * time.Second
	e.browser = &bob
	resp, body := e.post(t, "/console", url.Values{"action": {"list"}, "csrf": {bobCSRF}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "200 OK") {
		t.Fatalf("bob's console while alice's refresh is held: %d\n%s", resp.StatusCode, body)
	}
	select {
	case s := <-statuses:
		t.Fatalf("a request of alice's ended (%d) before her refresh did", s)
	default:
	}

	time.Sleep(100 * time.Millisecond) // alice's second request joins the first's refresh, or finds it done
	release()
	for range 2 {
		if s := <-statuses; s != http.StatusOK {
			t.Errorf("alice's console: %d, want 200", s)
		}
	}
	if got := e.tokenCalls.Load() - calls; got != 2 {
		t.Errorf("%d refresh grants at the IdP, want 2: one for each session", got)
	}
}

// A refresh whose ID token is signed with a key the app has not fetched yet,
// while the provider's JWKS is down, is not a bad token: the session keeps
// the refreshed tokens (the refresh token is spent) and the ID token
// verified at sign-in. Only a token naming another user ends it, which
// needs no key to see.
func TestRefreshWhileTheKeysAreUnavailable(t *testing.T) {
	for _, tt := range []struct {
		name      string
		edit      func(jwt.MapClaims) string
		signedOut bool
	}{
		{"same user", func(jwt.MapClaims) string { return "key-b" }, false},
		{"another user", func(c jwt.MapClaims) string { c["sub"] = "mallory"; return "key-b" }, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{reissueIDTokens: true})
			e.signIn(t, "alice")
			csrf := e.csrf(t)
			e.callAPI(t, "list")
			before := e.lastBearer(t)
			e.keysDown.Store(true)
			e.editIDToken.Store(&tt.edit)
			webclient.SetClock(e.app, func() time.Time { return time.Now().Add(idp.DefaultAccessTokenTTL + time.Minute) })
			resp, body := e.post(t, "/console", url.Values{"action": {"list"}, "csrf": {csrf}})
			webclient.SetClock(e.app, time.Now)
			if e.reissued.Load() != 2 {
				t.Fatalf("%d ID tokens reissued, want 2", e.reissued.Load())
			}
			if tt.signedOut {
				wantRedirect(t, resp, http.StatusSeeOther, "/?notice=expired")
				return
			}
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, "200 OK") {
				t.Fatalf("console during the JWKS outage: %d\n%s", resp.StatusCode, body)
			}
			if e.lastBearer(t) == before {
				t.Error("the refreshed access token was not used")
			}
			if !strings.Contains(e.logs.String(), "refreshed ID token not verified") {
				t.Error("no warning that the refreshed ID token went unchecked")
			}
			if resp, body := e.get(t, "/profile"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "alice") {
				t.Errorf("profile after the refresh: %d", resp.StatusCode)
			}
		})
	}
}

// The first request to need a refresh may go away (its browser tab closed)
// while the refresh is under way: the refresh still ends, once, for the
// session's other requests.
func TestARefreshOutlivesTheRequestThatStartedIt(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.signIn(t, "alice")
	csrf := e.csrf(t)
	calls := e.tokenCalls.Load()
	webclient.SetClock(e.app, func() time.Time { return time.Now().Add(idp.DefaultAccessTokenTTL + time.Minute) })
	defer webclient.SetClock(e.app, time.Now)
	entered, release := e.holdNextRefresh(t)

	ctx, cancel := context.WithCancel(context.Background())
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		e.consoleList(ctx, e.browser, csrf)
	}()
	select {
	case <-entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the refresh never reached the IdP")
	}
	cancel()
	<-gone
	time.Sleep(200 * time.Millisecond) // the server sees the connection close

	second := make(chan int, 1)
	go func() { second <- e.consoleList(context.Background(), e.browser, csrf) }()
	time.Sleep(200 * time.Millisecond) // the second request joins the refresh
	release()
	if s := <-second; s != http.StatusOK {
		t.Errorf("the session's next request: %d, want 200", s)
	}
	if got := e.tokenCalls.Load() - calls; got != 1 {
		t.Errorf("%d refresh grants at the IdP, want 1", got)
	}
}
