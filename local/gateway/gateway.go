package gateway

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/example/petstore-oidc/local/samtemplate"
)

// AuthorizerFunc is a TOKEN authorizer's Lambda handler, the function its
// main gives to lambda.Start.
type AuthorizerFunc func(context.Context, events.APIGatewayCustomAuthorizerRequest) (events.APIGatewayCustomAuthorizerResponse, error)

// ProxyFunc is a Lambda proxy integration's handler.
type ProxyFunc func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error)

// Config wires a REST API of the template to in-process handlers.
type Config struct {
	API samtemplate.RestAPI
	// Authorizers maps the logical id of each authorizer's function to its
	// handler; Functions does the same for the integrations.
	Authorizers map[string]AuthorizerFunc
	Functions   map[string]ProxyFunc
	// Region, AccountID and APIID make the method ARNs
	// (defaults: us-east-1, 123456789012, "local").
	Region, AccountID, APIID string
	// AuthorizerTimeout and IntegrationTimeout bound the handlers, as API
	// Gateway's 29-second integration timeout does (default 29 s each).
	AuthorizerTimeout, IntegrationTimeout time.Duration
	Logger                                *slog.Logger
	// Now is the clock of the authorizer cache (default time.Now).
	Now func() time.Time
}

// MaxPayloadBytes is API Gateway's limit on a request body.
const MaxPayloadBytes = 10 << 20

// Gateway is an http.Handler that serves the API.
type Gateway struct {
	cfg        Config
	routes     []route
	authorizer map[string]*tokenAuthorizer // by authorizer name
}

type route struct {
	samtemplate.Route
	segments []string // of the path template
}

type tokenAuthorizer struct {
	samtemplate.TokenAuthorizer
	handler    AuthorizerFunc
	validation *regexp.Regexp // nil: no validation expression
	cache      *policyCache   // nil: caching off
}

// New checks that every route and authorizer of the API has a handler.
func New(cfg Config) (*Gateway, error) {
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.AccountID == "" {
		cfg.AccountID = "123456789012"
	}
	if cfg.APIID == "" {
		cfg.APIID = "local"
	}
	if cfg.AuthorizerTimeout <= 0 {
		cfg.AuthorizerTimeout = 29 * time.Second
	}
	if cfg.IntegrationTimeout <= 0 {
		cfg.IntegrationTimeout = 29 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	g := &Gateway{cfg: cfg, authorizer: map[string]*tokenAuthorizer{}}
	for name, a := range cfg.API.Authorizers {
		if a.PayloadType != "TOKEN" {
			return nil, fmt.Errorf("authorizer %s: only TOKEN authorizers are emulated, not %s", name, a.PayloadType)
		}
		h, ok := cfg.Authorizers[a.Function]
		if !ok {
			return nil, fmt.Errorf("authorizer %s: no handler for function %s", name, a.Function)
		}
		ta := &tokenAuthorizer{TokenAuthorizer: a, handler: h}
		if a.ValidationExpression != "" {
			re, err := regexp.Compile(a.ValidationExpression)
			if err != nil {
				return nil, fmt.Errorf("authorizer %s: validation expression: %w", name, err)
			}
			ta.validation = re
		}
		if a.ReauthorizeEvery > 0 {
			ta.cache = newPolicyCache(time.Duration(a.ReauthorizeEvery)*time.Second, cfg.Now)
		}
		g.authorizer[name] = ta
	}
	for _, r := range cfg.API.Routes {
		if _, ok := cfg.Functions[r.Function]; !ok {
			return nil, fmt.Errorf("route %s %s: no handler for function %s", r.Method, r.Path, r.Function)
		}
		if r.Authorizer != "" && g.authorizer[r.Authorizer] == nil {
			return nil, fmt.Errorf("route %s %s: no authorizer %s", r.Method, r.Path, r.Authorizer)
		}
		g.routes = append(g.routes, route{Route: r, segments: strings.Split(strings.Trim(r.Path, "/"), "/")})
	}
	return g, nil
}

// exchange is one request through the gateway, and what the log line says
// of it.
type exchange struct {
	requestID   string
	status      int
	cache       string // hit, miss or "" (no authorizer, or caching off)
	effect      string // Allow, Deny, or "" when no policy was evaluated
	authorizer  time.Duration
	integration time.Duration
}

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	ex := &exchange{requestID: newRequestID()}
	defer func() {
		g.cfg.Logger.LogAttrs(r.Context(), slog.LevelInfo, "gateway request",
			slog.String("request_id", ex.requestID), slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", ex.status), slog.String("authorizer_cache", ex.cache), slog.String("policy_effect", ex.effect),
			slog.Int64("authorizer_us", ex.authorizer.Microseconds()), slog.Int64("integration_us", ex.integration.Microseconds()),
			slog.Int64("total_us", time.Since(start).Microseconds()))
	}()
	w.Header().Set("x-amzn-RequestId", ex.requestID)

	path := g.stripStage(collapseSlashes(r.URL.Path))
	rt, params, pathKnown := g.match(r.Method, path)
	if rt == nil {
		if r.Method == http.MethodOptions && pathKnown && g.cfg.API.Cors != nil && !g.cfg.API.AddDefaultAuthorizerToCorsPreflight {
			g.preflight(w, ex)
			return
		}
		// API Gateway's answer to any method or path it does not define.
		g.fail(w, ex, http.StatusForbidden, "MISSING_AUTHENTICATION_TOKEN", "MissingAuthenticationTokenException", `{"message":"Missing Authentication Token"}`)
		return
	}

	var principal map[string]string
	if rt.Authorizer != "" {
		var ok bool
		if principal, ok = g.authorize(w, r, ex, g.authorizer[rt.Authorizer], path); !ok {
			return
		}
	}
	g.integrate(w, r, ex, rt, path, params, principal)
}

