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

