package authorizer

import (
	"strings"
	"testing"
	"time"
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
	if cfg.JWKSURI != "" || cfg.ClockSkew != DefaultClockSkew || strings.Join(cfg.Algorithms, ",") != "RS256" {
		t.Errorf("defaults: %+v", cfg)
	}
	if len(cfg.Rules) != 4 || cfg.Rules[2].String() != "POST /pets=pets:write" {
		t.Errorf("default rules %v", cfg.Rules)
	}
}

func TestConfigFromEnvSettings(t *testing.T) {
	cfg, err := ConfigFromEnv(envOf(map[string]string{
		"TOKEN_ISSUER": "http://localhost:9000",
		"AUDIENCE":     "petstore",
		"JWKS_URI":     "http://host.docker.internal:9000/keys",
		"ROUTE_SCOPES": "GET /pets=read",
		"ALGORITHMS":   "RS256,ES256",
		"CLOCK_SKEW":   "10",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Issuer != "http://localhost:9000" || cfg.ClockSkew != 10*time.Second || len(cfg.Algorithms) != 2 || len(cfg.Rules) != 1 {
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
		{map[string]string{"ALGORITHMS": "HS256"}, `ALGORITHMS: "HS256"`},
		{map[string]string{"ALGORITHMS": "RS256,none"}, `ALGORITHMS: "none"`},
		{map[string]string{"CLOCK_SKEW": "soon"}, "CLOCK_SKEW: "},
		{map[string]string{"CLOCK_SKEW": "1h"}, "CLOCK_SKEW: "},
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
		{"Bearer " + strings.Repeat("a", MaxTokenBytes), "", errOversized},
	}
	for _, tt := range tests {
		got, err := extractBearerToken(tt.in)
		if got != tt.want || err != tt.err {
			t.Errorf("extractBearerToken(%.20q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}
