package authorizer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/golang-jwt/jwt/v5"
)

// Authorizer is the Lambda TOKEN authorizer. Create it once per process
// (cold start) and give Handle to lambda.Start; it keeps the JWKS across
// warm invocations, and no answers: API Gateway caches each token's policy
// (ReauthorizeEvery), and that is the cache. It is safe for concurrent use.
type Authorizer struct {
	cfg    Config // checked, with its defaults
	keys   *keySet
	parser *jwt.Parser
}

// New checks cfg and fetches the JWKS once, within Config.JWKSTimeout. An
// unreachable JWKS is logged, not an error: the authorizer refuses what it
// cannot verify (reason jwks_unavailable) and fetches again on demand, so
// it recovers without a restart.
func New(ctx context.Context, cfg Config) (*Authorizer, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	a := &Authorizer{cfg: cfg, keys: newKeySet(cfg),
		parser: jwt.NewParser(jwt.WithValidMethods(cfg.Algorithms), jwt.WithStrictDecoding(),
			jwt.WithIssuer(cfg.Issuer), jwt.WithExpirationRequired(), jwt.WithIssuedAt(),
			jwt.WithLeeway(cfg.ClockSkew), jwt.WithTimeFunc(cfg.Now)),
	}
	a.keys.coldStart(ctx, cfg.Logger)
	return a, nil
}

// Handle answers one TOKEN authorizer event. A token that fails
// verification gets exactly the error "Unauthorized" (API Gateway's 401); a
// verified one, a policy for the whole stage, which only denies (403) if its
// scopes permit no route. A methodArn that is no execute-api method ARN is
// a configuration error (API Gateway's 500), never a token problem.
func (a *Authorizer) Handle(ctx context.Context, req events.APIGatewayCustomAuthorizerRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	start := time.Now()
	d := decision{outcome: "unauthorized"}
	defer func() { a.logDecision(ctx, req.MethodArn, d, time.Since(start)) }()

	stage, err := stageARN(req.MethodArn)
	if err != nil {
		d.outcome, d.err = "error", err
		return events.APIGatewayCustomAuthorizerResponse{}, fmt.Errorf("authorizer: %w", err)
	}
	token, err := extractBearerToken(req.AuthorizationToken)
	if err != nil {
		d.err = err
		return events.APIGatewayCustomAuthorizerResponse{}, errUnauthorized
	}
	d.token = fingerprint(token)
	d.id, err = a.verify(ctx, token)
	if err != nil {
		d.err = err
		return events.APIGatewayCustomAuthorizerResponse{}, errUnauthorized
	}
	policy := buildPolicy(stage, a.cfg.Rules, d.id.scopes)
	d.outcome = "allow"
	if policy.Statement[0].Effect != "Allow" {
		d.outcome, d.err = "deny", errNoScope
	}
	// The backend sees these at requestContext.authorizer (scalars only).
	values := map[string]any{"sub": d.id.subject, "scope": strings.Join(d.id.scopes, " ")}
	if d.id.clientID != "" {
		values["client_id"] = d.id.clientID
	}
	return events.APIGatewayCustomAuthorizerResponse{PrincipalID: d.id.subject, PolicyDocument: policy, Context: values}, nil
}

// errNoScope is the log reason of a Deny-only policy (no error is returned).
var errNoScope = &reasonError{"scope"}

type decision struct {
	outcome, token string // allow, deny, unauthorized or error; the token's fingerprint
	err            error
	id             identity
}

// extractBearerToken returns the token of "Bearer <token>": the scheme in
// any case, then one token without spaces or control characters (RFC 6750).
// Values over MaxTokenBytes are refused before anything else.
func extractBearerToken(header string) (string, error) {
	if len(header) > MaxTokenBytes {
		return "", errOversized
	}
	scheme, token, _ := strings.Cut(strings.TrimRight(header, " "), " ")
	token = strings.TrimLeft(token, " ")
	switch {
	case strings.TrimSpace(header) == "":
		return "", errMissingToken
	case !strings.EqualFold(scheme, "Bearer") || token == "" || strings.ContainsFunc(token, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return "", errScheme
	}
	return token, nil
}

// fingerprint is what the logs show of a token: 12 hex digits of its
// SHA-256, enough to correlate lines, useless to replay.
func fingerprint(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:6])
}

// logDecision writes the one line per decision, never with the token.
func (a *Authorizer) logDecision(ctx context.Context, methodARN string, d decision, took time.Duration) {
	reason, level := "ok", slog.LevelInfo
	if d.err != nil {
		reason = reasonCode(d.err)
		if d.outcome == "error" || reason == errJWKSUnavailable.code {
			level = slog.LevelError
		}
	}
	attrs := []slog.Attr{slog.String("outcome", d.outcome), slog.String("reason", reason)}
	if d.err != nil && d.err != errNoScope {
		attrs = append(attrs, slog.String("detail", oneLine(d.err)))
	}
	for _, kv := range [][2]string{{"sub", d.id.subject}, {"client_id", d.id.clientID}, {"kid", truncate(d.id.keyID, 64)}, {"token_sha256", d.token}} {
		if kv[1] != "" {
			attrs = append(attrs, slog.String(kv[0], kv[1]))
		}
	}
	attrs = append(attrs, slog.String("method_arn", truncate(methodARN, 256)), slog.Int64("duration_us", took.Microseconds()))
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		attrs = append(attrs, slog.String("request_id", lc.AwsRequestID))
	}
	a.cfg.Logger.LogAttrs(ctx, level, "authorizer decision", attrs...)
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
