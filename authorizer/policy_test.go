package authorizer

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/example/petstore-oidc/local/gateway"
)

const stage = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod"

func TestReadOnlyTokenPolicyAcrossTheStage(t *testing.T) {
	rules, err := ParseRouteRules(DefaultRouteScopes)
	if err != nil {
		t.Fatal(err)
	}
	policy := buildPolicy(stage, rules, []string{"openid", "pets:read"})
	tests := []struct {
		arn  string
		want gateway.Decision
	}{
		{stage + "/GET/pets", gateway.Allow},
		{stage + "/GET/pets/42", gateway.Allow},
		{stage + "/POST/pets", gateway.ExplicitDeny},
		{stage + "/GET/me", gateway.Allow},
		{stage + "/DELETE/pets/42", gateway.ImplicitDeny},                                             // no rule: never allowed
		{"arn:aws:execute-api:eu-west-1:123456789012:otherapi99/prod/GET/pets", gateway.ImplicitDeny}, // another API
		{"arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/dev/GET/pets", gateway.ImplicitDeny},  // another stage
		{"arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/pets", gateway.ImplicitDeny}, // another region
		{"arn:aws:execute-api:eu-west-1:999999999999:abcdef1234/prod/GET/pets", gateway.ImplicitDeny}, // another account
	}
	for _, tt := range tests {
		got, err := gateway.Evaluate(policy, tt.arn)
		if err != nil || got != tt.want {
			t.Errorf("%s: %v (%v), want %v", tt.arn, got, err, tt.want)
		}
	}

	writer := buildPolicy(stage, rules, []string{"pets:read", "pets:write"})
	for _, route := range []string{"/GET/pets", "/GET/pets/1", "/POST/pets", "/GET/me"} {
		if got, _ := gateway.Evaluate(writer, stage+route); got != gateway.Allow {
			t.Errorf("writer %s: %v", route, got)
		}
	}
}

func TestBuildPolicyShape(t *testing.T) {
	rules, _ := ParseRouteRules("GET /pets/{petId}=pets:read,POST /pets=pets:write,ANY /admin/*=admin")
	p := buildPolicy(stage, rules, []string{"pets:read"})
	if p.Version != "2012-10-17" || len(p.Statement) != 2 {
		t.Fatalf("policy %+v", p)
	}
	allow, deny := p.Statement[0], p.Statement[1]
	if allow.Effect != "Allow" || strings.Join(allow.Resource, ",") != stage+"/GET/pets/*" {
		t.Errorf("allow %+v", allow)
	}
	wantDeny := []string{stage + "/POST/pets", stage + "/POST/pets/", stage + "/POST/pets//*"}
	methods := []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
	for _, m := range methods {
		wantDeny = append(wantDeny, stage+"/"+m+"/admin/*")
	}
	for _, odd := range []string{"*%*", "*/./*", "*/.", "*/../*", "*/.."} {
		wantDeny = append(wantDeny, stage+"/"+odd)
	}
	if deny.Effect != "Deny" || strings.Join(deny.Resource, ",") != strings.Join(wantDeny, ",") {
		t.Errorf("deny %+v", deny)
	}
	if allow.Action[0] != "execute-api:Invoke" {
		t.Errorf("action %v", allow.Action)
	}
	none := buildPolicy(stage, rules, nil)
	if len(none.Statement) != 1 || none.Statement[0].Effect != "Deny" {
		t.Errorf("no scopes: %+v", none)
	}
}

// An ANY rule names each method: as a "*" in the method's place it would
// match across "/" and allow routes no rule names.
func TestAnyMethodRuleStaysOnItsPath(t *testing.T) {
	rules, err := ParseRouteRules("GET /pets=pets:read,POST /pets=pets:write,ANY /me=")
	if err != nil {
		t.Fatal(err)
	}
	p := buildPolicy(stage, rules, nil)
	for arn, want := range map[string]gateway.Decision{
		stage + "/GET/me":                gateway.Allow,
		stage + "/DELETE/me":             gateway.Allow,
		stage + "/DELETE/admin/users/me": gateway.ImplicitDeny,
		stage + "/POST/pets/me":          gateway.ImplicitDeny,
		stage + "/GET/pets":              gateway.ExplicitDeny,
	} {
		if got, err := gateway.Evaluate(p, arn); err != nil || got != want {
			t.Errorf("%s: %v (%v), want %v", arn, got, err, want)
		}
	}
}

