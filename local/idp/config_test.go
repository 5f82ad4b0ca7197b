package idp_test

import (
	"strings"
	"testing"
	"time"

	"github.com/example/petstore-oidc/local/idp"
)

// New accepts only a configuration fit for a developer machine.
func TestNewValidatesConfig(t *testing.T) {
	valid := func() idp.Config {
		return idp.Config{
			Issuer:                    "http://localhost:9000",
			Audience:                  testAudience,
			WebRedirectURIs:           []string{webRedirectURI},
			WebPostLogoutRedirectURIs: []string{webPostLogoutURI},
		}
	}
	tests := []struct {
		name      string
		change    func(*idp.Config)
		wantError string // "": accepted
	}{
		{"localhost", func(*idp.Config) {}, ""},
		{"127.0.0.1", func(c *idp.Config) { c.Issuer = "http://127.0.0.1:9000" }, ""},
		{"[::1]", func(c *idp.Config) { c.Issuer = "http://[::1]:9000" }, ""},
		{"https on localhost", func(c *idp.Config) { c.Issuer = "https://localhost:9443" }, ""},
		{"no port", func(c *idp.Config) { c.Issuer = "http://localhost" }, ""},
		{"no issuer", func(c *idp.Config) { c.Issuer = "" }, "Issuer is required"},
		{"public host", func(c *idp.Config) { c.Issuer = "https://idp.example.com" }, "localhost, 127.0.0.1 or [::1] only"},
		{"LAN address", func(c *idp.Config) { c.Issuer = "http://192.168.1.10:9000" }, "localhost, 127.0.0.1 or [::1] only"},
		{"look-alike host", func(c *idp.Config) { c.Issuer = "http://localhost.example.com:9000" }, "localhost, 127.0.0.1 or [::1] only"},
		{"path", func(c *idp.Config) { c.Issuer = "http://localhost:9000/idp" }, "no path"},
		{"trailing slash", func(c *idp.Config) { c.Issuer = "http://localhost:9000/" }, "no path"},
		{"query", func(c *idp.Config) { c.Issuer = "http://localhost:9000?x=1" }, "no path"},
		{"other scheme", func(c *idp.Config) { c.Issuer = "ftp://localhost:9000" }, "http(s) URL"},
		{"not a URL", func(c *idp.Config) { c.Issuer = "localhost:9000" }, "http(s) URL"},
		{"no audience", func(c *idp.Config) { c.Audience = "" }, "Audience is required"},
		{"no redirect URI", func(c *idp.Config) { c.WebRedirectURIs = nil }, "at least one URI"},
		{"relative redirect URI", func(c *idp.Config) { c.WebRedirectURIs = []string{"/callback"} }, "absolute http(s) URL"},
		{"redirect URI with a fragment", func(c *idp.Config) { c.WebRedirectURIs = []string{webRedirectURI + "#x"} }, "without a fragment"},
		{"bad post-logout URI", func(c *idp.Config) { c.WebPostLogoutRedirectURIs = []string{"javascript:alert(1)"} }, "absolute http(s) URL"},
		{"negative TTL", func(c *idp.Config) { c.AccessTokenTTL = -time.Minute }, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid()
			tt.change(&cfg)
			p, err := idp.New(cfg)
			switch {
			case tt.wantError == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tt.wantError == "" && p.Handler() == nil:
				t.Fatal("no handler")
			case tt.wantError != "" && (err == nil || !strings.Contains(err.Error(), tt.wantError)):
				t.Fatalf("New: error %v, want one containing %q", err, tt.wantError)
			}
		})
	}
}

// AccessTokenTTL sets the access tokens' lifetime.
func TestAccessTokenTTL(t *testing.T) {
	e := startIDP(t, func(c *idp.Config) { c.AccessTokenTTL = 2 * time.Minute })
	tr := e.clientCredentials(t, idp.M2MClientSecret, "")
	wantTokens(t, tr, false, false)
	if tr.ExpiresIn <= 0 || tr.ExpiresIn > 120 {
		t.Errorf("expires_in = %d, want at most 120", tr.ExpiresIn)
	}
	claims := e.verifyJWT(t, tr.AccessToken, testAudience)
	if lifetime := claims["exp"].(float64) - claims["iat"].(float64); lifetime < 110 || lifetime > 120 {
		t.Errorf("exp - iat = %vs, want about 120", lifetime)
	}
}

// The demo identities are the fixed contracts of docs/architecture.md.
func TestDemoIdentities(t *testing.T) {
	want := map[string]string{"alice": "alice pets:read pets:write", "bob": "bob pets:read"}
	if len(idp.DemoUsers) != len(want) {
		t.Fatalf("%d demo users, want %d", len(idp.DemoUsers), len(want))
	}
	for _, u := range idp.DemoUsers {
		if got := u.Password + " " + strings.Join(u.Scopes, " "); got != want[u.Username] {
			t.Errorf("%s: password and scopes %q, want %q", u.Username, got, want[u.Username])
		}
		if u.Name == "" || u.Email == "" {
			t.Errorf("%s has no name or email", u.Username)
		}
	}
	if idp.WebClientID != "petstore-web" || idp.M2MClientID != "petstore-m2m" || idp.M2MClientSecret != "petstore-m2m-secret" {
		t.Error("client ids or secret differ from docs/architecture.md")
	}
}
