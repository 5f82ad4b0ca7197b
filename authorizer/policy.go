package authorizer

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// RouteRule says which scopes a route needs: a token with at least one of
// Scopes may call it; a rule without scopes admits every valid token.
type RouteRule struct {
	Method string   // GET, POST, ... or * for any method
	Path   string   // /pets, /pets/* or /pets/{petId}; * and {param} match anything, deeper paths included
	Scopes []string // any one of them suffices; empty: any valid token
}

// String gives the rule back in the syntax ParseRouteRules reads.
func (r RouteRule) String() string {
	return r.Method + " " + r.Path + "=" + strings.Join(r.Scopes, " ")
}

func (r RouteRule) permits(scopes []string) bool {
	return len(r.Scopes) == 0 || slices.ContainsFunc(r.Scopes, func(s string) bool { return slices.Contains(scopes, s) })
}

var pathParam = regexp.MustCompile(`\{[^}]*\}`)

// httpMethods are the methods a rule may name; ANY (or *) stands for each.
var httpMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}

// resources are the rule's parts of execute-api ARNs, one per spelling of
// the path that API Gateway routes to the rule's resource. It routes
// /pets/1/secret/ and /pets/1/secret// (runs of slashes count as one) to
// /pets/{petId}/secret, and keeps one trailing slash in the method ARN: so
// "GET/pets/*/secret" and "GET/pets/*/secret/", and no "/*", which in a
// Deny would reach deeper routes other rules allow. ANY names each method:
// a "*" there would match across "/" ("*/me" matches "DELETE/admin/me").
func (r RouteRule) resources() []string {
	path := pathParam.ReplaceAllString(r.Path[1:], "*") // {petId}, {proxy+}
	methods := []string{r.Method}
	if r.Method == "*" {
		methods = httpMethods
	}
	var out []string
	for _, m := range methods {
		out = append(out, m+"/"+path)
		if path != "" && !strings.HasSuffix(path, "*") { // "*" matches the slash already
			out = append(out, m+"/"+path+"/")
		}
	}
	return out
}

// ParseRouteRules reads comma-separated rules such as DefaultRouteScopes:
// in each, any one of the space-separated scopes after "=" admits a token;
// nothing after "=" admits any valid token.
func ParseRouteRules(s string) ([]RouteRule, error) {
	var rules []RouteRule
	for _, raw := range strings.Split(s, ",") {
		if raw = strings.TrimSpace(raw); raw == "" {
			continue
		}
		m := ruleSyntax.FindStringSubmatch(raw)
		if m == nil {
			return nil, fmt.Errorf("rule %q: want \"METHOD /path=scope ...\"", raw)
		}
		method := strings.ToUpper(m[1])
		if method == "ANY" {
			method = "*"
		}
		if method != "*" && !slices.Contains(httpMethods, method) {
			return nil, fmt.Errorf("rule %q: method must be one of %s or ANY", raw, strings.Join(httpMethods, ", "))
		}
		if !rulePath.MatchString(m[2]) {
			return nil, fmt.Errorf("rule %q: path %q must start with / and have no empty segment; a segment is a {param} or of A-Z a-z 0-9 - . _ ~ *", raw, m[2])
		}
		scopes := strings.FieldsFunc(m[3], func(r rune) bool { return r == ' ' })
		if i := slices.IndexFunc(scopes, func(s string) bool { return !isScopeToken(s) }); i >= 0 {
			return nil, fmt.Errorf("rule %q: scope %q is not one of RFC 6749's scope-tokens (printable ASCII but space, quote and backslash)", raw, scopes[i])
		}
		rules = append(rules, RouteRule{Method: method, Path: m[2], Scopes: scopes})
	}
	if len(rules) == 0 {
		return nil, errors.New("no route rules: at least one \"METHOD /path=scope\" is needed")
	}
	return rules, nil
}

// ruleSyntax is "METHOD /path=scopes".
var ruleSyntax = regexp.MustCompile(`^(\S+)\s+(\S+?)\s*=(.*)$`)

// rulePath matches "/" and paths of non-empty segments, as API Gateway
// resources are: unreserved characters and "*", or a {param}.
var rulePath = regexp.MustCompile(`^(/|(/([A-Za-z0-9._~*-]+|\{[A-Za-z0-9._-]+\+?\}))+)$`)

// methodARN matches arn:{partition}:execute-api:{region}:{account}:{apiId}/
// {stage}/{VERB}/{path} without wildcards before the path; its first group
// covers every route of the stage.
var methodARN = regexp.MustCompile(`^(arn:[^:*?/\s]+:execute-api:[^:*?/\s]+:[^:*?/\s]+:[^:*?/\s]+/[^:*?/\s]+)/[^:*?/\s]+(/.*)?$`)

func stageARN(arn string) (string, error) {
	m := methodARN.FindStringSubmatch(arn)
	if len(arn) > 2048 || m == nil {
		return "", fmt.Errorf("%w: %.256q", errInvalidMethodARN, arn)
	}
	return m[1], nil
}

// buildPolicy answers for the whole stage: Allow for each route the scopes
// permit, an explicit Deny for the others. API Gateway caches the policy per
// token and reuses it for every route, so a policy naming only the invoked
// method would wrongly refuse the token's next call elsewhere.
//
// The method ARN holds the path decoded, its dot segments resolved
// (docs/architecture.md). Were an escape or a dot segment ever kept as sent
// ("GET/pets/1/%73ecret", "GET/pets/1/secret/.", "GET/pets/1/../../admin"),
// a wildcard Allow ("GET/pets/*") would match a spelling of a denied or
// unruled route that no finite Deny list could name. So, failing closed,
// every policy also denies every method ARN holding a "%" or a "." or ".."
// segment; the backend's own scope check stays the second guard.
func buildPolicy(stageARN string, rules []RouteRule, scopes []string) events.APIGatewayCustomAuthorizerPolicy {
	var allow, deny []string
	for _, r := range rules {
		for _, res := range r.resources() {
			if r.permits(scopes) {
				allow = append(allow, stageARN+"/"+res)
				continue
			}
			deny = append(deny, stageARN+"/"+res)
			if strings.HasSuffix(res, "/") { // more trailing slashes, should a method ARN keep them
				deny = append(deny, stageARN+"/"+res+"/*")
			}
		}
	}
	for _, odd := range oddSpellings {
		deny = append(deny, stageARN+"/"+odd)
	}
	// Allow first: the handler reads the outcome from the first statement.
	p := events.APIGatewayCustomAuthorizerPolicy{Version: "2012-10-17"}
	if len(allow) > 0 {
		p.Statement = append(p.Statement, statement("Allow", allow))
	}
	if len(deny) > 0 {
		p.Statement = append(p.Statement, statement("Deny", deny))
	}
	return p
}

// oddSpellings are the method ARNs of any method whose path holds a "%" or
// a "." or ".." segment.
var oddSpellings = []string{"*%*", "*/./*", "*/.", "*/../*", "*/.."}

func statement(effect string, resources []string) events.IAMPolicyStatement {
	return events.IAMPolicyStatement{Effect: effect, Action: []string{"execute-api:Invoke"}, Resource: resources}
}