// collapseSlashes is the path as API Gateway routes it and names it in the
// method ARN: each run of slashes counts as one ("/pets//1/" is "/pets/1/").
// A trailing slash stays: routing ignores it (match trims it), the method
// ARN keeps it, which is why the authorizer's policy names both spellings
// of each route.
func collapseSlashes(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '/' && i > 0 && p[i-1] == '/' {
			continue
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

// stripStage accepts URLs with the stage, as API Gateway's invoke URL has,
// and without, as `sam local start-api` serves them.
func (g *Gateway) stripStage(p string) string {
	prefix := "/" + g.cfg.API.StageName
	if g.cfg.API.StageName != "" && (p == prefix || strings.HasPrefix(p, prefix+"/")) {
		p = strings.TrimPrefix(p, prefix)
	}
	if p == "" {
		return "/"
	}
	return p
}

// match finds the route for method and path: literal segments first, then
// {param}, then {proxy+} (API Gateway prefers the most specific resource).
// pathKnown reports a resource for the path under another method.
func (g *Gateway) match(method, path string) (rt *route, params map[string]string, pathKnown bool) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	best := -1
	for i := range g.routes {
		p, score, ok := matchSegments(g.routes[i].segments, segs)
		if !ok {
			continue
		}
		pathKnown = true
		if (g.routes[i].Method == method || g.routes[i].Method == "ANY") && score > best {
			rt, params, best = &g.routes[i], p, score
		}
	}
	return rt, params, pathKnown
}

func matchSegments(tpl, segs []string) (map[string]string, int, bool) {
	params := map[string]string{}
	score := 0
	for i, t := range tpl {
		if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "+}") {
			if i >= len(segs) || segs[i] == "" {
				return nil, 0, false
			}
			params[strings.Trim(t, "{+}")] = strings.Join(segs[i:], "/")
			return params, score, true
		}
		if i >= len(segs) {
			return nil, 0, false
		}
		switch {
		case strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}"):
			if segs[i] == "" {
				return nil, 0, false
			}
			params[strings.Trim(t, "{}")] = segs[i]
			score += 1
		case t == segs[i]:
			score += 2
		default:
			return nil, 0, false
		}
	}
	if len(segs) != len(tpl) {
		return nil, 0, false
	}
	return params, score, true
}

// preflight answers OPTIONS as SAM's generated mock integration does.
func (g *Gateway) preflight(w http.ResponseWriter, ex *exchange) {
	c := g.cfg.API.Cors
	h := w.Header()
	setIf(h, "Access-Control-Allow-Origin", c.AllowOrigin)
	setIf(h, "Access-Control-Allow-Headers", c.AllowHeaders)
	setIf(h, "Access-Control-Allow-Methods", c.AllowMethods)
	setIf(h, "Access-Control-Max-Age", c.MaxAge)
	if c.AllowCredentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	h.Set("Content-Type", "application/json")
	ex.status = http.StatusOK
	w.WriteHeader(http.StatusOK)
}

