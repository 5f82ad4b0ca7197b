package authorizer

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

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

// Permits reports whether a token with the given scopes may call the route.
func (r RouteRule) Permits(scopes []string) bool {
	if len(r.Scopes) == 0 {
		return true
	}
	for _, s := range r.Scopes {
		if slices.Contains(scopes, s) {
			return true
		}
	}
	return false
}

// resources are the rule's parts of execute-api ARNs: "GET/pets/*". A rule
// for any method names each method: a "*" in the method's place would also
// match across "/" into the path ("*/me" matches "DELETE/admin/users/me").
func (r RouteRule) resources() []string {
	var path strings.Builder
	for i, seg := range strings.Split(strings.TrimPrefix(r.Path, "/"), "/") {
		if i > 0 {
			path.WriteByte('/')
		}
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			seg = "*"
		}
		path.WriteString(seg)
	}
	methods := []string{r.Method}
	if r.Method == "*" {
		methods = ruleMethods[:len(ruleMethods)-1]
	}
	out := make([]string, len(methods))
	for i, m := range methods {
		out[i] = m + "/" + path.String()
	}
	return out
}

var ruleMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "*"}

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

func checkRulePath(p string) error {
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("path %q must start with /", p)
	}
	for _, seg := range strings.Split(p[1:], "/") {
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

// MethodARN is a parsed execute-api method ARN:
// arn:{partition}:execute-api:{region}:{account}:{apiId}/{stage}/{VERB}/{path}.
type MethodARN struct {
	Partition, Region, Account, APIID, Stage string
	Method, Path                             string // e.g. "GET", "pets/1"
	stageARN                                 string // the input up to the stage
}

// ParseMethodARN parses the methodArn of an authorizer event. Wildcards are
// refused: the ARN names one method of one deployed stage. The fields are
// slices of s: parsing allocates nothing, as it runs on every call.
func ParseMethodARN(s string) (MethodARN, error) {
	bad := func(why string) (MethodARN, error) {
		return MethodARN{}, fmt.Errorf("%w: %s", ErrInvalidMethodARN, why)
	}
	if len(s) > 2048 {
		return bad("too long")
	}
	var m MethodARN
	rest, ok := strings.CutPrefix(s, "arn:")
	m.Partition, rest, _ = strings.Cut(rest, ":")
	service, rest, _ := strings.Cut(rest, ":")
	m.Region, rest, _ = strings.Cut(rest, ":")
	m.Account, rest, _ = strings.Cut(rest, ":")
	if !ok || service != "execute-api" {
		return bad("not an execute-api ARN")
	}
	m.APIID, rest, _ = strings.Cut(rest, "/")
	m.Stage, rest, _ = strings.Cut(rest, "/")
	m.Method, m.Path, ok = strings.Cut(rest, "/")
	if !ok && rest == "" {
		return bad("no API id, stage and method")
	}
	for _, field := range []string{m.Partition, m.Region, m.Account, m.APIID, m.Stage, m.Method} {
		if !arnField(field) {
			return bad("empty field or wildcard")
		}
	}
	m.stageARN = s[:len(s)-len(rest)-1]
	return m, nil
}

// arnField accepts a non-empty ARN field without wildcards, separators or
// spaces.
func arnField(f string) bool {
	for i := 0; i < len(f); i++ {
		switch c := f[i]; {
		case c <= ' ', c == '*', c == '?', c == '/', c == ':':
			return false
		}
	}
	return f != ""
}

// StageARN is the ARN prefix that covers every route of the stage.
func (m MethodARN) StageARN() string {
	if m.stageARN != "" {
		return m.stageARN
	}
	return "arn:" + m.Partition + ":execute-api:" + m.Region + ":" + m.Account + ":" + m.APIID + "/" + m.Stage
}

// String gives the ARN back.
func (m MethodARN) String() string {
	return m.StageARN() + "/" + m.Method + "/" + m.Path
}

// BuildPolicy answers for the whole stage: Allow for each route the scopes
// permit, an explicit Deny for every other route. API Gateway caches the
// policy per token and reuses it for every route, so a policy that only named
// the invoked method would wrongly refuse the token's next, different call.
// A token that permits nothing gets a policy with only the Deny (a 403).
func BuildPolicy(stageARN string, rules []RouteRule, scopes []string) events.APIGatewayCustomAuthorizerPolicy {
	var allow, deny []string
	for _, r := range rules {
		for _, res := range r.resources() {
			if r.Permits(scopes) {
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

// policyMemo remembers the policies BuildPolicy gave. A policy depends only
// on the stage and on which rules the token's scopes permit: the tokens of
// a stage share a handful of policies, one per combination of scopes in
// use, and a lookup costs a fraction of building one. It holds at most
// maxMemoPolicies; beyond that (or with over 64 rules) policies are built
// each time.
type policyMemo struct {
	mu       sync.RWMutex
	policies map[policyKey]events.APIGatewayCustomAuthorizerPolicy
}

type policyKey struct {
	stageARN  string
	permitted uint64 // bit i: rules[i] permits the scopes
}

const maxMemoPolicies = 256

// policy is BuildPolicy(stageARN, rules, scopes), shared between calls: it
// must not be modified.
func (m *policyMemo) policy(stageARN string, rules []RouteRule, scopes []string) events.APIGatewayCustomAuthorizerPolicy {
	if len(rules) > 64 {
		return BuildPolicy(stageARN, rules, scopes)
	}
	key := policyKey{stageARN: stageARN}
	for i, r := range rules {
		if r.Permits(scopes) {
			key.permitted |= 1 << i
		}
	}
	m.mu.RLock()
	p, ok := m.policies[key]
	m.mu.RUnlock()
	if ok {
		return p
	}
	p = BuildPolicy(stageARN, rules, scopes)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.policies == nil {
		m.policies = map[policyKey]events.APIGatewayCustomAuthorizerPolicy{}
	}
	if len(m.policies) < maxMemoPolicies {
		key.stageARN = strings.Clone(stageARN) // not the event's whole methodArn
		m.policies[key] = p
	}
	return p
}
