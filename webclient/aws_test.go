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
