package authorizer

import (
	"encoding/json"
	"slices"
	"testing"
)

// aud, scope and scp as the IdPs write them. A scope string splits on SP
// (U+0020) only and each scp or scope array element is one scope, whole
// (RFC 6749 section 3.3): a value holding another space, a control
// character, a quote, a backslash or non-ASCII grants nothing, so no
// look-alike separator can turn "openid<NBSP>pets:write" into pets:write.
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
		{payload: "{\"aud\":\"a\xffb\"}", aud: []string{"a\uFFFDb"}},                         // invalid UTF-8, replaced as encoding/json does
		{payload: `{"scope":"openid\u00a0pets:write"}`},                                      // NO-BREAK SPACE
		{payload: `{"scope":"openid\u2003pets:write"}`},                                      // EM SPACE
		{payload: `{"scope":"openid\u0085pets:write"}`},                                      // NEXT LINE
		{payload: `{"scope":"openid\tpets:write pets:read"}`, scopes: []string{"pets:read"}}, // tab
		{payload: `{"scope":"openid\npets:write pets:read"}`, scopes: []string{"pets:read"}}, // newline
		{payload: `{"scope":"openid\rpets:write"}`},
		{payload: `{"scope":"pets:read pets:write\u00a0"}`, scopes: []string{"pets:read"}},
		{payload: `{"scp":["a pets:write"]}`}, // one element is one scope, whole
		{payload: `{"scp":["pets:read","a pets:write"]}`, scopes: []string{"pets:read"}},
		{payload: `{"scope":["pets:read pets:write"]}`},                                          // an array element is whole in scope too
		{payload: `{"scp":"pets:read pets:write"}`, scopes: []string{"pets:read", "pets:write"}}, // Entra ID's string
		{payload: `{"scope":"p\"q r\\s caf\u00e9 pets:read"}`, scopes: []string{"pets:read"}},    // '"', '\', non-ASCII
		{payload: `{"scope":"!#[]~ pets:read"}`, scopes: []string{"!#[]~", "pets:read"}},         // the set's edges
		{payload: `{"scope":" pets:read  "}`, scopes: []string{"pets:read"}},
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
