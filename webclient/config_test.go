package webclient_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/example/petstore-oidc/webclient"
)

func TestConfigFromEnv(t *testing.T) {
	valid := map[string]string{
		"ISSUER":       "https://tenant.eu.auth0.com/",
		"CLIENT_ID":    "abc",
		"REDIRECT_URL": "http://localhost:8080/callback",
		"API_URL":      "https://a1b2c3.execute-api.eu-west-1.amazonaws.com/Prod",
	}
	tests := []struct {
		name    string
		change  map[string]string
		wantErr []string // each must be in the error; none: valid
	}{
		{"valid, public client", nil, nil},
		{"all missing", map[string]string{"ISSUER": "", "CLIENT_ID": "", "REDIRECT_URL": "", "API_URL": ""},
			[]string{"ISSUER is required", "CLIENT_ID is required", "BASE_URL or REDIRECT_URL is required", "API_URL is required"}},
		{"base URL instead of the redirect URL", map[string]string{"REDIRECT_URL": "", "BASE_URL": "https://abc.lambda-url.eu-west-1.on.aws"}, nil},
		{"base URL with a path", map[string]string{"BASE_URL": "https://abc.lambda-url.eu-west-1.on.aws/app"}, []string{"BASE_URL", "origin only"}},
		{"plain http base URL off localhost", map[string]string{"BASE_URL": "http://abc.lambda-url.eu-west-1.on.aws"}, []string{"BASE_URL", "https"}},
		{"plain http issuer off localhost", map[string]string{"ISSUER": "http://idp.example.com"}, []string{"ISSUER", "https"}},
		{"plain http issuer on localhost", map[string]string{"ISSUER": "http://localhost:9000"}, nil},
		{"plain http redirect URL off localhost", map[string]string{"REDIRECT_URL": "http://petstore.example.com/callback"}, []string{"REDIRECT_URL", "https"}},
		{"plain http API URL off localhost", map[string]string{"API_URL": "http://10.0.0.7:3000/Prod"}, []string{"API_URL", "https"}},
		{"plain http API URL on localhost (sam local start-api)", map[string]string{"API_URL": "http://127.0.0.1:3000"}, nil},
		{"plain http logout URLs off localhost", map[string]string{"LOGOUT_URL": "http://idp.example.com/logout", "POST_LOGOUT_REDIRECT_URL": "http://petstore.example.com/"},
			[]string{"LOGOUT_URL", "POST_LOGOUT_REDIRECT_URL", "https"}},
		{"redirect URL without a path", map[string]string{"REDIRECT_URL": "http://localhost:8080"}, []string{"REDIRECT_URL", "path of its own"}},
		{"redirect URL on an app page", map[string]string{"REDIRECT_URL": "http://localhost:8080/console"}, []string{"REDIRECT_URL"}},
		{"API URL not a URL", map[string]string{"API_URL": "execute-api"}, []string{"API_URL"}},
		{"scopes without openid", map[string]string{"SCOPES": "pets:read"}, []string{"SCOPES", "openid"}},
		{"bad logout URL", map[string]string{"LOGOUT_URL": "/logout"}, []string{"LOGOUT_URL"}},
		{"Cognito logout URL", map[string]string{"LOGOUT_URL": "https://petstore.auth.eu-west-1.amazoncognito.com/logout?client_id=abc&logout_uri=http%3A%2F%2Flocalhost%3A8080%2F"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range valid {
				env[k] = v
			}
			for k, v := range tt.change {
				env[k] = v
			}
			cfg, err := webclient.ConfigFromEnv(func(k string) string { return env[k] })
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q (config %+v)", tt.wantErr, cfg)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}

func TestConfigFromEnvReadsEveryVariable(t *testing.T) {
	env := map[string]string{
		"ISSUER": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC", "CLIENT_ID": "id", "CLIENT_SECRET": "s3cret",
		"REDIRECT_URL": "https://app.example.com/callback", "API_URL": "https://api.example.com/Prod", "AUDIENCE": "https://petstore.example.com",
		"SCOPES": "openid email https://petstore.example.com/pets:read", "BASE_URL": "https://app.example.com/",
		"LOGOUT_URL":               "https://d.auth.eu-west-1.amazoncognito.com/logout?client_id=id&logout_uri=https%3A%2F%2Fapp.example.com%2F",
		"POST_LOGOUT_REDIRECT_URL": "https://app.example.com/",
	}
	cfg, err := webclient.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ClientSecret != "s3cret" || cfg.Audience != env["AUDIENCE"] || cfg.LogoutURL != env["LOGOUT_URL"] ||
		!slices.Equal(cfg.Scopes, strings.Fields(env["SCOPES"])) || cfg.BaseURL != "https://app.example.com" || cfg.PostLogoutRedirectURL != env["POST_LOGOUT_REDIRECT_URL"] {
		t.Errorf("config %+v", cfg)
	}
}

// Only a missing client id, alone, makes a deployment "not configured
// yet"; with any other fault the cold start fails and the log says why.
func TestOnlyNoClientID(t *testing.T) {
	base := map[string]string{"ISSUER": "https://idp.example.com/", "API_URL": "https://api.example.com/Prod", "BASE_URL": "https://app.example.com"}
	for _, tt := range []struct {
		name string
		set  map[string]string
		want bool
	}{
		{"no client id", nil, true},
		{"no client id and a bad issuer", map[string]string{"ISSUER": "ftp://idp"}, false},
		{"no client id and no API", map[string]string{"API_URL": ""}, false},
		{"configured", map[string]string{"CLIENT_ID": "web"}, false},
	} {
		env := maps.Clone(base)
		maps.Copy(env, tt.set)
		_, err := webclient.ConfigFromEnv(func(k string) string { return env[k] })
		if got := webclient.OnlyNoClientID(err); got != tt.want {
			t.Errorf("%s: OnlyNoClientID(%v) = %v, want %v", tt.name, err, got, tt.want)
		}
	}
}
