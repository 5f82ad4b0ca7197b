package authorizer

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Authorizer is the Lambda TOKEN authorizer. Create it once per process
// (cold start) and give Handle to lambda.Start; it keeps the JWKS and the
// verified-token cache across warm invocations. It is safe for concurrent
// use, which the local API Gateway emulator relies on.
type Authorizer struct {
	verifier *Verifier
	keys     *keySet
	cache    *tokenCache
	rules    []RouteRule
	policies policyMemo
	log      *slog.Logger
}

// New builds an Authorizer and starts the cold-start JWKS fetch in the
// background, bounded by JWKSTimeout (ctx's values are kept, its
// cancellation is not: the fetch outlives New): the fetch runs while the
// Lambda runtime connects to the Runtime API and waits for the first event,
// and the first Handle that needs a key waits for it (or for its own
// context). An unreachable JWKS is not an error: the authorizer refuses what
// it cannot verify (reason jwks_unavailable) and fetches again later, so it
// recovers without a restart. Only an invalid Config is an error.
func New(ctx context.Context, cfg Config) (*Authorizer, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	keys := newKeySet(cfg)
	a := &Authorizer{
		verifier: newVerifier(cfg, keys),
		keys:     keys,
		cache:    newTokenCache(cfg.CacheSize, cfg.Now),
		rules:    slices.Clone(cfg.Rules), // the policy memo assumes they never change
		log:      cfg.Logger,
	}
	// The fetch outlives New: a caller cancelling ctx once New has returned
	// must not cut it short (JWKSTimeout still bounds it).
	go keys.warmUp(context.WithoutCancel(ctx), a.log)
	return a, nil
}

// Ready waits until the cold-start JWKS fetch that New started has ended,
// or ctx has. It returns that fetch's error (nil when the keys are loaded),
// or ctx's. Handle never needs it; a caller whose initialisation is not on a
// request's path (Lambda provisioned concurrency) can use it to have the
// keys before the first request.
func (a *Authorizer) Ready(ctx context.Context) error {
	select {
	case <-a.keys.warm:
		if err := a.keys.warmErr; err != nil {
			return fmt.Errorf("%w: %v", ErrJWKSUnavailable, err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Handle answers one TOKEN authorizer event. Every token that fails
// verification gets exactly the error "Unauthorized" (API Gateway's 401). A
// verified token gets a policy for the whole stage; if its scopes permit no
// route, that policy only denies (403). A methodArn that is no execute-api
// method ARN is a configuration error (500), never a token problem.
func (a *Authorizer) Handle(ctx context.Context, req events.APIGatewayCustomAuthorizerRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	start := time.Now()
	d := decision{outcome: "unauthorized"}
	defer func() { a.logDecision(ctx, req.MethodArn, d, time.Since(start)) }()

	arn, err := ParseMethodARN(req.MethodArn)
	if err != nil {
		d.outcome, d.err = "error", err
		return events.APIGatewayCustomAuthorizerResponse{}, fmt.Errorf("authorizer: %w", err)
	}
	token, err := ExtractBearerToken(req.AuthorizationToken)
	if err != nil {
		d.err = err
		return events.APIGatewayCustomAuthorizerResponse{}, errUnauthorized
	}
	key := digest(token)
	d.digest = key
	entry, cached := a.cache.get(key)
	if !cached {
		entry.id, err = a.verifier.Verify(ctx, token)
		if err != nil {
			d.id, d.err = entry.id, err
			return events.APIGatewayCustomAuthorizerResponse{}, errUnauthorized
		}
	}
	d.id, d.cached = entry.id, cached
	if entry.stageARN != arn.StageARN() {
		entry.stageARN, entry.answer = arn.StageARN(), a.answer(arn.StageARN(), entry.id)
		a.cache.add(key, entry)
	}
	d.outcome = "allow"
	if entry.answer.PolicyDocument.Statement[0].Effect != "Allow" {
		d.outcome, d.err = "deny", errNoScope
	}
	return entry.answer, nil
}

// answer is the response for a verified identity on a stage. The policy
// and context it holds may be shared between calls and must not be
// modified.
func (a *Authorizer) answer(stageARN string, id Identity) events.APIGatewayCustomAuthorizerResponse {
	ctxValues := make(map[string]any, 3)
	ctxValues["sub"], ctxValues["scope"] = id.Subject, strings.Join(id.Scopes, " ")
	if id.ClientID != "" {
		ctxValues["client_id"] = id.ClientID
	}
	return events.APIGatewayCustomAuthorizerResponse{
		PrincipalID:    id.Subject,
		PolicyDocument: a.policies.policy(stageARN, a.rules, id.Scopes),
		Context:        ctxValues,
	}
}

// errNoScope is the log reason of a verified token whose scopes permit no
// route: not a failure (no error is returned), a Deny policy.
var errNoScope = &ReasonError{"scope"}

type decision struct {
	outcome string // allow, deny, unauthorized, error
	err     error
	id      Identity
	digest  tokenDigest // of the token, for the log; zero before extraction
	cached  bool
}

// logDecision writes the one line per decision. It never logs the token:
// only the first 12 hex digits of its SHA-256.
func (a *Authorizer) logDecision(ctx context.Context, methodARN string, d decision, took time.Duration) {
	reason, level := "ok", slog.LevelInfo
	attrs := make([]slog.Attr, 0, 12)
	attrs = append(attrs, slog.String("outcome", d.outcome))
	if d.err != nil {
		reason = Reason(d.err)
		if d.outcome == "error" || reason == ErrJWKSUnavailable.Code {
			level = slog.LevelError
		}
	}
	attrs = append(attrs, slog.String("reason", reason))
	if d.err != nil && d.err != errNoScope {
		attrs = append(attrs, slog.String("detail", oneLine(d.err)))
	}
	if d.id.Subject != "" {
		attrs = append(attrs, slog.String("sub", d.id.Subject))
	}
	if d.id.ClientID != "" {
		attrs = append(attrs, slog.String("client_id", d.id.ClientID))
	}
	if d.id.KeyID != "" {
		attrs = append(attrs, slog.String("kid", truncate(d.id.KeyID, 64)))
	}
	if d.digest != (tokenDigest{}) {
		attrs = append(attrs, slog.String("token_sha256", d.digest.fingerprint()), slog.Bool("cached", d.cached))
	}
	attrs = append(attrs, slog.String("method_arn", truncate(methodARN, 256)), slog.Int64("duration_us", took.Microseconds()))
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		attrs = append(attrs, slog.String("request_id", lc.AwsRequestID))
	}
	// The record is handed to the handler directly: Logger.LogAttrs would
	// also capture the caller's program counter, which no handler here uses
	// and which costs a tenth of a repeated token's whole answer.
	h := a.log.Handler()
	if !h.Enabled(ctx, level) {
		return
	}
	r := slog.NewRecord(time.Now(), level, "authorizer decision", 0)
	r.AddAttrs(attrs...)
	_ = h.Handle(ctx, r)
}

func oneLine(err error) string {
	return truncate(strings.Join(strings.Fields(err.Error()), " "), 240)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