func TestParseRouteRules(t *testing.T) {
	rules, err := ParseRouteRules(" GET /pets = pets:read admin , post /pets/{petId}=pets:write,ANY /x=,  ")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"GET /pets=pets:read admin", "POST /pets/{petId}=pets:write", "* /x="}
	for i, r := range rules {
		if r.String() != want[i] {
			t.Errorf("rule %d = %q, want %q", i, r, want[i])
		}
	}
	for _, bad := range []string{"", " , ", "GET /pets", "FETCH /pets=x", "GET pets=x", "GET /pets?x=1=y", "GET=x", "GET /a b=x", "GET /pets/=x", "GET /pets//toys=x", "GET //=x",
		"GET /pets=pets:read\u00a0admin", "GET /pets=pets:read\tadmin", `GET /pets=pets:"read"`, "GET /pets=caf\u00e9"} { // scopes: RFC 6749's characters
		if _, err := ParseRouteRules(bad); err == nil {
			t.Errorf("ParseRouteRules(%q) accepted", bad)
		}
	}
}

func TestStageARN(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws-cn:execute-api:cn-north-1:123456789012:abc123/v1/POST/pets/7/toys": "arn:aws-cn:execute-api:cn-north-1:123456789012:abc123/v1",
		"arn:aws:execute-api:us-east-1:123456789012:abc123/ESTestInvoke-stage/GET/": "arn:aws:execute-api:us-east-1:123456789012:abc123/ESTestInvoke-stage",
		"arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET":                "arn:aws:execute-api:us-east-1:123456789012:abc123/prod",
	} {
		if got, err := stageARN(arn); err != nil || got != want {
			t.Errorf("stageARN(%q) = %q, %v; want %q", arn, got, err, want)
		}
	}
	for _, bad := range []string{
		"", "arn:aws:s3:::bucket/key", "arn:aws:execute-api:us-east-1:123456789012:abc123",
		"arn:aws:execute-api:us-east-1:123456789012:abc123/prod", "arn:aws:execute-api:us-east-1:123456789012:*/prod/GET/",
		"arn:aws:execute-api::123456789012:abc/prod/GET/", "arn:aws:execute-api:us-east-1:123456789012:abc/*/GET/",
		"arn:aws:execute-api:us-east-1:123456789012:abc/prod//pets", "arn:aws:execute-api:us-east-1:123:abc/prod/GET/" + strings.Repeat("a", 3000),
		"arn:aws:execute-api:us-east-1:123456789012:abc/prod/G T/pets",
	} {
		if _, err := stageARN(bad); !errors.Is(err, errInvalidMethodARN) {
			t.Errorf("stageARN(%q) err = %v", bad, err)
		}
	}
}

