package authorizer

import (
	"bytes"
	"cmp"
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

// verify checks a token with golang-jwt's parser: alg on the allow-list;
// the key from the JWKS by kid (never from jwk, jku, x5u or x5c headers)
// and of a type that suits alg; the signature; exp, nbf, iat and iss; then,
// here, aud, the token type and sub. An error wraps an errXxx reason; the
// identity holds the kid, and the subject once the signature held.
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
	var ours *reasonError
	switch {
	case err == nil || errors.Is(err, jwt.ErrTokenInvalidClaims): // the signature held
	case errors.As(err, &ours): // from the keyfunc
		return id, err
	case errors.Is(err, jwt.ErrTokenMalformed):
		return id, fmt.Errorf("%w: %v", errMalformed, err)
	case tok != nil && (tok.Method == nil || !slices.Contains(a.cfg.Algorithms, tok.Method.Alg())):
		return id, fmt.Errorf("%w: alg %.16q", errAlgorithm, tok.Header["alg"])
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return id, errSignature
	default:
		return id, fmt.Errorf("%w: %v", errMalformed, err)
	}
	id.subject, id.scopes, id.clientID = claims.Subject, claims.scopes(), claims.clientID()
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
	if typ, ok := h["typ"]; ok && !slices.Contains([]string{"jwt", "at+jwt", "application/at+jwt"}, strings.ToLower(fmt.Sprint(typ))) {
		return fmt.Errorf("%w: typ %.32q", errTokenType, fmt.Sprint(typ))
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
	Scope    jwt.ClaimStrings // RFC 9068 "scope": space-separated string (some IdPs: array)
	Scp      jwt.ClaimStrings // Okta, Entra ID "scp": array or space-separated string
	ClientID string           // RFC 9068, Auth0, Cognito "client_id"
	AZP      string           // Auth0, Entra ID v2 "azp": authorized party
	CID      string           // Okta "cid"
	AppID    string           // Entra ID v1 "appid"
	TokenUse string           // Cognito "token_use": "access" or "id"
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
	// jwt.ClaimStrings reads a string or an array of strings, each whole.
	fields := map[string]any{"iss": &c.Issuer, "sub": &c.Subject, "aud": &c.Audience, "scope": &c.Scope, "scp": &c.Scp,
		"client_id": &c.ClientID, "azp": &c.AZP, "cid": &c.CID, "appid": &c.AppID, "token_use": &c.TokenUse}
	dates := map[string]**jwt.NumericDate{"exp": &c.ExpiresAt, "nbf": &c.NotBefore, "iat": &c.IssuedAt}
	for name, raw := range members {
		switch {
		case fields[name] != nil:
			err = json.Unmarshal(raw, fields[name])
		case dates[name] != nil:
			*dates[name], err = numericDate(raw)
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

// numericDate reads exp, nbf or iat: a JSON number of seconds, never a
// string (jwt.NumericDate would accept "1700000000").
func numericDate(raw json.RawMessage) (*jwt.NumericDate, error) {
	var v *float64
	if err := json.Unmarshal(raw, &v); err != nil || v != nil && math.Abs(*v) > 1e13 {
		return nil, errors.New("want a number of seconds, under 1e13")
	}
	if v == nil {
		return nil, nil
	}
	return jwt.NewNumericDate(time.UnixMilli(int64(*v * 1000))), nil
}

// scopes merges scope and scp, each value of which may hold several
// space-separated scopes, without duplicates, in order.
func (c *accessClaims) scopes() []string {
	var out []string
	for _, s := range strings.Fields(strings.Join(slices.Concat(c.Scope, c.Scp), " ")) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// clientID is the OAuth client the token was issued to, by whichever claim
// the IdP uses for it.
func (c *accessClaims) clientID() string { return cmp.Or(c.ClientID, c.AZP, c.CID, c.AppID) }
