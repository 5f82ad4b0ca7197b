package gateway

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// Decision is the outcome of evaluating a policy against a method ARN.
type Decision int

// The three outcomes, as API Gateway distinguishes them in its 403 bodies.
const (
	ImplicitDeny Decision = iota // no statement allows: 403 "not authorized"
	Allow                        // an Allow matches and no Deny does
	ExplicitDeny                 // a Deny matches: 403 "with an explicit deny"
)

func (d Decision) String() string {
	switch d {
	case Allow:
		return "Allow"
	case ExplicitDeny:
		return "ExplicitDeny"
	default:
		return "ImplicitDeny"
	}
}

// ErrInvalidPolicy is returned for a policy API Gateway would not accept
// (it answers 500 AuthorizerConfigurationException).
var ErrInvalidPolicy = errors.New("invalid authorizer policy")

// Evaluate decides a request the way API Gateway applies an authorizer's
// policy to a method ARN: an explicit Deny wins over any Allow; without a
// matching Allow the request is refused. In Action and Resource, "*" matches
// any run of characters ("/" included) and "?" any one character; actions
// match without regard to case, resources with it.
//
// The emulator judges every authorizer answer with it, and the tests of the
// authorizer's policies use it too, so both agree on what a policy means.
func Evaluate(p events.APIGatewayCustomAuthorizerPolicy, methodARN string) (Decision, error) {
	if len(p.Statement) == 0 {
		return ImplicitDeny, fmt.Errorf("%w: no statements", ErrInvalidPolicy)
	}
	decision := ImplicitDeny
	for i, st := range p.Statement {
		if st.Effect != "Allow" && st.Effect != "Deny" {
			return ImplicitDeny, fmt.Errorf("%w: statement %d: effect %q", ErrInvalidPolicy, i, st.Effect)
		}
		if len(st.Action) == 0 || len(st.Resource) == 0 {
			return ImplicitDeny, fmt.Errorf("%w: statement %d: no action or resource", ErrInvalidPolicy, i)
		}
		if !matchAny(st.Action, "execute-api:invoke", strings.ToLower) || !matchAny(st.Resource, methodARN, nil) {
			continue
		}
		if st.Effect == "Deny" {
			return ExplicitDeny, nil
		}
		decision = Allow
	}
	return decision, nil
}

func matchAny(patterns []string, s string, fold func(string) string) bool {
	for _, p := range patterns {
		if fold != nil {
			p = fold(p)
		}
		if Match(p, s) {
			return true
		}
	}
	return false
}

// Match reports whether s matches the IAM wildcard pattern: "*" matches any
// run of characters, including "/" and the empty run; "?" matches exactly
// one. It runs in O(len(p)*len(s)) at worst, with no recursion.
func Match(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
