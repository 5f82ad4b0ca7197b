package authorizer

import (
	"errors"
	"fmt"
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

var ruleMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "*"}

// resources are the rule's parts of execute-api ARNs, one for each spelling
// of the path API Gateway routes to the rule's resource: "GET/pets/*/secret"
// and "GET/pets/*/secret/". API Gateway routes /pets/1/secret/ (and
// /pets/1/secret//: runs of slashes count as one) to /pets/{petId}/secret
// and keeps the trailing slash in the method ARN, so a Deny naming only the
// first spelling would be escaped by the second, and an Allow would refuse
// it. No wildcard is added: a Deny must not reach deeper routes that other
// rules allow. A rule for any method names each method: a "*" in the
// method's place would also match across "/" into the path ("*/me" matches
// "DELETE/admin/users/me").
func (r RouteRule) resources() []string {
	segs := strings.Split(strings.TrimPrefix(r.Path, "/"), "/")
	for i, seg := range segs {
		if strings.HasPrefix(seg, "{") {
			segs[i] = "*" // {petId}, {proxy+}
		}
	}
	path := strings.Join(segs, "/")
	methods := []string{r.Method}
	if r.Method == "*" {
		methods = ruleMethods[:len(ruleMethods)-1]
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

// ParseRouteRules reads rules of the form
//
//	GET /pets=pets:read,GET /pets/*=pets:read,POST /pets=pets:write,GET /me=
//
// Rules are separated by commas; in each, the scopes after "=" are separated
// by spaces, and any one of them admits the token. Nothing after "=" means any
// valid token.
func ParseRouteRules(s string) ([]RouteRule, error) {
	var rules []RouteRule
	for _, raw := range strings.Split(s, ",") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		route, scopes, ok := strings.Cut(raw, "=")
		if !ok {
			return nil, fmt.Errorf("rule %q: want \"METHOD /path=scope ...\"", raw)
		}
		method, path, ok := strings.Cut(strings.TrimSpace(route), " ")
		method, path = strings.ToUpper(strings.TrimSpace(method)), strings.TrimSpace(path)
		if method == "ANY" {
			method = "*"
		}
		if !ok || !slices.Contains(ruleMethods, method) {
			return nil, fmt.Errorf("rule %q: method must be one of %s or ANY", raw, strings.Join(ruleMethods[:7], ", "))
		}
		if err := checkRulePath(path); err != nil {
			return nil, fmt.Errorf("rule %q: %w", raw, err)
		}
		rules = append(rules, RouteRule{Method: method, Path: path, Scopes: strings.Fields(scopes)})
	}
	if len(rules) == 0 {
		return nil, errors.New("no route rules: at least one \"METHOD /path=scope\" is needed")
	}
	return rules, nil
}

// checkRulePath accepts "/" and paths of non-empty segments, as API Gateway
// resources are: literal characters, "*" or a {param}.
func checkRulePath(p string) error {
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("path %q must start with /", p)
	}
	if p == "/" {
		return nil
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if seg == "" {
			return fmt.Errorf("path %q has an empty segment (a trailing or double slash)", p)
		}
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") && len(seg) > 2 {
			continue // a path parameter, {petId} or {proxy+}
		}
		for _, c := range seg {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-._~*", c)) {
				return fmt.Errorf("path %q: character %q is not allowed", p, c)
			}
		}
	}
	return nil
}

// stageARN returns the part of an execute-api method ARN,
// arn:{partition}:execute-api:{region}:{account}:{apiId}/{stage}/{VERB}/{path},
// that covers every route of the stage. Wildcards are refused: the ARN names
// one method of one deployed stage.
func stageARN(methodARN string) (string, error) {
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("%w: %s", ErrInvalidMethodARN, why)
	}
	if len(methodARN) > 2048 {
		return bad("too long")
	}
	fields := strings.SplitN(methodARN, ":", 6) // arn, partition, service, region, account, resource
	if len(fields) != 6 || fields[0] != "arn" || fields[2] != "execute-api" {
		return bad("not an execute-api ARN")
	}
	resource := strings.SplitN(fields[5], "/", 4) // apiId, stage, VERB, path
	if len(resource) < 3 {
		return bad("no API id, stage and method")
	}
	for _, f := range slices.Concat(fields[1:5], resource[:3]) {
		if f == "" || strings.ContainsFunc(f, func(c rune) bool { return c <= ' ' || strings.ContainsRune("*?/:", c) }) {
			return bad("empty field or wildcard")
		}
	}
	return strings.Join(fields[:5], ":") + ":" + resource[0] + "/" + resource[1], nil
}

// buildPolicy answers for the whole stage: Allow for each route the scopes
// permit, an explicit Deny for every other route. API Gateway caches the
// policy per token and reuses it for every route, so a policy that only named
// the invoked method would wrongly refuse the token's next, different call.
// A token that permits nothing gets a policy with only the Deny (a 403).
func buildPolicy(stageARN string, rules []RouteRule, scopes []string) events.APIGatewayCustomAuthorizerPolicy {
	var allow, deny []string
	for _, r := range rules {
		for _, res := range r.resources() {
			if r.permits(scopes) {
				allow = append(allow, stageARN+"/"+res)
			} else {
				deny = append(deny, stageARN+"/"+res)
			}
		}
	}
	p := events.APIGatewayCustomAuthorizerPolicy{Version: "2012-10-17"}
	if len(allow) > 0 {
		p.Statement = append(p.Statement, events.IAMPolicyStatement{Action: []string{"execute-api:Invoke"}, Effect: "Allow", Resource: allow})
	}
	if len(deny) > 0 {
		p.Statement = append(p.Statement, events.IAMPolicyStatement{Action: []string{"execute-api:Invoke"}, Effect: "Deny", Resource: deny})
	}
	return p
}
