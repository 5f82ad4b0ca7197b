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
	validator *jwt.Validator
}

func newVerifier(cfg Config, keys *keySet) *Verifier {
	return &Verifier{
		issuer:    cfg.Issuer,
		audiences: cfg.Audiences,
		algs:      cfg.Algorithms,
		keys:      keys,
		parser:    jwt.NewParser(jwt.WithStrictDecoding()),
		validator: jwt.NewValidator(
			jwt.WithIssuer(cfg.Issuer),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(cfg.ClockSkew),
			jwt.WithTimeFunc(cfg.Now),
		),
	}
}

// Verify checks the token's signature with a key from the configured JWKS
// (never from the token's own jwk, jku, x5u or x5c headers), then iss, exp,
// nbf, iat, aud and the token type. On failure the error wraps one of the
// ErrXxx reasons; the Identity then carries the kid and, when the signature
// was good, the subject, for the log.
//
// It takes the steps of golang-jwt's Parser.ParseWithClaims one by one, with
// golang-jwt's parser and validator, so that an RS256 signature can be
// checked with a key prepared when the JWKS was loaded (rsakey.go). Nothing
// of the header or claims is trusted before that check: the header only
// chooses the key, and the claims are read after it.
func (v *Verifier) Verify(ctx context.Context, token string) (Identity, error) {
	if len(token) > MaxTokenBytes {
		return Identity{}, ErrOversized
	}
	var claims accessClaims
	var id Identity
	// Split, base64 and JSON only: no signature, no claim checked yet.
	tok, parts, err := v.parser.ParseUnverified(token, &claims)
	if err != nil {
		return id, classify(err, tok)
	}
	if alg := tok.Method.Alg(); !slices.Contains(v.algs, alg) {
		return id, fmt.Errorf("%w: alg %.16q is not allowed", ErrAlgorithm, alg)
	}
	if err := checkHeader(tok.Header); err != nil {
		return id, err
	}
	id.KeyID, _ = tok.Header["kid"].(string)
	key, err := v.keys.key(ctx, id.KeyID, tok.Method.Alg())
	if err != nil {
		return id, err
	}
	signed := token[:len(parts[0])+1+len(parts[1])] // header "." payload, as received
	if err := key.verify(tok.Method, signed, tok.Signature); err != nil {
		return id, ErrSignature
	}
	// The signature is good: the claims are the issuer's.
	id.Subject = claims.Sub
	id.Scopes = claims.scopes()
	id.ClientID = claims.clientID()
	if exp, _ := claims.GetExpirationTime(); exp != nil {
		id.ExpiresAt = exp.Time
	}
	if err := v.validator.Validate(&claims); err != nil {
		return id, v.classifyClaims(err, &claims)
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

// classify turns golang-jwt's parsing errors into this package's reasons.
func classify(err error, tok *jwt.Token) error {
	if errors.Is(err, jwt.ErrTokenUnverifiable) && tok != nil && tok.Method == nil {
		alg, _ := tok.Header["alg"].(string)
		return fmt.Errorf("%w: alg %.16q is not allowed", ErrAlgorithm, alg)
	}
	return fmt.Errorf("%w: %v", ErrMalformed, err)
}

// classifyClaims turns golang-jwt's validation errors into this package's
// reasons.
func (v *Verifier) classifyClaims(err error, c *accessClaims) error {
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
