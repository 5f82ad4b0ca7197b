package idp_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/example/petstore-oidc/local/idp"
)

// client_credentials for the machine client: all of its scopes by default,
// fewer on request, an unknown scope refused (invalid_scope), a wrong
// secret refused (invalid_client, 401).
func TestClientCredentials(t *testing.T) {
	e := startIDP(t)
	tests := []struct {
		name       string
		request    func(t *testing.T) tokenResponse
		wantScope  string // on success
		wantStatus int    // on failure
		wantError  string
	}{
		{name: "no scope asked: all of the client's", wantScope: "pets:read pets:write",
			request: func(t *testing.T) tokenResponse { return e.clientCredentials(t, idp.M2MClientSecret, "") }},
		{name: "narrowed to pets:read", wantScope: "pets:read",
			request: func(t *testing.T) tokenResponse { return e.clientCredentials(t, idp.M2MClientSecret, "pets:read") }},
		{name: "both, named", wantScope: "pets:write pets:read",
			request: func(t *testing.T) tokenResponse {
				return e.clientCredentials(t, idp.M2MClientSecret, "pets:write pets:read")
			}},
		{name: "secret in the form (client_secret_post)", wantScope: "pets:read pets:write",
			request: func(t *testing.T) tokenResponse {
				return e.token(t, url.Values{"grant_type": {"client_credentials"},
					"client_id": {idp.M2MClientID}, "client_secret": {idp.M2MClientSecret}}, idp.M2MClientID, "")
			}},
		{name: "unknown scope", wantStatus: http.StatusBadRequest, wantError: "invalid_scope",
			request: func(t *testing.T) tokenResponse {
				return e.clientCredentials(t, idp.M2MClientSecret, "pets:read pets:admin")
			}},
		{name: "OIDC scope", wantStatus: http.StatusBadRequest, wantError: "invalid_scope",
			request: func(t *testing.T) tokenResponse { return e.clientCredentials(t, idp.M2MClientSecret, "openid") }},
		{name: "wrong secret", wantStatus: http.StatusUnauthorized, wantError: "invalid_client",
			request: func(t *testing.T) tokenResponse { return e.clientCredentials(t, "wrong-secret", "") }},
		{name: "no secret", wantStatus: http.StatusUnauthorized, wantError: "invalid_client",
			request: func(t *testing.T) tokenResponse {
				return e.token(t, url.Values{"grant_type": {"client_credentials"}, "client_id": {idp.M2MClientID}}, idp.M2MClientID, "")
			}},
		{name: "public web client", wantStatus: http.StatusUnauthorized, wantError: "invalid_client",
			request: func(t *testing.T) tokenResponse {
				return e.token(t, url.Values{"grant_type": {"client_credentials"}, "client_id": {idp.WebClientID}}, idp.WebClientID, "")
			}},
		{name: "machine client asking for a refresh", wantStatus: http.StatusBadRequest, wantError: "unauthorized_client",
			request: func(t *testing.T) tokenResponse {
				return e.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, idp.M2MClientID, idp.M2MClientSecret)
			}},
		{name: "unsupported grant", wantStatus: http.StatusBadRequest, wantError: "unsupported_grant_type",
			request: func(t *testing.T) tokenResponse {
				return e.token(t, url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"alice"}}, idp.M2MClientID, idp.M2MClientSecret)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tr := tt.request(t)
			if tt.wantError != "" {
				wantError(t, tr, tt.wantStatus, tt.wantError)
				return
			}
			wantTokens(t, tr, false, false)
			if tr.Scope != tt.wantScope {
				t.Errorf("token response scope = %q, want %q", tr.Scope, tt.wantScope)
			}
			claims := e.verifyJWT(t, tr.AccessToken, testAudience)
			wantClaim(t, claims, "sub", idp.M2MClientID)
			wantClaim(t, claims, "client_id", idp.M2MClientID)
			wantClaim(t, claims, "scope", tt.wantScope)
			if claims["jti"] == nil {
				t.Error("no jti")
			}
		})
	}
}
