package authorizer

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// accessClaims are the claims of an OIDC access token this package reads.
// The registered ones (iss, sub, aud, exp, nbf, iat, jti) are validated by
// golang-jwt; the rest carry scopes and the client of the various IdPs.
type accessClaims struct {
	jwt.RegisteredClaims
	Scope    stringList `json:"scope"`     // RFC 8693/9068: space-separated string (some IdPs: array)
	Scp      stringList `json:"scp"`       // Okta, Entra ID: array or space-separated string
	ClientID string     `json:"client_id"` // RFC 9068, Auth0, Cognito
	AZP      string     `json:"azp"`       // Auth0, Entra ID v2: authorized party
	CID      string     `json:"cid"`       // Okta
	AppID    string     `json:"appid"`     // Entra ID v1
	TokenUse string     `json:"token_use"` // Cognito: "access" or "id"
}

// stringList decodes a claim that is either a space-separated string or an
// array of strings.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*l = strings.Fields(s)
		return nil
	}
	var arr []string
	if err := json.Unmarshal(b, &arr); err != nil {
		return errors.New("scope must be a string or an array of strings")
	}
	*l = nil
	for _, s := range arr {
		*l = append(*l, strings.Fields(s)...)
	}
	return nil
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