// A route denied under an allowed wildcard stays denied under every
// spelling of its path that API Gateway routes to it, as the local gateway
// names them in method ARNs (runs of slashes collapsed, one trailing slash
// kept), and under the spellings a method ARN would have if it kept every
// slash; the Deny does not reach the routes beside or below it that the
// rules allow. local/gateway's TestDeniedRouteUnderEverySpelling sends the
// requests themselves.
func TestDeniedRouteUnderEverySpelling(t *testing.T) {
	rules, err := ParseRouteRules("GET /pets=pets:read,GET /pets/*=pets:read,GET /pets/{petId}/secret=admin,GET /pets/{petId}/secret/public=pets:read,GET /me=")
	if err != nil {
		t.Fatal(err)
	}
	reader := buildPolicy(stage, rules, []string{"pets:read"})
	admin := buildPolicy(stage, rules, []string{"pets:read", "admin"})
	for _, tt := range []struct {
		path      string
		forReader gateway.Decision
	}{
		{"pets/1/secret", gateway.ExplicitDeny},
		{"pets/1/secret/", gateway.ExplicitDeny},
		{"pets/abc-7/secret/", gateway.ExplicitDeny},
		{"pets/1/secret//", gateway.ExplicitDeny},  // were every slash kept
		{"pets/1/secret///", gateway.ExplicitDeny}, // were every slash kept
		{"pets//1/secret", gateway.ExplicitDeny},   // were every slash kept
		{"pets/1//secret//", gateway.ExplicitDeny}, // were every slash kept
		// Were percent-escapes or dot segments kept as sent, no finite Deny
		// list could name every spelling; a "%", "." or ".." segment anywhere
		// is refused, whatever the token.
		{"pets/1/%73ecret", gateway.ExplicitDeny},
		{"pets/1/%73%65%63%72%65%74/", gateway.ExplicitDeny},
		{"pets/1/s%65cret", gateway.ExplicitDeny},
		{"pets/1%2Fsecret", gateway.ExplicitDeny},
		{"pets/1/%2573ecret", gateway.ExplicitDeny},
		{"pets/a%20b", gateway.ExplicitDeny}, // the price: an allowed route's escaped spelling too
		{"pets/1/secret/.", gateway.ExplicitDeny},
		{"pets/1/secret/./", gateway.ExplicitDeny},
		{"pets/1/secret/..", gateway.ExplicitDeny},
		{"pets/1/secret/x/..", gateway.ExplicitDeny},
		{"pets/1/./secret", gateway.ExplicitDeny},
		{"pets/1/../../admin", gateway.ExplicitDeny}, // no rule covers /admin
		{"pets/1/.hidden", gateway.Allow},            // a dot that is no segment of its own
		{"pets/1/a..b", gateway.Allow},
		{"pets", gateway.Allow},
		{"pets/", gateway.Allow},
		{"pets/1", gateway.Allow},
		{"pets/1/", gateway.Allow},
		{"pets/1/secret/public", gateway.Allow},
		{"pets/1/secret/public/", gateway.Allow},
		{"pets/1/secretary", gateway.Allow},
		{"pets/1/toys/", gateway.Allow},
		{"me", gateway.Allow},
		{"me/", gateway.Allow},
	} {
		arn := stage + "/GET/" + tt.path
		if got, err := gateway.Evaluate(reader, arn); err != nil || got != tt.forReader {
			t.Errorf("pets:read, GET /%s: %v (%v), want %v", tt.path, got, err, tt.forReader)
		}
		wantAdmin := gateway.Allow
		if strings.Contains(tt.path, "%") || slices.ContainsFunc(strings.Split(tt.path, "/"), func(seg string) bool { return seg == "." || seg == ".." }) {
			wantAdmin = gateway.ExplicitDeny
		}
		if got, err := gateway.Evaluate(admin, arn); err != nil || got != wantAdmin {
			t.Errorf("admin, GET /%s: %v (%v), want %v", tt.path, got, err, wantAdmin)
		}
	}
	// An escape in a rule's literal part matches no Allow at all.
	arn := stage + "/GET/p%65ts/1/secret"
	if got, _ := gateway.Evaluate(reader, arn); got != gateway.ExplicitDeny {
		t.Errorf("pets:read, %s: %v, want ExplicitDeny", arn, got)
	}
	if got, _ := gateway.Evaluate(admin, arn); got != gateway.ExplicitDeny {
		t.Errorf("admin, %s: %v, want ExplicitDeny", arn, got)
	}
}

// The read-only token's policy that docs/authorizer.md shows, whole.
func TestReadOnlyPolicyDocument(t *testing.T) {
	rules, err := ParseRouteRules(DefaultRouteScopes)
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(buildPolicy("arn:aws:execute-api:us-east-1:123456789012:abcdef1234/Prod", rules, []string{"openid", "pets:read"}))
	if err != nil {
		t.Fatal(err)
	}
	const arn = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/Prod/"
	want := `{"Version":"2012-10-17","Statement":[` +
		`{"Action":["execute-api:Invoke"],"Effect":"Allow","Resource":["` + arn + `GET/pets","` + arn + `GET/pets/","` + arn + `GET/pets/*","` + arn + `GET/me","` + arn + `GET/me/"]},` +
		`{"Action":["execute-api:Invoke"],"Effect":"Deny","Resource":["` + arn + `POST/pets","` + arn + `POST/pets/","` + arn + `POST/pets//*","` + arn + `*%*","` + arn + `*/./*","` + arn + `*/.","` + arn + `*/../*","` + arn + `*/.."]}]}`
	if string(got) != want {
		t.Errorf("policy\n got %s\nwant %s", got, want)
	}
}
