package authorizer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// identity is what a verified access token says about its caller.
type identity struct {
	subject  string
	scopes   []string
	clientID string
	keyID    string
}

// verifier checks access tokens against one issuer's keys and claims. It
// is safe for concurrent use.
type verifier struct {
	issuer    string
	audiences []string
	algs      []string
	keys      *keySet
	parser    *jwt.Parser
}

func newVerifier(cfg Config, keys *keySet) *verifier {
	return &verifier{
		issuer:    cfg.Issuer,
		audiences: cfg.Audiences,
		algs:      cfg.Algorithms,
		keys:      keys,
		parser: jwt.NewParser(
			jwt.WithValidMethods(cfg.Algorithms),
			jwt.WithStrictDecoding(),
			jwt.WithIssuer(cfg.Issuer),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(cfg.ClockSkew),
			jwt.WithTimeFunc(cfg.Now),
		),
	}
}

// verify checks the token with golang-jwt's parser: the key comes from the
// configured JWKS by kid (never from the token's jwk, jku, x5u or x5c
// headers) and must suit the token's alg; then the signature; then exp,
// nbf, iat and iss; then aud and the token type here. Claims are read only
// once the signature holds. On failure the error wraps one of the ErrXxx
// reasons, and the identity carries what may be logged: the kid and, once
// the signature held, the subject.
func (v *verifier) verify(ctx context.Context, token string) (identity, error) {
	var claims accessClaims
	var id identity
	keyfunc := func(t *jwt.Token) (any, error) {
		if err := checkHeader(t.Header); err != nil {
			return nil, err
		}
		id.keyID, _ = t.Header["kid"].(string)
		k, err := v.keys.key(ctx, id.keyID, t.Method.Alg())
		return k.key, err
	}
	tok, err := v.parser.ParseWithClaims(token, &claims, keyfunc)
	if err != nil && !errors.Is(err, jwt.ErrTokenInvalidClaims) {
		return id, v.classify(err, tok)
	}
	// The signature is good: the claims are the issuer's.
	id.subject, id.scopes, id.clientID = claims.Subject, claims.scopes(), claims.clientID()
	if err != nil {
		return id, v.classifyClaims(err, &claims)
	}
	if err := v.checkAudience(&claims); err != nil {
		return id, err
	}
	if claims.Subject == "" {
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

// classify turns an error of golang-jwt's parser, up to and including the
// signature check, into this package's reasons. A reason of ours, returned
// by the keyfunc, passes through.
func (v *verifier) classify(err error, tok *jwt.Token) error {
	var ours *ReasonError
	switch {
	case errors.As(err, &ours):
		return err
	case errors.Is(err, jwt.ErrTokenMalformed):
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	case tok != nil && (tok.Method == nil || !slices.Contains(v.algs, tok.Method.Alg())):
		// An alg golang-jwt does not know, or one off the allow-list.
		return fmt.Errorf("%w: alg %.16q", ErrAlgorithm, tok.Header["alg"])
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return ErrSignature
	}
	return fmt.Errorf("%w: %v", ErrMalformed, err)
}

// classifyClaims turns golang-jwt's claim validation errors into this
// package's reasons.
func (v *verifier) classifyClaims(err error, c *accessClaims) error {
	switch {
	case c.ExpiresAt == nil:
		return ErrMissingExpiry
	case errors.Is(err, jwt.ErrTokenExpired):
		return ErrExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return ErrNotYetValid
	case c.Issuer != v.issuer: // wrong or missing
		return fmt.Errorf("%w: %.128q is not the configured issuer %q", ErrIssuer, c.Issuer, v.issuer)
	}
	return fmt.Errorf("%w: %v", ErrMalformed, err)
}

// checkAudience accepts a token whose aud names a configured audience or,
// for an Amazon Cognito access token (no aud, token_use "access"), whose
// client_id is one. Cognito ID tokens (token_use "id") are refused.
func (v *verifier) checkAudience(c *accessClaims) error {
	if c.TokenUse != "" && c.TokenUse != "access" {
		return fmt.Errorf("%w: token_use %.16q", ErrTokenType, c.TokenUse)
	}
	if len(c.Audience) > 0 {
		for _, aud := range c.Audience {
			if slices.Contains(v.audiences, aud) {
				return nil
			}
		}
		return fmt.Errorf("%w: aud %.128q", ErrAudience, []string(c.Audience))
	}
	if c.TokenUse == "access" && slices.Contains(v.audiences, c.ClientID) && c.ClientID != "" {
		return nil
	}
	return fmt.Errorf("%w: no aud, and no Cognito access token for a configured client_id", ErrAudience)
}