func setIf(h http.Header, k, v string) {
	if v != "" {
		h.Set(k, v)
	}
}

// authorize runs the TOKEN authorizer, or answers from its cache, and
// applies the policy to the request's method ARN. On refusal it writes the
// response and returns false.
func (g *Gateway) authorize(w http.ResponseWriter, r *http.Request, ex *exchange, a *tokenAuthorizer, path string) (map[string]string, bool) {
	// Two identity headers: the integration would see one value (the last,
	// in the proxy event's headers) and the authorizer might have judged
	// another. Refuse rather than decide on one and deliver the other.
	if len(r.Header.Values(a.Header)) > 1 {
		g.unauthorized(w, ex)
		return nil, false
	}
	token := r.Header.Get(a.Header)
	methodARN := g.methodARN(r.Method, path)
	// Only tokens that passed the validation expression are cached, so a hit
	// needs no second look (the regexp costs more than the rest of a hit).
	resp, cached := a.cache.get(token)
	switch {
	case a.cache == nil:
		ex.cache = "off"
	case cached:
		ex.cache = "hit"
	default:
		ex.cache = "miss"
	}
	if !cached && (token == "" || a.validation != nil && !a.validation.MatchString(token)) {
		ex.cache = ""
		g.unauthorized(w, ex)
		return nil, false
	}
	if !cached {
		start := time.Now()
		var err error
		resp, err = invoke(r.Context(), a.handler, g.cfg.AuthorizerTimeout, events.APIGatewayCustomAuthorizerRequest{
			Type: "TOKEN", AuthorizationToken: token, MethodArn: methodARN,
		})
		ex.authorizer = time.Since(start)
		switch {
		case err != nil && err.Error() == "Unauthorized":
			g.unauthorized(w, ex)
			return nil, false
		case err != nil:
			g.configurationError(w, ex, err)
			return nil, false
		}
		if err := checkAnswer(resp); err != nil {
			g.configurationError(w, ex, err)
			return nil, false
		}
		a.cache.put(token, resp)
	}

	decision, err := Evaluate(resp.PolicyDocument, methodARN)
	if err != nil {
		g.configurationError(w, ex, err)
		return nil, false
	}
	switch decision {
	case ExplicitDeny:
		ex.effect = "Deny"
		g.fail(w, ex, http.StatusForbidden, "ACCESS_DENIED", "AccessDeniedException", `{"Message":"User is not authorized to access this resource with an explicit deny"}`)
		return nil, false
	case ImplicitDeny:
		ex.effect = "Deny"
		g.fail(w, ex, http.StatusForbidden, "ACCESS_DENIED", "AccessDeniedException", `{"Message":"User is not authorized to access this resource"}`)
		return nil, false
	}
	ex.effect = "Allow"
	// API Gateway hands the context to the integration as strings.
	principal := map[string]string{"principalId": resp.PrincipalID}
	for k, v := range resp.Context {
		principal[k] = fmt.Sprint(v)
	}
	return principal, true
}

// methodARN names the request as API Gateway's event does: the path comes
// collapsed (see collapseSlashes), with its trailing slash if it had one.
func (g *Gateway) methodARN(method, path string) string {
	return "arn:aws:execute-api:" + g.cfg.Region + ":" + g.cfg.AccountID + ":" + g.cfg.APIID + "/" +
		g.cfg.API.StageName + "/" + method + "/" + strings.TrimPrefix(path, "/")
}

// invoke calls a Lambda handler as the Lambda service would: with a
// deadline it enforces even on a handler that ignores its context, and with
// a panic turned into an error. The authorizer is called through it (once
// per token and TTL, thanks to the policy cache); the integration, called on
// every request, through callFunction.
func invoke[Req, Resp any](ctx context.Context, h func(context.Context, Req) (Resp, error), timeout time.Duration, req Req) (Resp, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type result struct {
		resp Resp
		err  error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{err: fmt.Errorf("handler panicked: %v", p)}
			}
		}()
		resp, err := h(ctx, req)
		done <- result{resp, err}
	}()
	select {
	case res := <-done:
		return res.resp, res.err
	case <-ctx.Done():
		var zero Resp
		return zero, fmt.Errorf("handler timed out: %w", ctx.Err())
	}
}

