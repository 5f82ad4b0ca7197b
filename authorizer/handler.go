package authorizer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
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
// warm invocations, no answers (API Gateway caches them). It is safe for
// concurrent use.
type Authorizer struct {
	cfg    Config // checked, with its defaults
	keys   *keySet
	parser *jwt.Parser
}

// New checks cfg and fetches the JWKS once, within 3 seconds. An
// unreachable JWKS is logged, not an error: the authorizer refuses what it
// cannot verify (reason jwks_unavailable) and fetches again on demand, so
// it recovers without a restart.
func New(ctx context.Context, cfg Config) (*Authorizer, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	a := &Authorizer{cfg: cfg, keys: newKeySet(cfg),
		parser: jwt.NewParser(jwt.WithValidMethods([]string{signingAlg}), jwt.WithStrictDecoding(),
			jwt.WithIssuer(cfg.Issuer), jwt.WithExpirationRequired(), jwt.WithIssuedAt(),
			jwt.WithLeeway(clockSkew), jwt.WithTimeFunc(cfg.Now)),
	}
	a.keys.coldStart(ctx)
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
	sum := sha256.Sum256([]byte(token)) // 12 hex digits of it: enough to correlate log lines, useless to replay
	d.token = hex.EncodeToString(sum[:6])
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

type decision struct {
	outcome, token string // allow, deny, unauthorized or error; the token's SHA-256 prefix
	err            error
	id             identity
}

// extractBearerToken returns the token of "Bearer <token>": the scheme in
// any case, then one token without spaces or control characters (RFC 6750).
// Values over maxTokenBytes are refused before anything else.
func extractBearerToken(header string) (string, error) {
	if len(header) > maxTokenBytes {
		return "", errOversized
	}
	scheme, token, _ := strings.Cut(strings.TrimRight(header, " "), " ")
	token = strings.TrimLeft(token, " ")
	switch {
	case strings.TrimSpace(header) == "":
		return "", errMissingToken
	case !strings.EqualFold(scheme, "Bearer") || token == "" || strings.ContainsFunc(token, isSpaceOrControl):
		return "", errScheme
	}
	return token, nil
}

func isSpaceOrControl(r rune) bool { return r <= ' ' || r == 0x7f }

// logDecision writes the one line per decision, never with the token.
func (a *Authorizer) logDecision(ctx context.Context, methodARN string, d decision, took time.Duration) {
	reason, level := "ok", slog.LevelInfo
	var re *reasonError
	if d.err != nil {
		reason = "internal"
		if errors.As(d.err, &re) {
			reason = re.code
		}
		if d.outcome == "error" || reason == errJWKSUnavailable.code {
			level = slog.LevelError
		}
	}
	attrs := []slog.Attr{slog.String("outcome", d.outcome), slog.String("reason", reason)}
	if d.err != nil && d.err != errNoScope {
		attrs = append(attrs, slog.String("detail", oneLine(d.err)))
	}
	optional := func(key, value string) {
		if value != "" {
			attrs = append(attrs, slog.String(key, value))
		}
	}
	optional("sub", d.id.subject)
	optional("client_id", d.id.clientID)
	optional("kid", truncate(d.id.keyID, 64))
	optional("token_sha256", d.token)
	attrs = append(attrs, slog.String("method_arn", truncate(methodARN, 256)),
		slog.Int64("duration_us", took.Microseconds()))
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
