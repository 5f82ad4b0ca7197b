package authorizer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// identity is what a verified token says of its caller, for the answer and the log.
type identity struct {
	subject, clientID, keyID string
	scopes                   []string
}

// verify checks a token with golang-jwt's parser (alg RS256; the key by kid
// from the JWKS only, never from jwk, jku, x5u or x5c headers; signature;
// exp, nbf, iat, iss), then aud, the token type and sub. An error wraps an
// errXxx reason; the identity holds the kid, and the subject once the
// signature held.
func (a *Authorizer) verify(ctx context.Context, token string) (identity, error) {
	var claims accessClaims
	var id identity
	tok, err := a.parser.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		if err := checkHeader(t.Header); err != nil {
			return nil, err
		}
		id.keyID, _ = t.Header["kid"].(string)
		k, err := a.keys.key(ctx, id.keyID)
		return k.key, err
	})
	var ours *reasonError
	switch {
	case err == nil || errors.Is(err, jwt.ErrTokenInvalidClaims): // the signature held
	case errors.As(err, &ours): // from the keyfunc
		return id, err
	case errors.Is(err, jwt.ErrTokenMalformed):
		return id, fmt.Errorf("%w: %v", errMalformed, err)
	case tok != nil && (tok.Method == nil || tok.Method.Alg() != signingAlg):
		return id, fmt.Errorf("%w: alg %.16q", errAlgorithm, tok.Header["alg"])
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return id, errSignature
	default:
		return id, fmt.Errorf("%w: %v", errMalformed, err)
	}
	id.subject, id.scopes, id.clientID = claims.Subject, claims.scopes(), claims.ClientID
	switch {
	case err == nil:
	case claims.ExpiresAt == nil:
		return id, errMissingExpiry
	case errors.Is(err, jwt.ErrTokenExpired):
		return id, errExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return id, errNotYetValid
	case claims.Issuer != a.cfg.Issuer: // wrong or missing
		return id, fmt.Errorf("%w: %.128q is not the configured issuer %q", errIssuer, claims.Issuer, a.cfg.Issuer)
	default:
		return id, fmt.Errorf("%w: %v", errMalformed, err)
	}
	if err := a.checkAudience(&claims); err != nil {
		return id, err
	}
	if claims.Subject == "" {
		return id, errMissingSubject
	}
	return id, nil
}

// accessTokenTypes are the typ header values of an access token (RFC 9068
// section 2.1, or plain JWT), compared in lower case.
var accessTokenTypes = []string{"jwt", "at+jwt", "application/at+jwt"}

// checkHeader refuses what golang-jwt lets through: critical extensions
// (RFC 7515 section 4.1.11: we implement none, so any crit is refused), a
// non-string kid, and a typ that says the token is no access token.
func checkHeader(h map[string]any) error {
	if _, ok := h["crit"]; ok {
		return errCritical
	}
	if kid, ok := h["kid"]; ok {
		if _, isString := kid.(string); !isString {
			return fmt.Errorf("%w: kid is not a string", errMalformed)
		}
	}
	typ, ok := h["typ"]
	if !ok {
		return nil
	}
	s, isString := typ.(string)
	if !isString {
		return fmt.Errorf("%w: typ is not a string", errMalformed)
	}
	if !slices.Contains(accessTokenTypes, strings.ToLower(s)) {
		return fmt.Errorf("%w: typ %.32q", errTokenType, s)
	}
	return nil
}

// checkAudience accepts a token whose aud names a configured audience or,
// for an Amazon Cognito access token (no aud, token_use "access"), whose
// client_id is one. Cognito ID tokens (token_use "id") are refused.
func (a *Authorizer) checkAudience(c *accessClaims) error {
	if c.TokenUse != "" && c.TokenUse != "access" {
		return fmt.Errorf("%w: token_use %.16q", errTokenType, c.TokenUse)
	}
	if len(c.Audience) > 0 {
		if slices.ContainsFunc(c.Audience, func(aud string) bool { return slices.Contains(a.cfg.Audiences, aud) }) {
			return nil
		}
		return fmt.Errorf("%w: aud %.128q", errAudience, []string(c.Audience))
	}
	if c.TokenUse == "access" && c.ClientID != "" && slices.Contains(a.cfg.Audiences, c.ClientID) {
		return nil
	}
	return fmt.Errorf("%w: no aud, and no Cognito access token for a configured client_id", errAudience)
}

