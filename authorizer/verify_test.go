package authorizer

import (
	"encoding/json"
	"slices"
	"testing"
)

// aud, scope and scp as the IdPs write them, through the plain-string fast
// path and the encoding/json fallback alike.
func TestStringClaims(t *testing.T) {
	for _, tc := range []struct {
		payload     string
		aud, scopes []string
		wantErr     bool
	}{
		{payload: `{"aud":"https://api.example.com","scope":"openid pets:read"}`, aud: []string{"https://api.example.com"}, scopes: []string{"openid", "pets:read"}},
		{payload: `{"aud":["api://petstore","https://tenant/userinfo"],"scp":["pets:read","pets:write"]}`, aud: []string{"api://petstore", "https://tenant/userinfo"}, scopes: []string{"pets:read", "pets:write"}},
		{payload: `{"aud":"an audience with spaces","scp":"pets:read  pets:write"}`, aud: []string{"an audience with spaces"}, scopes: []string{"pets:read", "pets:write"}},
		{payload: `{"aud":"https:\/\/api.example.com","scope":"pets:read\u0020pets:write"}`, aud: []string{"https://api.example.com"}, scopes: []string{"pets:read", "pets:write"}},
		{payload: `{"aud":"caf\u00e9","scope":"pets:read pets:read"}`, aud: []string{"café"}, scopes: []string{"pets:read"}},
		{payload: "{\"aud\":\"a\xffb\"}", aud: []string{"a\uFFFDb"}}, // invalid UTF-8, replaced as encoding/json does
		{payload: `{"aud":null,"scope":null}`},
		{payload: `{"aud":[],"scp":[]}`},
		{payload: `{"aud":42}`, wantErr: true},
		{payload: `{"aud":["ok",7]}`, wantErr: true},
		{payload: `{"aud":["ok",null]}`, wantErr: true}, // jwt.ClaimStrings refuses it too
		{payload: `{"scp":["pets:read",null]}`, wantErr: true},
		{payload: `{"scope":{"pets":"read"}}`, wantErr: true},
		{payload: `{"scp":true}`, wantErr: true},
	} {
		var c accessClaims
		err := json.Unmarshal([]byte(tc.payload), &c)
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: err %v, want error %v", tc.payload, err, tc.wantErr)
			continue
		}
		if tc.wantErr {
			continue
		}
		if !slices.Equal([]string(c.Audience), tc.aud) || !slices.Equal(c.scopes(), tc.scopes) && len(c.scopes())+len(tc.scopes) > 0 {
			t.Errorf("%s: aud %q scopes %q, want %q %q", tc.payload, c.Audience, c.scopes(), tc.aud, tc.scopes)
		}
	}
}
