package authorizer

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

const stage = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod"

func TestReadOnlyTokenPolicyAcrossTheStage(t *testing.T) {
	rules, err := ParseRouteRules(DefaultRouteScopes)
	if err != nil {
		t.Fatal(err)
	}
	policy := BuildPolicy(stage, rules, []string{"openid", "pets:read"})
	tests := []struct {
		arn  string
		want Decision
	}{
		{stage + "/GET/pets", Allow},
		{stage + "/GET/pets/42", Allow},
		{stage + "/POST/pets", ExplicitDeny},
		{stage + "/GET/me", Allow},
		{stage + "/DELETE/pets/42", ImplicitDeny}, // no rule: never allowed
		{"arn:aws:execute-api:eu-west-1:123456789012:otherapi99/prod/GET/pets", ImplicitDeny}, // another API
		{"arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/dev/GET/pets", ImplicitDeny},  // another stage
		{"arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/pets", ImplicitDeny}, // another region
		{"arn:aws:execute-api:eu-west-1:999999999999:abcdef1234/prod/GET/pets", ImplicitDeny}, // another account
	}
	for _, tt := range tests {
		got, err := Evaluate(policy, tt.arn)
		if err != nil || got != tt.want {
			t.Errorf("%s: %v (%v), want %v", tt.arn, got, err, tt.want)
		}
	}

	writer := BuildPolicy(stage, rules, []string{"pets:read", "pets:write"})
	for _, route := range []string{"/GET/pets", "/GET/pets/1", "/POST/pets", "/GET/me"} {
		if got, _ := Evaluate(writer, stage+route); got != Allow {
			t.Errorf("writer %s: %v", route, got)
		}
	}
}

func TestBuildPolicyShape(t *testing.T) {
	rules, _ := ParseRouteRules("GET /pets/{petId}=pets:read,POST /pets=pets:write,ANY /admin/*=admin")
	p := BuildPolicy(stage, rules, []string{"pets:read"})
	if p.Version != "2012-10-17" || len(p.Statement) != 2 {
		t.Fatalf("policy %+v", p)
	}
	allow, deny := p.Statement[0], p.Statement[1]
	if allow.Effect != "Allow" || strings.Join(allow.Resource, ",") != stage+"/GET/pets/*" {
		t.Errorf("allow %+v", allow)
	}
	wantDeny := []string{stage + "/POST/pets"}
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"} {
		wantDeny = append(wantDeny, stage+"/"+m+"/admin/*")
	}
	if deny.Effect != "Deny" || strings.Join(deny.Resource, ",") != strings.Join(wantDeny, ",") {
		t.Errorf("deny %+v", deny)
	}
	if allow.Action[0] != "execute-api:Invoke" {
		t.Errorf("action %v", allow.Action)
	}
	none := BuildPolicy(stage, rules, nil)
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
	p := BuildPolicy(stage, rules, nil)
	for arn, want := range map[string]Decision{
		stage + "/GET/me":                Allow,
		stage + "/DELETE/me":             Allow,
		stage + "/DELETE/admin/users/me": ImplicitDeny,
		stage + "/POST/pets/me":          ImplicitDeny,
		stage + "/GET/pets":              ExplicitDeny,
	} {
		if got, err := Evaluate(p, arn); err != nil || got != want {
			t.Errorf("%s: %v (%v), want %v", arn, got, err, want)
		}
	}
}

func TestEvaluate(t *testing.T) {
	st := func(effect string, resources ...string) events.IAMPolicyStatement {
		return events.IAMPolicyStatement{Action: []string{"execute-api:Invoke"}, Effect: effect, Resource: resources}
	}
	arn := stage + "/GET/pets/42"
	tests := []struct {
		name   string
		policy []events.IAMPolicyStatement
		want   Decision
	}{
		{"exact allow", []events.IAMPolicyStatement{st("Allow", arn)}, Allow},
		{"star crosses slashes", []events.IAMPolicyStatement{st("Allow", "arn:aws:execute-api:*")}, Allow},
		{"star in the middle", []events.IAMPolicyStatement{st("Allow", stage+"/*/pets/*")}, Allow},
		{"star matches empty", []events.IAMPolicyStatement{st("Allow", stage+"/GET/pets/42*")}, Allow},
		{"question mark is one character", []events.IAMPolicyStatement{st("Allow", stage+"/GET/pets/4?")}, Allow},
		{"question mark is not two", []events.IAMPolicyStatement{st("Allow", stage+"/GET/pets/?")}, ImplicitDeny},
		{"explicit deny wins over allow", []events.IAMPolicyStatement{st("Allow", "*"), st("Deny", stage+"/GET/*")}, ExplicitDeny},
		{"deny first, allow second", []events.IAMPolicyStatement{st("Deny", arn), st("Allow", arn)}, ExplicitDeny},
		{"deny elsewhere", []events.IAMPolicyStatement{st("Allow", "*"), st("Deny", stage+"/POST/*")}, Allow},
		{"no matching allow", []events.IAMPolicyStatement{st("Allow", stage+"/POST/pets")}, ImplicitDeny},
		{"case matters in resources", []events.IAMPolicyStatement{st("Allow", strings.ToUpper(arn))}, ImplicitDeny},
		{"another action", []events.IAMPolicyStatement{{Action: []string{"s3:GetObject"}, Effect: "Allow", Resource: []string{"*"}}}, ImplicitDeny},
		{"action wildcard, any case", []events.IAMPolicyStatement{{Action: []string{"Execute-API:*"}, Effect: "Allow", Resource: []string{"*"}}}, Allow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Evaluate(events.APIGatewayCustomAuthorizerPolicy{Version: "2012-10-17", Statement: tt.policy}, arn)
			if err != nil || got != tt.want {
				t.Errorf("got %v (%v), want %v", got, err, tt.want)
			}
		})
	}
}

