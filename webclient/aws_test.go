package webclient_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/example/petstore-oidc/webclient"
)

// ConfigFromAWS reads the client secret (and an optional client id) from
// Secrets Manager; a secret it cannot use is an error that names the secret
// and never shows its value.
func TestConfigFromAWSReadsTheSecret(t *testing.T) {
	var value string
	sm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ SecretId string }
		json.NewDecoder(r.Body).Decode(&in)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if in.SecretId != "petstore/webclient" {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"__type":"ResourceNotFoundException","message":"Secrets Manager can't find the specified secret."}`)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"Name": in.SecretId, "SecretString": value})
	}))
	defer sm.Close()
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", sm.URL)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "local")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "local")

	base := map[string]string{
		"ISSUER": "https://tenant.eu.auth0.com/", "API_URL": "https://api.example.com/Prod",
		"BASE_URL": "https://app.example.com", "CLIENT_SECRET_ARN": "petstore/webclient",
	}
	tests := []struct {
		name, secret string
		env          map[string]string
		wantID       string
		wantErr      []string
	}{
		{"secret and id", `{"client_secret":"abc","client_id":"from-secret"}`, nil, "from-secret", nil},
		{"secret only, id from CLIENT_ID", `{"client_secret":"abc"}`, map[string]string{"CLIENT_ID": "from-env"}, "from-env", nil},
		{"the same id in both", `{"client_secret":"abc","client_id":"same"}`, map[string]string{"CLIENT_ID": "same"}, "same", nil},
		{"ids differ", `{"client_secret":"abc","client_id":"one"}`, map[string]string{"CLIENT_ID": "two"}, "", []string{"CLIENT_ID", "differs"}},
		{"no client_secret", `{"client_id":"x"}`, nil, "", []string{"petstore/webclient", `no "client_secret"`}},
		{"not JSON", `abc`, nil, "", []string{"petstore/webclient", "not JSON"}},
		{"unknown secret", `{"client_secret":"abc"}`, map[string]string{"CLIENT_SECRET_ARN": "other"}, "", []string{"other", "ResourceNotFoundException"}},
		{"both the ARN and a plain secret", `{"client_secret":"abc"}`, map[string]string{"CLIENT_SECRET": "plain"}, "", []string{"not both"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			value = tt.secret
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			for k, v := range tt.env {
				env[k] = v
			}
			cfg, err := webclient.ConfigFromAWS(context.Background(), func(k string) string { return env[k] }, true)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("no error, want %q", tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				if strings.Contains(err.Error(), "abc") {
					t.Errorf("the error shows the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.ClientSecret != "abc" || cfg.ClientID != tt.wantID {
				t.Errorf("client id %q, secret read: %v", cfg.ClientID, cfg.ClientSecret == "abc")
			}
		})
	}
}

// SETTINGS_SECRET: the settings template.yaml writes once the API and, with
// the stack's own user pool, the app client exist. Its values fill the
// variables that are empty; a variable that contradicts one is an error.
func TestConfigFromAWSReadsTheSettingsSecret(t *testing.T) {
	secrets := map[string]string{}
	sm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ SecretId string }
		json.NewDecoder(r.Body).Decode(&in)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		value, ok := secrets[in.SecretId]
		if !ok {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"__type":"ResourceNotFoundException","message":"Secrets Manager can't find the specified secret."}`)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"Name": in.SecretId, "SecretString": value})
	}))
	defer sm.Close()
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", sm.URL)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "local")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "local")

	const (
		api    = "https://abc123.execute-api.us-east-1.amazonaws.com/Prod"
		logout = "https://petstore-123456789012-5e1fc0de.auth.us-east-1.amazoncognito.com/logout?client_id=7abc&logout_uri=https://x.lambda-url.us-east-1.on.aws/"
	)
	cognito := `{"api_url":"` + api + `","client_id":"7abc","client_secret":"abc","logout_url":"` + logout + `"}`
	base := map[string]string{
		"ISSUER": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC", "BASE_URL": "https://app.example.com",
		"SETTINGS_SECRET": "petstore-webclient",
	}
	tests := []struct {
		name    string
		secrets map[string]string
		env     map[string]string
		want    webclient.Config
		wantErr []string
	}{
		{"the stack's own user pool: everything from the settings, by the secret's name",
			map[string]string{"petstore-webclient": cognito}, nil,
			webclient.Config{ClientID: "7abc", ClientSecret: "abc", APIURL: api, LogoutURL: logout}, nil},
		{"your provider: the API's URL from the settings, the client secret from CLIENT_SECRET_ARN",
			map[string]string{"petstore-webclient": `{"api_url":"` + api + `"}`, "arn:aws:secretsmanager:us-east-1:1:secret:mine-AbCdEf": `{"client_secret":"abc"}`},
			map[string]string{"CLIENT_ID": "from-env", "CLIENT_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:1:secret:mine-AbCdEf"},
			webclient.Config{ClientID: "from-env", ClientSecret: "abc", APIURL: api}, nil},
		{"a public client: settings without a client secret",
			map[string]string{"petstore-webclient": `{"api_url":"` + api + `"}`}, map[string]string{"CLIENT_ID": "pub"},
			webclient.Config{ClientID: "pub", APIURL: api}, nil},
		{"API_URL repeats the settings", map[string]string{"petstore-webclient": cognito}, map[string]string{"API_URL": api},
			webclient.Config{ClientID: "7abc", ClientSecret: "abc", APIURL: api, LogoutURL: logout}, nil},
		{"API_URL contradicts the settings", map[string]string{"petstore-webclient": cognito}, map[string]string{"API_URL": "https://other.example.com/Prod"},
			webclient.Config{}, []string{"API_URL", "differs", "api_url", "petstore-webclient"}},
		{"CLIENT_ID contradicts the settings", map[string]string{"petstore-webclient": cognito}, map[string]string{"CLIENT_ID": "other"},
			webclient.Config{}, []string{"CLIENT_ID", "differs", "client_id"}},
		{"a plain CLIENT_SECRET besides the settings' secret", map[string]string{"petstore-webclient": cognito}, map[string]string{"CLIENT_SECRET": "plain"},
			webclient.Config{}, []string{"not both"}},
		{"two secrets, two client secrets",
			map[string]string{"petstore-webclient": cognito, "mine": `{"client_secret":"def"}`}, map[string]string{"CLIENT_SECRET_ARN": "mine"},
			webclient.Config{}, []string{"different client secrets"}},
		{"settings not JSON", map[string]string{"petstore-webclient": "abc"}, nil, webclient.Config{}, []string{"SETTINGS_SECRET", "petstore-webclient", "not JSON"}},
		{"no such secret", map[string]string{}, nil, webclient.Config{}, []string{"SETTINGS_SECRET", "petstore-webclient", "ResourceNotFoundException"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			secrets = tt.secrets
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			for k, v := range tt.env {
				env[k] = v
			}
			cfg, err := webclient.ConfigFromAWS(context.Background(), func(k string) string { return env[k] }, true)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("no error, want %q", tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				if strings.Contains(err.Error(), `"abc"`) || strings.Contains(err.Error(), "def") {
					t.Errorf("the error shows a secret: %v", err)
				}
				// Only a missing client id is "not configured yet" (a 503
				// page); an unreadable secret fails the cold start.
				if webclient.OnlyNoClientID(err) {
					t.Errorf("%v counts as a missing client id", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.ClientID != tt.want.ClientID || cfg.ClientSecret != tt.want.ClientSecret || cfg.APIURL != tt.want.APIURL || cfg.LogoutURL != tt.want.LogoutURL {
				t.Errorf("client id %q, secret %v, API %q, logout %q\nwant %q, %v, %q, %q", cfg.ClientID, cfg.ClientSecret != "", cfg.APIURL, cfg.LogoutURL,
					tt.want.ClientID, tt.want.ClientSecret != "", tt.want.APIURL, tt.want.LogoutURL)
			}
		})
	}
}
