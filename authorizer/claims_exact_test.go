package authorizer

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/example/petstore-oidc/internal/testissuer"
	"github.com/example/petstore-oidc/local/gateway"
)

// signRaw signs the payload bytes exactly as given (member order, case and
// duplicates kept) with key-a, as an issuer could.
func signRaw(t *testing.T, payload string) string {
	t.Helper()
	b64 := base64.RawURLEncoding.EncodeToString
	signing := b64([]byte(`{"alg":"RS256","kid":"key-a","typ":"JWT"}`)) + "." + b64([]byte(payload))
	sig, err := jwt.SigningMethodRS256.Sign(signing, testissuer.Key(t, "key-a"))
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + b64(sig)
}

// Claim names are exact (RFC 7519 section 4): a member whose name differs
// from a registered claim's only in case neither stands in for it nor
// overrides it, whichever comes first, and a member named twice refuses the
// token. Each payload is raw JSON, so the order and case of its members are
// what the test says.
func TestClaimNamesAreExact(t *testing.T) {
	e := newEnv(t)
	now := e.clock.Now().Unix()
	// The members of a valid token, by name; each case replaces some.
	valid := map[string]string{
		"iss": fmt.Sprintf("%q", e.idp.URL), "sub": `"user-123"`, "aud": fmt.Sprintf("%q", testAudience),
		"exp": fmt.Sprint(now + 3600), "iat": fmt.Sprint(now), "scope": `"pets:read"`,
	}
	order := []string{"iss", "sub", "aud", "exp", "iat", "scope"}
	// payload writes the valid members, without those named in drop, then
	// the extra members in their order.
	payload := func(drop []string, extra ...string) string {
		var members []string
		for _, name := range order {
			if !slices.Contains(drop, name) {
				members = append(members, fmt.Sprintf("%q:%s", name, valid[name]))
			}
		}
		return "{" + strings.Join(append(members, extra...), ",") + "}"
	}
	future, past := fmt.Sprint(now+3600), fmt.Sprint(now-3600)
	tests := []struct {
		name    string
		payload string
		reason  string // "" for allowed
		scope   string // the context's scope when allowed
	}{
		{"iss only as ISS", payload([]string{"iss"}, fmt.Sprintf(`"ISS":%q`, e.idp.URL)), "issuer", ""},
		{"iss wrong, then Iss right", payload([]string{"iss"}, `"iss":"https://evil.example"`, fmt.Sprintf(`"Iss":%q`, e.idp.URL)), "issuer", ""},
		{"iss right, then ISS wrong", payload(nil, `"ISS":"https://evil.example"`), "", "pets:read"},
		{"sub only as Sub", payload([]string{"sub"}, `"Sub":"user-123"`), "missing_sub", ""},
		{"aud only as AUD", payload([]string{"aud"}, fmt.Sprintf(`"AUD":%q`, testAudience)), "audience", ""},
		{"aud wrong, then AUD right", payload([]string{"aud"}, `"aud":"https://other.example"`, fmt.Sprintf(`"AUD":%q`, testAudience)), "audience", ""},
		{"exp only as EXP", payload([]string{"exp"}, `"EXP":`+future), "missing_exp", ""},
		{"exp past, then Exp future", payload([]string{"exp"}, `"exp":`+past, `"Exp":`+future), "expired", ""},
		{"nbf future", payload(nil, `"nbf":`+future), "not_yet_valid", ""},
		{"nbf future only as NBF", payload(nil, `"NBF":`+future), "", "pets:read"},
		{"nbf future, then Nbf past", payload(nil, `"nbf":`+future, `"Nbf":`+past), "not_yet_valid", ""},
		{"iat future, then IAT now", payload([]string{"iat"}, `"iat":`+future, `"IAT":`+fmt.Sprint(now)), "not_yet_valid", ""},
		{"iat future only as Iat", payload(nil, `"Iat":`+future), "", "pets:read"},
		{"scope, then SCOPE", payload(nil, `"SCOPE":"pets:write admin"`), "", "pets:read"},
		{"scope only as Scope", payload([]string{"scope"}, `"Scope":"pets:read pets:write"`), "", ""},
		{"scp only as SCP", payload(nil, `"SCP":["pets:write"]`), "", "pets:read"},
		{"scp exact", payload(nil, `"scp":["pets:write"]`), "", "pets:read pets:write"},
		{"scp element with a space", payload(nil, `"scp":["a pets:write"]`), "", "pets:read"},
		{"scope joined by NBSP", payload([]string{"scope"}, `"scope":"openid\u00a0pets:read"`), "", ""},
		{"scope joined by a tab", payload([]string{"scope"}, `"scope":"openid\tpets:read"`), "", ""},
		{"scope joined by a newline", payload([]string{"scope"}, `"scope":"openid\npets:read"`), "", ""},
		{"Cognito client_id only as CLIENT_ID", payload([]string{"aud"}, `"token_use":"access"`, fmt.Sprintf(`"CLIENT_ID":%q`, testClientID)), "audience", ""},
		{"Cognito client_id exact", payload([]string{"aud"}, `"token_use":"access"`, fmt.Sprintf(`"client_id":%q`, testClientID)), "", "pets:read"},
		{"token_use id, then Token_Use access", payload(nil, `"token_use":"id"`, `"Token_Use":"access"`), "token_type", ""},
		{"token_use id only as TOKEN_USE", payload(nil, `"TOKEN_USE":"id"`), "", "pets:read"},
		// Look-alikes that encoding/json folds onto ASCII names (its case
		// folding maps U+017F LONG S to s and U+212A KELVIN SIGN to k) are
		// other names here, escaped or raw.
		{"sub only as \\u017Fub", payload([]string{"sub"}, `"\u017Fub":"user-123"`), "missing_sub", ""},
		{"sub only as raw ſub", payload([]string{"sub"}, `"ſub":"user-123"`), "missing_sub", ""},
		{"scope, then \\u017Fcope", payload(nil, `"\u017Fcope":"pets:write admin"`), "", "pets:read"},
		{"scope only as ſCOPE", payload([]string{"scope"}, `"ſCOPE":"pets:read"`), "", ""},
		{"token_use id only as to\\u212Aen_use", payload(nil, `"to\u212Aen_use":"id"`), "", "pets:read"},
		{"token_use access, then toKen_use id", payload(nil, `"token_use":"access"`, `"to\u212Aen_use":"id"`), "", "pets:read"},
		{"Cognito client_id only as \\u0063lient_id", payload([]string{"aud"}, `"token_use":"access"`, fmt.Sprintf(`"\u0063lient_id":%q`, testClientID)), "", "pets:read"},
		// An escaped spelling of the exact name is that name (RFC 8259
		// section 7): alone it counts, next to the plain one it is a duplicate.
		{"iss only as \\u0069ss", payload([]string{"iss"}, fmt.Sprintf(`"\u0069ss":%q`, e.idp.URL)), "", "pets:read"},
		{"iss, then \\u0069ss", payload(nil, `"\u0069ss":"https://evil.example"`), "malformed", ""},
		{"\\u0069ss, then iss", payload([]string{"iss"}, fmt.Sprintf(`"\u0069ss":%q`, e.idp.URL), `"iss":"https://evil.example"`), "malformed", ""},
		{"scope, then \\u0073cope", payload(nil, `"\u0073cope":"pets:write"`), "malformed", ""},
		{"aud, then a\\u0075d", payload(nil, `"a\u0075d":"https://other.example"`), "malformed", ""},
		{"exp null", payload([]string{"exp"}, `"exp":null`), "missing_exp", ""},
		{"a nested iss is no claim", payload([]string{"iss"}, fmt.Sprintf(`"act":{"iss":%q}`, e.idp.URL)), "issuer", ""},
		{"byte order mark", "\ufeff" + payload(nil), "malformed", ""},
	}
	// A member named twice, whatever its values, refuses the token.
	for _, name := range []string{"iss", "sub", "aud", "exp", "nbf", "iat", "scope", "scp", "client_id", "token_use"} {
		first, second := fmt.Sprintf("%q:%s", name, valid[name]), fmt.Sprintf("%q:%s", name, valid[name])
		switch name {
		case "exp", "nbf", "iat":
			first, second = fmt.Sprintf("%q:%d", name, now), fmt.Sprintf("%q:%d", name, now+10)
		case "scp", "client_id", "token_use":
			first, second = fmt.Sprintf(`%q:"access"`, name), fmt.Sprintf(`%q:"access"`, name)
		}
		tests = append(tests, struct{ name, payload, reason, scope string }{name + " twice", payload([]string{name}, first, second), "malformed", ""})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := e.authorize("Bearer " + signRaw(t, tt.payload))
			d := e.lastDecision()
			if tt.reason != "" {
				if err == nil || err.Error() != "Unauthorized" || d["reason"] != tt.reason {
					t.Fatalf("%s: err %v reason %v (%v), want Unauthorized, %s", tt.payload, err, d["reason"], d["detail"], tt.reason)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s: %v, reason %v (%v)", tt.payload, err, d["reason"], d["detail"])
			}
			if got := resp.Context["scope"]; got != tt.scope {
				t.Errorf("%s: scope %q, want %q", tt.payload, got, tt.scope)
			}
			// The policy follows the exact scope claim only.
			want := gateway.ExplicitDeny
			if strings.Contains(tt.scope, "pets:read") {
				want = gateway.Allow
			}
			if got, _ := gateway.Evaluate(resp.PolicyDocument, testMethodARN); got != want {
				t.Errorf("%s: GET /pets is %v, want %v", tt.payload, got, want)
			}
		})
	}
}

// exp, nbf and iat are JSON numbers (RFC 7519 NumericDate); a string, even
// of digits, is refused rather than read as a time.
func TestTimeClaimsAsStringsAreRefused(t *testing.T) {
	e := newEnv(t)
	now := e.clock.Now().Unix()
	for _, member := range []string{
		fmt.Sprintf(`"exp":"%d"`, now+3600),
		fmt.Sprintf(`"nbf":"%d"`, now-60),
		fmt.Sprintf(`"iat":"%d"`, now),
		`"exp":1e300`,
		`"exp":true`,
	} {
		exp := fmt.Sprintf(`,"exp":%d`, now+3600)
		if strings.HasPrefix(member, `"exp"`) {
			exp = ""
		}
		payload := fmt.Sprintf(`{"iss":%q,"sub":"user-123","aud":%q%s,%s}`, e.idp.URL, testAudience, exp, member)
		if _, err := e.authorize("Bearer " + signRaw(t, payload)); err == nil || e.lastDecision()["reason"] != "malformed" {
			t.Errorf("%s: err %v reason %v, want malformed", payload, err, e.lastDecision()["reason"])
		}
	}
}