func TestEvaluateRejectsInvalidPolicies(t *testing.T) {
	for name, p := range map[string]events.APIGatewayCustomAuthorizerPolicy{
		"no statements":    {Version: "2012-10-17"},
		"unknown effect":   {Statement: []events.IAMPolicyStatement{{Action: []string{"*"}, Effect: "allow", Resource: []string{"*"}}}},
		"no resource":      {Statement: []events.IAMPolicyStatement{{Action: []string{"*"}, Effect: "Allow"}}},
		"no action at all": {Statement: []events.IAMPolicyStatement{{Effect: "Allow", Resource: []string{"*"}}}},
	} {
		if _, err := Evaluate(p, stage+"/GET/pets"); !errors.Is(err, ErrInvalidPolicy) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"", "", true}, {"*", "", true}, {"*", "a/b/c", true}, {"a*c", "abbbc", true},
		{"a*c", "ab/bc", true}, {"a*c", "abcd", false}, {"a?c", "abc", true}, {"a?c", "ac", false},
		{"**", "x", true}, {"*a*b", "xaxb", true}, {"*a*b", "xaxbx", false}, {"abc", "abd", false},
		{strings.Repeat("*a", 50), strings.Repeat("a", 60), true}, {strings.Repeat("*a", 50) + "b", strings.Repeat("a", 200), false},
	}
	for _, tt := range tests {
		if got := Match(tt.pattern, tt.s); got != tt.want {
			t.Errorf("Match(%q, %q) = %v", tt.pattern, tt.s, got)
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
	for _, bad := range []string{"", " , ", "GET /pets", "FETCH /pets=x", "GET pets=x", "GET /pets?x=1=y", "GET=x", "GET /a b=x"} {
		if _, err := ParseRouteRules(bad); err == nil {
			t.Errorf("ParseRouteRules(%q) accepted", bad)
		}
	}
}

func TestParseMethodARN(t *testing.T) {
	m, err := ParseMethodARN("arn:aws-cn:execute-api:cn-north-1:123456789012:abc123/v1/POST/pets/7/toys")
	if err != nil {
		t.Fatal(err)
	}
	if m.Partition != "aws-cn" || m.APIID != "abc123" || m.Stage != "v1" || m.Method != "POST" || m.Path != "pets/7/toys" {
		t.Errorf("parsed %+v", m)
	}
	if m.StageARN() != "arn:aws-cn:execute-api:cn-north-1:123456789012:abc123/v1" || m.String() != "arn:aws-cn:execute-api:cn-north-1:123456789012:abc123/v1/POST/pets/7/toys" {
		t.Errorf("StageARN %q String %q", m.StageARN(), m.String())
	}
	root, err := ParseMethodARN("arn:aws:execute-api:us-east-1:123456789012:abc123/ESTestInvoke-stage/GET/")
	if err != nil || root.Path != "" {
		t.Errorf("root: %+v %v", root, err)
	}
	for _, bad := range []string{
		"", "arn:aws:s3:::bucket/key", "arn:aws:execute-api:us-east-1:123456789012:abc123",
		"arn:aws:execute-api:us-east-1:123456789012:abc123/prod", "arn:aws:execute-api:us-east-1:123456789012:*/prod/GET/",
		"arn:aws:execute-api::123456789012:abc/prod/GET/", "arn:aws:execute-api:us-east-1:123456789012:abc/*/GET/",
		"arn:aws:execute-api:us-east-1:123456789012:abc/prod//pets", "arn:aws:execute-api:us-east-1:123:abc/prod/GET/" + strings.Repeat("a", 3000),
	} {
		if _, err := ParseMethodARN(bad); !errors.Is(err, ErrInvalidMethodARN) {
			t.Errorf("ParseMethodARN(%q) err = %v", bad, err)
		}
	}
}

// The memo gives what BuildPolicy gives, for every stage and combination of
// scopes, and stays bounded.
func TestPolicyMemo(t *testing.T) {
	rules, err := ParseRouteRules(DefaultRouteScopes + ",ANY /admin/*=admin")
	if err != nil {
		t.Fatal(err)
	}
	scopeSets := [][]string{nil, {"pets:read"}, {"pets:write"}, {"pets:read", "pets:write"}, {"openid", "admin"}, {"pets:write", "pets:read"}}
	var m policyMemo
	for i := range maxMemoPolicies + 50 {
		stage := fmt.Sprintf("arn:aws:execute-api:eu-west-1:123456789012:api%04d/prod", i%(maxMemoPolicies/2))
		scopes := scopeSets[i%len(scopeSets)]
		for range 2 { // a miss, then (within the bound) a hit
			if got, want := m.policy(stage, rules, scopes), BuildPolicy(stage, rules, scopes); !reflect.DeepEqual(got, want) {
				t.Fatalf("stage %s scopes %v:\n got %+v\nwant %+v", stage, scopes, got, want)
			}
		}
	}
	if n := len(m.policies); n != maxMemoPolicies {
		t.Errorf("the memo holds %d policies, want its bound %d", n, maxMemoPolicies)
	}
}
