package idp

import (
	"net/url"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// idTokenTTL is the ID token's lifetime: it is read once, at login.
const idTokenTTL = time.Hour

// client is a registered OAuth client, as op.Client describes it.
type client struct {
	id     string
	secret string // empty: a public client, authenticated by nothing but PKCE

	redirectURIs           []string // matched exactly by op (no globs, no DevMode)
	postLogoutRedirectURIs []string // likewise
	grantTypes             []oidc.GrantType
	responseTypes          []oidc.ResponseType
	scopes                 []string // the API scopes it may be given
}

func newClients(cfg Config) map[string]*client {
	return map[string]*client{
		WebClientID: {
			id:                     WebClientID,
			redirectURIs:           slices.Clone(cfg.WebRedirectURIs),
			postLogoutRedirectURIs: slices.Clone(cfg.WebPostLogoutRedirectURIs),
			grantTypes:             []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken},
			responseTypes:          []oidc.ResponseType{oidc.ResponseTypeCode},
			scopes:                 []string{ScopeRead, ScopeWrite},
		},
		M2MClientID: {
			id:         M2MClientID,
			secret:     M2MClientSecret,
			grantTypes: []oidc.GrantType{oidc.GrantTypeClientCredentials},
			scopes:     []string{ScopeRead, ScopeWrite},
		},
	}
}

func (c *client) GetID() string                       { return c.id }
func (c *client) RedirectURIs() []string              { return c.redirectURIs }
func (c *client) PostLogoutRedirectURIs() []string    { return c.postLogoutRedirectURIs }
func (c *client) ResponseTypes() []oidc.ResponseType  { return c.responseTypes }
func (c *client) GrantTypes() []oidc.GrantType        { return c.grantTypes }
func (c *client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }
func (c *client) IDTokenLifetime() time.Duration      { return idTokenTTL }
func (c *client) ClockSkew() time.Duration            { return 0 }
func (c *client) IsScopeAllowed(scope string) bool    { return slices.Contains(c.scopes, scope) }
func (c *client) LoginURL(authRequestID string) string {
	return loginPath + "?" + url.Values{"authRequestID": {authRequestID}}.Encode()
}
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string     { return keepAll }
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string { return keepAll }

// ApplicationType is web for both clients: op then matches http redirect
// URIs exactly, where "native" would let any port of a loopback URI pass.
func (c *client) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }

// DevMode stays off even here: it would accept redirect URIs op otherwise
// refuses.
func (c *client) DevMode() bool { return false }

// IDTokenUserinfoClaimsAssertion puts name and email into the ID token (per
// the scopes granted), so the web client need not call userinfo.
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }

func (c *client) AuthMethod() oidc.AuthMethod {
	if c.secret == "" {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}

func keepAll(scopes []string) []string { return scopes }
