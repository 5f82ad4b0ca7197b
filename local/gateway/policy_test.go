package gateway

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

const stage = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod"

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