// callFunction invokes the integration as invoke does, but on the request's
// own goroutine, sparing every request a handoff to another goroutine
// (`make loadtest` measures the gateway against the router served
// directly). The deadline is the context's; an answer
// that comes after it is refused as a timeout, as API Gateway would have
// given up by then, but a function that ignores its context holds the
// request until it returns (docs/local.md lists this difference).
func callFunction(ctx context.Context, h ProxyFunc, timeout time.Duration, event events.APIGatewayProxyRequest) (resp events.APIGatewayProxyResponse, err error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			resp, err = events.APIGatewayProxyResponse{}, fmt.Errorf("handler panicked: %v", p)
		}
	}()
	resp, err = h(ctx, event)
	if err == nil && ctx.Err() != nil {
		return events.APIGatewayProxyResponse{}, fmt.Errorf("handler timed out: %w", ctx.Err())
	}
	return resp, err
}

// checkAnswer refuses what API Gateway would: no principal, a policy it
// cannot read, or a context value that is not a string, number or boolean.
func checkAnswer(resp events.APIGatewayCustomAuthorizerResponse) error {
	if resp.PrincipalID == "" {
		return errors.New("authorizer response has no principalId")
	}
	if len(resp.PolicyDocument.Statement) == 0 {
		return errors.New("authorizer response has no policy statements")
	}
	for k, v := range resp.Context {
		switch v.(type) {
		case string, bool, float64, float32, int, int32, int64, uint, uint32, uint64:
		default:
			return fmt.Errorf("authorizer context %q is a %T: only strings, numbers and booleans are allowed", k, v)
		}
	}
	return nil
}

func (g *Gateway) unauthorized(w http.ResponseWriter, ex *exchange) {
	g.fail(w, ex, http.StatusUnauthorized, "UNAUTHORIZED", "UnauthorizedException", `{"message":"Unauthorized"}`)
}

func (g *Gateway) configurationError(w http.ResponseWriter, ex *exchange, err error) {
	g.cfg.Logger.Warn("authorizer configuration error", "request_id", ex.requestID, "error", err.Error())
	g.fail(w, ex, http.StatusInternalServerError, "AUTHORIZER_CONFIGURATION_ERROR", "AuthorizerConfigurationException", `{"message": null}`)
}

// fail writes one of API Gateway's own answers, with the headers (and status,
// if any) the template's GatewayResponses give that response type, else its
// DEFAULT_4XX or DEFAULT_5XX.
func (g *Gateway) fail(w http.ResponseWriter, ex *exchange, status int, responseType, errorType, body string) {
	gr, ok := g.cfg.API.GatewayResponses[responseType]
	if !ok && status >= 500 {
		gr = g.cfg.API.GatewayResponses["DEFAULT_5XX"]
	} else if !ok {
		gr = g.cfg.API.GatewayResponses["DEFAULT_4XX"]
	}
	if gr.StatusCode != 0 {
		status = gr.StatusCode
	}
	h := w.Header()
	for k, v := range gr.Headers {
		h.Set(k, v)
	}
	h.Set("Content-Type", "application/json")
	h.Set("x-amzn-ErrorType", errorType)
	ex.status = status
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// integrate turns the request into a proxy event, invokes the function and
// writes its answer back.
func (g *Gateway) integrate(w http.ResponseWriter, r *http.Request, ex *exchange, rt *route, path string, params map[string]string, principal map[string]string) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxPayloadBytes))
	if err != nil {
		g.fail(w, ex, http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE", "RequestTooLargeException", `{"message":"Request Too Long"}`)
		return
	}
	event := g.proxyEvent(r, ex, rt, path, params, principal, body)
	start := time.Now()
	resp, err := callFunction(r.Context(), g.cfg.Functions[rt.Function], g.cfg.IntegrationTimeout, event)
	ex.integration = time.Since(start)
	if err != nil || resp.StatusCode < 100 || resp.StatusCode > 599 {
		if err == nil {
			err = fmt.Errorf("malformed proxy response: status %d", resp.StatusCode)
		}
		g.cfg.Logger.Warn("integration failed", "request_id", ex.requestID, "error", err.Error())
		g.fail(w, ex, http.StatusBadGateway, "DEFAULT_5XX", "InternalServerErrorException", `{"message": "Internal server error"}`)
		return
	}
	payload := []byte(resp.Body)
	if resp.IsBase64Encoded {
		if payload, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			g.fail(w, ex, http.StatusBadGateway, "DEFAULT_5XX", "InternalServerErrorException", `{"message": "Internal server error"}`)
			return
		}
	}
	h := w.Header()
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	ex.status = resp.StatusCode
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(payload)
}

