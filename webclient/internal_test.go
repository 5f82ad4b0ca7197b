package webclient

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

func TestDecodeJWT(t *testing.T) {
	enc := base64.RawURLEncoding.EncodeToString
	header := enc([]byte(`{"alg":"RS256","kid":"k1","typ":"at+jwt"}`))
	tests := []struct {
		name       string
		token      string
		wantErr    bool
		wantScopes []string
	}{
		{"scope string (Auth0, Cognito, the local IdP)", header + "." + enc([]byte(`{"sub":"alice","scope":"openid pets:read"}`)) + ".sig", false, []string{"openid", "pets:read"}},
		{"scp array (Okta)", header + "." + enc([]byte(`{"scp":["pets:read","pets:write"]}`)) + ".sig", false, []string{"pets:read", "pets:write"}},
		{"scp string (Entra ID)", header + "." + enc([]byte(`{"scp":"pets.read"}`)) + ".sig", false, []string{"pets.read"}},
		{"no scopes", header + "." + enc([]byte(`{"sub":"m2m"}`)) + ".sig", false, nil},
		{"opaque token (Auth0 without audience)", "Qm9ndXMgb3BhcXVlIHRva2Vu", true, nil},
		{"JWE (five parts)", "a.b.c.d.e", true, nil},
		{"claims not base64url", header + ".!!!.sig", true, nil},
		{"claims not JSON", header + "." + enc([]byte("not json")) + ".sig", true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := decodeJWT(tt.token)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, want error %v", err, tt.wantErr)
			}
			if err == nil && !slices.Equal(d.scopes(), tt.wantScopes) {
				t.Errorf("scopes %q, want %q", d.scopes(), tt.wantScopes)
			}
		})
	}
}

// A tampered token keeps the header and the signature and changes the
// claims, so only a signature check can catch it.
func TestTamper(t *testing.T) {
	enc := base64.RawURLEncoding.EncodeToString
	token := enc([]byte(`{"alg":"RS256"}`)) + "." + enc([]byte(`{"sub":"bob","scope":"pets:read"}`)) + ".c2lnbmF0dXJl"
	got := tamper(token)
	gp, tp := strings.Split(got, "."), strings.Split(token, ".")
	if gp[0] != tp[0] || gp[2] != tp[2] || gp[1] == tp[1] {
		t.Fatalf("tamper(%s) = %s", token, got)
	}
	d, err := decodeJWT(got)
	if err != nil || !slices.Contains(d.scopes(), "pets:write") {
		t.Errorf("tampered claims %v (%v)", d, err)
	}
	if opaque := tamper("opaqueA"); opaque == "opaqueA" || len(opaque) != len("opaqueA") {
		t.Errorf("tamper of an opaque token: %q", opaque)
	}
}

func TestShortenNeverShowsTheWholeToken(t *testing.T) {
	token := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
	got := shorten(token)
	if !strings.HasPrefix(got, "eyJhbGciOiJS…") || strings.Contains(got, "c2ln") || !strings.Contains(got, "68 characters") {
		t.Errorf("shorten = %q", got)
	}
}

// Every status the console can meet has a sentence, and who answered is
// read from x-amzn-ErrorType.
func TestExplain(t *testing.T) {
	tests := []struct {
		status    int
		errorType string
		auth      authMode
		want      string
		byGateway bool
	}{
		{200, "", withToken, "OK: the authorizer verified", false},
		{201, "", withToken, "Created", false},
		{400, "", withToken, "Bad request", false},
		{401, "UnauthorizedException", withoutToken, "no Authorization header", true},
		{401, "UnauthorizedException", tamperedToken, "signature no longer matches", true},
		{401, "UnauthorizedException", withToken, "the token itself was refused", true},
		{403, "AccessDeniedException", withToken, "policy denies this route", true},
		{404, "", withToken, "Not found", false},
		{500, "AuthorizerConfigurationException", withToken, "Server error in the authorizer", true},
		{500, "", withToken, "Server error in the PetStore", false},
		{502, "", withToken, "failed (502)", false},
		{418, "", withToken, "does not expect (418)", false},
	}
	for _, tt := range tests {
		by, meaning := explain(consoleCall{Auth: tt.auth}, tt.status, tt.errorType)
		if !strings.Contains(meaning, tt.want) || strings.HasPrefix(by, "API Gateway") != tt.byGateway {
			t.Errorf("%d %s: %q / %q", tt.status, tt.errorType, by, meaning)
		}
	}
}

func TestErrorTextOfATokenEndpointRefusal(t *testing.T) {
	err := fmt.Errorf("exchange: %w", &oauth2.RetrieveError{
		Response:         &http.Response{StatusCode: 500},
		Body:             []byte(`{"error":"server_error","error_description":"db down","internal_trace":"secret stack"}`),
		ErrorCode:        "server_error",
		ErrorDescription: "db down",
	})
	got := errorText(err)
	if got != "the provider answered 500 server_error: db down" || strings.Contains(got, "secret") {
		t.Errorf("errorText = %q", got)
	}
}

// A transport error shows the operation and the URL without its query (it
// may hold a code or a token); a URL that does not parse is left out.
func TestErrorTextOfATransportError(t *testing.T) {
	tests := []struct {
		url, want string
	}{
		{"https://idp.example.com/oauth/token?code=secret", "Post https://idp.example.com/oauth/token: connection refused"},
		{"http://[::1%zz]/x?code=secret", "Post: connection refused"},
	}
	for _, tt := range tests {
		err := fmt.Errorf("exchange: %w", &url.Error{Op: "Post", URL: tt.url, Err: errors.New("connection refused")})
		if got := errorText(err); got != tt.want {
			t.Errorf("errorText(%q) = %q, want %q", tt.url, got, tt.want)
		}
	}
}
