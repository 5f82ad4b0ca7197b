package authorizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// accessClaims are the claims of an OIDC access token this package reads.
//
// It implements jwt.Claims itself, with plain numbers for exp, nbf and iat,
// instead of embedding jwt.RegisteredClaims: golang-jwt still validates
// every time claim and the issuer through these getters, but the token
// decodes in half the time, which matters at one RSA verification per call.
type accessClaims struct {
	Iss      string     `json:"iss"`
	Sub      string     `json:"sub"`
	Aud      audience   `json:"aud"`       // a string or an array, each value whole (RFC 7519 4.1.3)
	Exp      *float64   `json:"exp"`       // seconds since the epoch
	Nbf      *float64   `json:"nbf"`       //
	Iat      *float64   `json:"iat"`       //
	Scope    stringList `json:"scope"`     // RFC 9068: space-separated string (some IdPs: array)
	Scp      stringList `json:"scp"`       // Okta, Entra ID: array or space-separated string
	ClientID string     `json:"client_id"` // RFC 9068, Auth0, Cognito
	AZP      string     `json:"azp"`       // Auth0, Entra ID v2: authorized party
	CID      string     `json:"cid"`       // Okta
	AppID    string     `json:"appid"`     // Entra ID v1
	TokenUse string     `json:"token_use"` // Cognito: "access" or "id"
}

func numericDate(v *float64) (*jwt.NumericDate, error) {
	if v == nil {
		return nil, nil
	}
	if math.IsNaN(*v) || math.IsInf(*v, 0) || math.Abs(*v) > 1e13 {
		return nil, errors.New("time claim out of range")
	}
	sec, frac := math.Modf(*v)
	return jwt.NewNumericDate(time.Unix(int64(sec), int64(frac*1e9))), nil
}

func (c *accessClaims) GetExpirationTime() (*jwt.NumericDate, error) { return numericDate(c.Exp) }
func (c *accessClaims) GetNotBefore() (*jwt.NumericDate, error)      { return numericDate(c.Nbf) }
func (c *accessClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return numericDate(c.Iat) }
func (c *accessClaims) GetIssuer() (string, error)                   { return c.Iss, nil }
func (c *accessClaims) GetSubject() (string, error)                  { return c.Sub, nil }
func (c *accessClaims) GetAudience() (jwt.ClaimStrings, error)       { return jwt.ClaimStrings(c.Aud), nil }

// stringList decodes a claim that is either a space-separated string or an
// array of strings (each of which may also hold several, space-separated).
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	values, err := decodeStrings(b)
	if err != nil {
		return err
	}
	*l = nil
	for _, v := range values {
		*l = append(*l, strings.Fields(v)...)
	}
	return nil
}

// audience is the aud claim: a string or an array of strings, each value
// whole (RFC 7519 section 4.1.3), as jwt.ClaimStrings reads it, which
// decodes through an []any first.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) (err error) {
	*a, err = decodeStrings(b)
	return err
}

// decodeStrings reads a JSON string as one value, an array of strings as
// its values, and null as none. encoding/json has checked b already. A
// plain string (valid UTF-8, no escapes, by far the usual case) is taken as
// it stands: another json.Unmarshal would cost more than the whole rest of
// the claim.
func decodeStrings(b []byte) ([]string, error) {
	switch {
	case len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' && !bytes.ContainsAny(b[1:len(b)-1], "\\\"") && utf8.Valid(b):
		return []string{string(b[1 : len(b)-1])}, nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, err
		}
		return []string{s}, nil
	case len(b) > 0 && b[0] == '[':
		var arr []*string // a null element would be "" in a []string
		if err := json.Unmarshal(b, &arr); err != nil {
			return nil, errors.New("want a string or an array of strings")
		}
		values := make([]string, len(arr))
		for i, v := range arr {
			if v == nil {
				return nil, errors.New("want a string or an array of strings, not null")
			}
			values[i] = *v
		}
		return values, nil
	case string(b) == "null":
		return nil, nil
	}
	return nil, errors.New("want a string or an array of strings")
}

// scopes merges scope and scp, without duplicates, in order.
func (c *accessClaims) scopes() []string {
	out := make([]string, 0, len(c.Scope)+len(c.Scp))
	for _, s := range slices.Concat(c.Scope, c.Scp) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// clientID is the OAuth client the token was issued to, by whichever claim
// the IdP uses for it.
func (c *accessClaims) clientID() string {
	for _, id := range []string{c.ClientID, c.AZP, c.CID, c.AppID} {
		if id != "" {
			return id
		}
	}
	return ""
}