// accessClaims are the claims of an OIDC access token this package reads.
// golang-jwt validates exp, nbf, iat and iss through the embedded
// RegisteredClaims.
type accessClaims struct {
	jwt.RegisteredClaims
	Scope    scopeClaim // RFC 9068 "scope": space-separated string (some IdPs: array)
	Scp      scopeClaim // Okta "scp": array; Entra ID: space-separated string
	ClientID string     // RFC 9068, Auth0, Cognito "client_id"
	TokenUse string     // Cognito "token_use": "access" or "id"
}

// UnmarshalJSON reads the payload by exact member names (RFC 7519 section
// 4). encoding/json alone would match "ISS" or "Iss" to the iss field and
// let the last of two members win, so a look-alike could stand in for a
// claim. Here a member counts only under its exact name, and a payload that
// names any member twice is refused.
func (c *accessClaims) UnmarshalJSON(b []byte) error {
	members, err := objectMembers(b)
	if err != nil {
		return err
	}
	*c = accessClaims{}
	// jwt.ClaimStrings (aud) reads a string or an array of strings, each whole.
	fields := map[string]any{
		"iss": &c.Issuer, "sub": &c.Subject, "aud": &c.Audience, "scope": &c.Scope, "scp": &c.Scp,
		"client_id": &c.ClientID, "token_use": &c.TokenUse,
	}
	dates := map[string]**jwt.NumericDate{"exp": &c.ExpiresAt, "nbf": &c.NotBefore, "iat": &c.IssuedAt}
	for name, raw := range members {
		switch {
		case fields[name] != nil:
			err = json.Unmarshal(raw, fields[name])
		case dates[name] != nil: // a JSON number, never a string (jwt.NumericDate would take "1700000000")
			var v *float64
			if err = json.Unmarshal(raw, &v); err != nil || v != nil && math.Abs(*v) > 1e13 {
				err = errors.New("want a number of seconds, under 1e13")
			} else if v != nil {
				*dates[name] = jwt.NewNumericDate(time.UnixMilli(int64(*v * 1000)))
			}
		}
		if err != nil {
			return fmt.Errorf("claim %q: %w", name, err)
		}
	}
	return nil
}

// objectMembers splits a JSON object into its members, refusing a member
// name that appears twice (RFC 7519 section 4 allows a parser to refuse
// them; taking the last would let a second "iss" override the first).
func objectMembers(b []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("the payload is not a JSON object")
	}
	members := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		if _, dup := members[name]; dup {
			return nil, fmt.Errorf("member %.32q appears twice", name)
		}
		members[name] = raw
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, err
	}
	return members, nil
}

// scopeClaim is a scope or scp claim as the IdP wrote it: a string holds
// scope-tokens separated by single spaces (RFC 6749 section 3.3, RFC 9068
// section 2.2.3), and each element of an array is one scope-token, whole.
type scopeClaim []string

func (s *scopeClaim) UnmarshalJSON(b []byte) error {
	var one *string
	if json.Unmarshal(b, &one) == nil {
		if *s = nil; one != nil {
			*s = strings.Split(*one, " ") // on SP only: no tab, NBSP or other Unicode space
		}
		return nil
	}
	var many jwt.ClaimStrings // an array of strings only: no null, number or object
	err := json.Unmarshal(b, &many)
	*s = scopeClaim(many)
	return err
}

// scopes merges scope and scp without duplicates, in order. A value that is
// not a scope-token (one or more of %x21 / %x23-5B / %x5D-7E: no space of
// any kind, no quote, no backslash) is dropped, never split further, so the
// authorizer grants no scope the IdP did not spell exactly.
func (c *accessClaims) scopes() []string {
	var out []string
	for _, s := range slices.Concat(c.Scope, c.Scp) {
		if isScopeToken(s) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func isScopeToken(s string) bool {
	outside := func(r rune) bool { return r < 0x21 || r > 0x7e || r == '"' || r == '\\' }
	return s != "" && !strings.ContainsFunc(s, outside)
}
