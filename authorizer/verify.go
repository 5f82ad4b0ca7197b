package authorizer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Identity is what a verified access token says about its caller.
type Identity struct {
	Subject   string
	Scopes    []string
	ClientID  string
	KeyID     string
	ExpiresAt time.Time
}

// Verifier checks access tokens against one issuer's keys and claims.
// It is safe for concurrent use.
type Verifier struct {
	issuer    string
	audiences []string
	algs      []string
	keys      *keySet
	parser    *jwt.Parser
}

func newVerifier(cfg Config, keys *keySet) *Verifier {
	return &Verifier{
		issuer:    cfg.Issuer,
		audiences: cfg.Audiences,
		algs:      cfg.Algorithms,
		keys:      keys,
		parser: jwt.NewParser(
			jwt.WithValidMethods(cfg.Algorithms),
			jwt.WithIssuer(cfg.Issuer),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(cfg.ClockSkew),
			jwt.WithTimeFunc(cfg.Now),
			jwt.WithStrictDecoding(),
		),
	}
}

// Verify checks the token's signature with a key from the configured JWKS
// (never from the token's own jwk, jku, x5u or x5c headers), then iss, exp,
// nbf, iat, aud and the token type. On failure the error wraps one of the
// ErrXxx reasons; the Identity then carries the kid and, when the signature
// was good, the subject, for the log.
func (v *Verifier) Verify(ctx context.Context, token string) (Identity, error) {
	if len(token) > MaxTokenBytes {
		return Identity{}, ErrOversized
	}
	var claims accessClaims
	var id Identity
	tok, err := v.parser.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		if err := checkHeader(t.Header); err != nil {
			return nil, err
		}
		id.KeyID, _ = t.Header["kid"].(string)
		return v.keys.key(ctx, id.KeyID, t.Method.Alg())
	})
	if err == nil || errors.Is(err, jwt.ErrTokenInvalidClaims) {
		// The signature is good: the claims are the issuer's.
		id.Subject = claims.Sub
		id.Scopes = claims.scopes()
		id.ClientID = claims.clientID()
		if exp, _ := claims.GetExpirationTime(); exp != nil {
			id.ExpiresAt = exp.Time
		}
	}
	if err != nil {
		return id, v.classify(err, tok, &claims)
	}
	if err := v.checkAudience(&claims); err != nil {
		return id, err
	}
	if claims.Sub == "" {
		return id, ErrMissingSubject
	}
	return id, nil
}

// checkHeader refuses what golang-jwt lets through: critical extensions
// (RFC 7515 section 4.1.11: we implement none, so any crit is refused), a
// non-string kid, and a typ that says the token is no access token.
func checkHeader(h map[string]any) error {
	if _, ok := h["crit"]; ok {
		return ErrCritical
	}
	if kid, ok := h["kid"]; ok {
		if _, isString := kid.(string); !isString {
			return fmt.Errorf("%w: kid is not a string", ErrMalformed)
		}
	}
	if typ, ok := h["typ"]; ok {
		s, _ := typ.(string)
		switch strings.ToLower(s) {
		case "jwt", "at+jwt", "application/at+jwt":
		default:
			return fmt.Errorf("%w: typ %.32q", ErrTokenType, s)
		}
	}
	return nil
}

// classify turns golang-jwt's errors into this package's reasons.
func (v *Verifier) classify(err error, tok *jwt.Token, c *accessClaims) error {
	var re *ReasonError
	switch {
	case errors.As(err, &re):
		return err // from our keyfunc: crit, typ, kid, JWKS
	case errors.Is(err, jwt.ErrTokenMalformed):
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	case tok != nil && (tok.Method == nil || !slices.Contains(v.algs, tok.Method.Alg())):
		alg, _ := tok.Header["alg"].(string)
		return fmt.Errorf("%w: alg %.16q is not allowed", ErrAlgorithm, alg)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return ErrSignature
	case errors.Is(err, jwt.ErrTokenInvalidClaims):
		switch {
		case c.Exp == nil:
			return ErrMissingExpiry
		case errors.Is(err, jwt.ErrTokenExpired):
			return ErrExpired
		case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
			return ErrNotYetValid
		case c.Iss != v.issuer:
			return fmt.Errorf("%w: %.128q is not the configured issuer %q", ErrIssuer, c.Iss, v.issuer)
		}
	}
	return fmt.Errorf("%w: %v", ErrMalformed, err)
}

// checkAudience accepts a token whose aud names a configured audience or,
// for an Amazon Cognito access token (no aud, token_use "access"), whose
// client_id is one. Cognito ID tokens (token_use "id") are refused.
func (v *Verifier) checkAudience(c *accessClaims) error {
	if c.TokenUse != "" && c.TokenUse != "access" {
		return fmt.Errorf("%w: token_use %.16q", ErrTokenType, c.TokenUse)
	}
	if len(c.Aud) > 0 {
		for _, aud := range c.Aud {
			if slices.Contains(v.audiences, aud) {
				return nil
			}
		}
		return fmt.Errorf("%w: aud %.128q", ErrAudience, []string(c.Aud))
	}
	if c.TokenUse == "access" && c.ClientID != "" && slices.Contains(v.audiences, c.ClientID) {
		return nil
	}
	return fmt.Errorf("%w: no aud, and no Cognito access token for a configured client_id", ErrAudience)
}
