package authorizer

import (
	"context"
	"strings"
	"testing"

	"github.com/example/petstore-oidc/internal/testissuer"
	"github.com/example/petstore-oidc/internal/testlog"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigFromEnvDefaults(t *testing.T) {
	cfg, err := ConfigFromEnv(envOf(map[string]string{
		"ISSUER":   "https://example.auth0.com/",
		"AUDIENCE": "https://petstore.example.com, app-client-id",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Issuer != "https://example.auth0.com/" || strings.Join(cfg.Audiences, "|") != "https://petstore.example.com|app-client-id" {
		t.Errorf("issuer %q audiences %q", cfg.Issuer, cfg.Audiences)
	}
	if cfg.JWKSURI != "" {
		t.Errorf("defaults: %+v", cfg)
	}
	if len(cfg.Rules) != 4 || cfg.Rules[2].String() != "POST /pets=pets:write" {
		t.Errorf("default rules %v", cfg.Rules)
	}
}

func TestConfigFromEnvSettings(t *testing.T) {
	t.Setenv("AWS_SAM_LOCAL", "true") // as sam local sets it, for host.docker.internal
	cfg, err := ConfigFromEnv(envOf(map[string]string{
		"TOKEN_ISSUER": "http://localhost:9000",
		"AUDIENCE":     "petstore",
		"JWKS_URI":     "http://host.docker.internal:9000/keys",
		"ROUTE_SCOPES": "GET /pets=read",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Issuer != "http://localhost:9000" || cfg.JWKSURI != "http://host.docker.internal:9000/keys" || len(cfg.Rules) != 1 {
		t.Errorf("cfg %+v", cfg)
	}
}

func TestConfigFromEnvNamesTheBadVariable(t *testing.T) {
	base := map[string]string{"ISSUER": "https://idp.example.com", "AUDIENCE": "api"}
	tests := []struct {
		set  map[string]string
		want string
	}{
		{map[string]string{"ISSUER": ""}, "ISSUER is required"},
		{map[string]string{"AUDIENCE": " , "}, "AUDIENCE is required"},
		{map[string]string{"ISSUER": "http://idp.example.com"}, "ISSUER: "},
		{map[string]string{"ISSUER": "", "TOKEN_ISSUER": "ftp://x"}, "TOKEN_ISSUER: "},
		{map[string]string{"TOKEN_ISSUER": "https://other.example.com"}, "ISSUER and TOKEN_ISSUER"},
		{map[string]string{"JWKS_URI": "http://idp.example.com/jwks"}, "JWKS_URI: "},
		{map[string]string{"JWKS_URI": "not a url"}, "JWKS_URI: "},
		{map[string]string{"ROUTE_SCOPES": "GET pets"}, "ROUTE_SCOPES: "},
		// Settings no longer: another value than the fixed one refuses to start.
		{map[string]string{"ALGORITHMS": "HS256,ES256"}, "ALGORITHMS=\"HS256,ES256\" is no longer a setting"},
		{map[string]string{"ALGORITHMS": "RS256,ES256"}, "ALGORITHMS="},
		{map[string]string{"CLOCK_SKEW": "0"}, "CLOCK_SKEW=\"0\" is no longer a setting"},
	}
	for _, tt := range tests {
		env := map[string]string{}
		for k, v := range base {
			env[k] = v
		}
		for k, v := range tt.set {
			env[k] = v
		}
		_, err := ConfigFromEnv(envOf(env))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: err = %v, want it to mention %q", tt.set, err, tt.want)
		}
	}
}

// A leftover ALGORITHMS or CLOCK_SKEW with the fixed value is harmless.
func TestRetiredSettingsWithTheFixedValue(t *testing.T) {
	for _, set := range []map[string]string{{"ALGORITHMS": "RS256"}, {"CLOCK_SKEW": "30"}, {"CLOCK_SKEW": "30s"}} {
		set["ISSUER"], set["AUDIENCE"] = "https://idp.example.com", "api"
		if _, err := ConfigFromEnv(envOf(set)); err != nil {
			t.Errorf("%v: %v", set, err)
		}
	}
}

// One run names every variable at fault: a bad ROUTE_SCOPES does not hide
// the others.
func TestConfigFromEnvNamesEveryBadVariable(t *testing.T) {
	for _, env := range []map[string]string{
		{"ROUTE_SCOPES": "FETCH /x=y", "JWKS_URI": "http://idp.example.com/jwks"},
		{"ROUTE_SCOPES": "GET pets", "JWKS_URI": "http://idp.example.com/jwks"},
		{"ROUTE_SCOPES": " , ", "JWKS_URI": "http://idp.example.com/jwks"},
	} {
		_, err := ConfigFromEnv(envOf(env))
		if err == nil {
			t.Fatalf("%v: accepted", env)
		}
		want := []string{"ISSUER is required", "AUDIENCE is required", "JWKS_URI: "}
		for name := range env {
			want = append(want, name+": ")
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: err = %v, want it to mention %q", env, err, w)
			}
		}
		if strings.Contains(err.Error(), "TOKEN_ISSUER") { // the alias is named only when it is the one set
			t.Errorf("%v: err = %v names TOKEN_ISSUER", env, err)
		}
	}
}

func TestExtractBearerToken(t *testing.T) {
	tests := []struct {
		in, want string
		err      error
	}{
		{"Bearer abc.def.ghi", "abc.def.ghi", nil},
		{"bearer abc", "abc", nil},
		{"BEARER  abc ", "abc", nil},
		{"", "", errMissingToken},
		{"  ", "", errMissingToken},
		{"Bearer", "", errScheme},
		{"Bearer ", "", errScheme},
		{"Basic abc", "", errScheme},
		{"Bearerabc", "", errScheme},
		{"Bearer a b", "", errScheme},
		{"Bearer a\tb", "", errScheme},
		{"Bearer " + strings.Repeat("a", maxTokenBytes), "", errOversized},
	}
	for _, tt := range tests {
		got, err := extractBearerToken(tt.in)
		if got != tt.want || err != tt.err {
			t.Errorf("extractBearerToken(%.20q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

// A Config built in code is checked as strictly as one from the
// environment: New refuses it, naming the field, and never fills in a
// value that is out of range.
func TestNewRefusesABadConfig(t *testing.T) {
	e := &env{t: t, idp: testissuer.New(t, "key-a"), clock: newClock(), logs: &testlog.Buffer{}}
	tests := []struct {
		name string
		set  func(*Config)
		want string
	}{
		{"no issuer", func(c *Config) { c.Issuer = "" }, "ISSUER is required"},
		{"plain http issuer", func(c *Config) { c.Issuer = "http://idp.example.com" }, "must use https"},
		{"issuer not a URL", func(c *Config) { c.Issuer = "idp.example.com" }, "not an absolute URL"},
		{"plain http JWKS", func(c *Config) { c.JWKSURI = "http://idp.example.com/jwks" }, "JWKS_URI"},
		{"no audience", func(c *Config) { c.Audiences = nil }, "AUDIENCE is required"},
		{"an empty audience", func(c *Config) { c.Audiences = []string{"api", ""} }, "AUDIENCE is required"},
		{"no rules", func(c *Config) { c.Rules = nil }, "at least one rule"},
		{"rule without a leading slash", func(c *Config) { c.Rules = []RouteRule{{Method: "GET", Path: "pets"}} }, "not a valid rule"},
		{"rule with a trailing slash", func(c *Config) { c.Rules = []RouteRule{{Method: "GET", Path: "/pets/"}} }, "not a valid rule"},
		{"rule in lower case", func(c *Config) { c.Rules = []RouteRule{{Method: "get", Path: "/pets"}} }, "not a valid rule"},
		{"rule with a comma in a scope", func(c *Config) { c.Rules = []RouteRule{{Method: "GET", Path: "/pets", Scopes: []string{"a,b"}}} }, "not a valid rule"},
	}
	for _, tt := range tests {
		cfg := e.config(tt.set)
		if a, err := New(context.Background(), cfg); err == nil || a != nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tt.name, err, tt.want)
		}
	}
	if n := e.idp.Fetches(); n != 0 {
		t.Errorf("a refused Config fetched the JWKS %d times", n)
	}
	// Loopback, and only loopback, may use plain http: the local IdP.
	for _, issuer := range []string{"http://localhost:9000", "http://127.0.0.1:9000", "http://[::1]:9000"} {
		if err := checkFetchURL(issuer); err != nil {
			t.Errorf("%s: %v", issuer, err)
		}
	}
}

// host.docker.internal is the developer's machine only under sam local
// (AWS_SAM_LOCAL=true); anywhere else it is a name like any other, which
// needs https.
func TestHostDockerInternalOnlyUnderSAMLocal(t *testing.T) {
	const jwks = "http://host.docker.internal:9000/keys"
	for _, value := range []string{"", "false", "1", "TRUE"} {
		t.Setenv("AWS_SAM_LOCAL", value)
		if err := checkFetchURL(jwks); err == nil {
			t.Errorf("AWS_SAM_LOCAL=%q: plain http to host.docker.internal accepted", value)
		}
		_, err := ConfigFromEnv(envOf(map[string]string{"ISSUER": "https://idp.example.com", "AUDIENCE": "api", "JWKS_URI": jwks}))
		if err == nil || !strings.Contains(err.Error(), "JWKS_URI: ") {
			t.Errorf("AWS_SAM_LOCAL=%q: err %v, want JWKS_URI refused", value, err)
		}
	}
	t.Setenv("AWS_SAM_LOCAL", "true")
	if err := checkFetchURL(jwks); err != nil {
		t.Errorf("under sam local: %v", err)
	}
	if err := checkFetchURL("https://host.docker.internal/keys"); err != nil {
		t.Errorf("https: %v", err)
	}
}
