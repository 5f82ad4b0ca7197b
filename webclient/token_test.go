package webclient_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The token page shows the access token decoded (and says it verifies
// nothing); the raw token appears only after the deliberate reveal.
func TestTokenPage(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.signIn(t, "alice")
	resp, body := e.get(t, "/token")
	body = html.UnescapeString(body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/token: %d", resp.StatusCode)
	}
	for _, want := range []string{"Decoded here for display only", `"alg": "RS256"`, "pets:write", "https://petstore.example.com", `id="countdown"`, "Reveal the raw token"} {
		if !strings.Contains(body, want) {
			t.Errorf("the token page lacks %q", want)
		}
	}
	if jwtRe.MatchString(body) {
		t.Error("the token page shows the raw token before the reveal")
	}

	resp, body = e.post(t, "/token", url.Values{"csrf": {e.csrf(t)}})
	if resp.StatusCode != http.StatusOK || !jwtRe.MatchString(body) || !strings.Contains(body, "This is a live credential") {
		t.Fatalf("reveal: %d, token shown %v\n%s", resp.StatusCode, jwtRe.MatchString(body), body)
	}
	e.callAPI(t, "list")
	if !strings.Contains(body, e.lastBearer(t)) {
		t.Error("the revealed token is not the one the API gets")
	}
}

// The profile shows the ID token's claims.
func TestProfilePage(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.signIn(t, "bob")
	resp, body := e.get(t, "/profile")
	for _, want := range []string{"bob@example.com", "Bob Example", "<code>nonce</code>", "petstore-web", "never sent to the API"} {
		if !strings.Contains(body, want) {
			t.Errorf("the profile lacks %q (%d)", want, resp.StatusCode)
		}
	}
	if jwtRe.MatchString(body) {
		t.Error("the profile shows a token")
	}
}

// Pages set headers that keep them out of frames and caches and allow no
// script or style from elsewhere; unknown pages get a readable 404.
func TestSecurityHeadersAndNotFound(t *testing.T) {
	e := newEnv(t, envOptions{})
	resp, body := e.get(t, "/no-such-page")
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "Page not found") {
		t.Errorf("unknown page: %d\n%s", resp.StatusCode, body)
	}
	h := resp.Header
	for name, want := range map[string]string{
		"Content-Security-Policy": "frame-ancestors 'none'",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "no-referrer",
		"Cache-Control":           "no-store",
		"X-Content-Type-Options":  "nosniff",
	} {
		if !strings.Contains(h.Get(name), want) {
			t.Errorf("%s: %q, want %q in it", name, h.Get(name), want)
		}
	}
	if !strings.Contains(h.Get("Content-Security-Policy"), "form-action 'self' "+e.issuer) {
		t.Errorf("form-action must allow the sign-out redirect to the provider: %s", h.Get("Content-Security-Policy"))
	}
	if resp, _ := e.get(t, "/static/style.css"); resp.StatusCode != http.StatusOK {
		t.Errorf("style.css: %d", resp.StatusCode)
	}
}
