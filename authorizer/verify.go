package authorizer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// identity is what a verified token says of its caller, for the answer and the log.
type identity struct {
	subject, clientID, keyID string
	scopes                   []string
}

// verify checks a token with golang-jwt's parser: alg on the allow-list;
// the key from the JWKS by kid (never from jwk, jku, x5u or x5c headers)
// and of a type that suits alg; the signature; exp, nbf, iat and iss; then,
// here, aud, the token type and sub. An error wraps an ErrXxx reason; the
// identity holds what may be logged: the kid, and the subject once the
// signature held.
func (a *Authorizer) verify(ctx context.Context, token string) (identity, error) {
	var claims accessClaims
	var id identity
	tok, err := a.parser.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		if err := checkHeader(t.Header); err != nil {
			return nil, err
		}
		id.keyID, _ = t.Header["kid"].(string)
		k, err := a.keys.key(ctx, id.keyID, t.Method.Alg())
		return k.key, err
	})
	var ours *ReasonError
	switch {
	case err == nil || errors.Is(err, jwt.ErrTokenInvalidClaims): // the signature held
	case errors.As(err, &ours): // from the keyfunc
		return id, err
	case errors.Is(err, jwt.ErrTokenMalformed):
		return id, fmt.Errorf("%w: %v", ErrMalformed, err)
	case tok != nil && (tok.Method == nil || !slices.Contains(a.algs, tok.Method.Alg())):
		return id, fmt.Errorf("%w: alg %.16q", ErrAlgorithm, tok.Header["alg"])
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return id, ErrSignature
	default:
		return id, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	id.subject, id.scopes, id.clientID = claims.Subject, claims.scopes(), claims.clientID()
	switch {
	case err == nil:
	case claims.ExpiresAt == nil:
		return id, ErrMissingExpiry
	case errors.Is(err, jwt.ErrTokenExpired):
		return id, ErrExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return id, ErrNotYetValid
	case claims.Issuer != a.issuer: // wrong or missing
		return id, fmt.Errorf("%w: %.128q is not the configured issuer %q", ErrIssuer, claims.Issuer, a.issuer)
	default:
		return id, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if err := a.checkAudience(&claims); err != nil {
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
		if !slices.Contains([]string{"jwt", "at+jwt", "application/at+jwt"}, strings.ToLower(s)) {
			return fmt.Errorf("%w: typ %.32q", ErrTokenType, s)
		}
	}
	return nil
}

// checkAudience accepts a token whose aud names a configured audience or,
// for an Amazon Cognito access token (no aud, token_use "access"), whose
// client_id is one. Cognito ID tokens (token_use "id") are refused.
func (a *Authorizer) checkAudience(c *accessClaims) error {
	if c.TokenUse != "" && c.TokenUse != "access" {
		return fmt.Errorf("%w: token_use %.16q", ErrTokenType, c.TokenUse)
	}
	if len(c.Audience) > 0 {
		if slices.ContainsFunc(c.Audience, func(aud string) bool { return slices.Contains(a.audiences, aud) }) {
			return nil
		}
		return fmt.Errorf("%w: aud %.128q", ErrAudience, []string(c.Audience))
	}
	if c.TokenUse == "access" && c.ClientID != "" && slices.Contains(a.audiences, c.ClientID) {
		return nil
	}
	return fmt.Errorf("%w: no aud, and no Cognito access token for a configured client_id", ErrAudience)
}