// proxyEvent builds the REST API (v1) proxy event API Gateway would send.
func (g *Gateway) proxyEvent(r *http.Request, ex *exchange, rt *route, path string, params map[string]string, principal map[string]string, body []byte) events.APIGatewayProxyRequest {
	now := time.Now()
	e := events.APIGatewayProxyRequest{
		Resource:   rt.Path,
		Path:       path,
		HTTPMethod: r.Method,
		RequestContext: events.APIGatewayProxyRequestContext{
			AccountID:    g.cfg.AccountID,
			ResourceID:   "local",
			Stage:        g.cfg.API.StageName,
			RequestID:    ex.requestID,
			ResourcePath: rt.Path,
			HTTPMethod:   r.Method,
			APIID:        g.cfg.APIID,
			// What the caller asked for: with the stage, as on an
			// execute-api URL, or without, as at sam local's root.
			Path:             r.URL.Path,
			Protocol:         r.Proto,
			RequestTime:      now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			RequestTimeEpoch: now.UnixMilli(),
			DomainName:       r.Host,
			Identity: events.APIGatewayRequestIdentity{
				SourceIP:  sourceIP(r),
				UserAgent: r.UserAgent(),
			},
		},
	}
	if len(params) > 0 {
		e.PathParameters = params
	}
	if principal != nil {
		e.RequestContext.Authorizer = map[string]any{}
		for k, v := range principal {
			e.RequestContext.Authorizer[k] = v
		}
	}
	if len(r.Header) > 0 {
		e.Headers, e.MultiValueHeaders = map[string]string{}, map[string][]string{}
		for k, vs := range r.Header {
			e.Headers[k] = vs[len(vs)-1]
			e.MultiValueHeaders[k] = vs
		}
		if r.Host != "" {
			e.Headers["Host"], e.MultiValueHeaders["Host"] = r.Host, []string{r.Host}
		}
	}
	if q := r.URL.Query(); len(q) > 0 {
		e.QueryStringParameters, e.MultiValueQueryStringParameters = map[string]string{}, map[string][]string{}
		for k, vs := range q {
			e.QueryStringParameters[k] = vs[len(vs)-1]
			e.MultiValueQueryStringParameters[k] = vs
		}
	}
	if len(body) > 0 {
		e.Body = string(body)
	}
	return e
}

func sourceIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndex(host, ":"); i > 0 {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// policyCache is API Gateway's authorizer cache: the authorizer's answer per
// token, reused for every route until ReauthorizeEvery has passed.
type policyCache struct {
	ttl     time.Duration
	now     func() time.Time
	mu      sync.Mutex
	entries map[string]cachedAnswer
}

type cachedAnswer struct {
	resp    events.APIGatewayCustomAuthorizerResponse
	expires time.Time
}

// maxCachedAnswers bounds the cache; past it, expired entries go, then all.
const maxCachedAnswers = 10000

func newPolicyCache(ttl time.Duration, now func() time.Time) *policyCache {
	return &policyCache{ttl: ttl, now: now, entries: map[string]cachedAnswer{}}
}

func (c *policyCache) get(token string) (events.APIGatewayCustomAuthorizerResponse, bool) {
	if c == nil {
		return events.APIGatewayCustomAuthorizerResponse{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[token]
	if !ok || !c.now().Before(e.expires) {
		delete(c.entries, token)
		return events.APIGatewayCustomAuthorizerResponse{}, false
	}
	return e.resp, true
}

func (c *policyCache) put(token string, resp events.APIGatewayCustomAuthorizerResponse) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.entries) >= maxCachedAnswers {
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= maxCachedAnswers {
			clear(c.entries)
		}
	}
	c.entries[token] = cachedAnswer{resp: resp, expires: now.Add(c.ttl)}
}
