package idp

import (
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// The three kinds of token request op hands back to the storage. Each
// carries audience: the API's, for the access token. tokenServer builds the
// ID token from forIDToken(), a copy without it, so an ID token's aud is the
// client alone and the API never accepts an ID token as an access token.

// authRequest is an authorization request from /authorize until its code is
// redeemed. The login page completes it (userID, authTime, done).
type authRequest struct {
	id            string
	expires       time.Time // the request and its code are void after it
	clientID      string
	redirectURI   string
	state         string
	nonce         string
	scopes        []string // requested; narrowed to the user's at login
	responseType  oidc.ResponseType
	responseMode  oidc.ResponseMode
	codeChallenge *oidc.CodeChallenge
	audience      []string

	userID   string
	authTime time.Time
	done     bool
	code     string // the one code issued for it, once the user logged in
}

func (a *authRequest) GetID() string                         { return a.id }
func (a *authRequest) GetACR() string                        { return "" }
func (a *authRequest) GetAMR() []string                      { return []string{"pwd"} }
func (a *authRequest) GetAudience() []string                 { return a.audience }
func (a *authRequest) GetAuthTime() time.Time                { return a.authTime }
func (a *authRequest) GetClientID() string                   { return a.clientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.codeChallenge }
func (a *authRequest) GetNonce() string                      { return a.nonce }
func (a *authRequest) GetRedirectURI() string                { return a.redirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType    { return a.responseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode    { return a.responseMode }
func (a *authRequest) GetScopes() []string                   { return a.scopes }
func (a *authRequest) GetState() string                      { return a.state }
func (a *authRequest) GetSubject() string                    { return a.userID }
func (a *authRequest) Done() bool                            { return a.done }

func (a *authRequest) forIDToken() op.IDTokenRequest {
	c := *a
	c.audience = nil
	return &c
}

// refreshToken is what a refresh token stands for: a user's grant to a
// client. It is rotated at every use and keeps its first expiry.
type refreshToken struct {
	authRequestID string // the code it descends from: a replayed code revokes it
	expires       time.Time
	clientID      string
	userID        string
	scopes        []string
	audience      []string
	authTime      time.Time
	amr           []string
}

func (r *refreshToken) GetAMR() []string            { return r.amr }
func (r *refreshToken) GetAudience() []string       { return r.audience }
func (r *refreshToken) GetAuthTime() time.Time      { return r.authTime }
func (r *refreshToken) GetClientID() string         { return r.clientID }
func (r *refreshToken) GetScopes() []string         { return r.scopes }
func (r *refreshToken) GetSubject() string          { return r.userID }
func (r *refreshToken) SetCurrentScopes(s []string) { r.scopes = s }

func (r *refreshToken) forIDToken() op.IDTokenRequest {
	c := *r
	c.audience = nil
	return &c
}

// clientCredentialsRequest is a machine client asking for a token for
// itself: the client is the subject.
type clientCredentialsRequest struct {
	clientID string
	scopes   []string
	audience []string
}

func (c *clientCredentialsRequest) GetSubject() string    { return c.clientID }
func (c *clientCredentialsRequest) GetClientID() string   { return c.clientID }
func (c *clientCredentialsRequest) GetAudience() []string { return c.audience }
func (c *clientCredentialsRequest) GetScopes() []string   { return c.scopes }

// tokenRequest is what the three have in common.
type tokenRequest interface {
	GetSubject() string
	GetClientID() string
	GetAudience() []string
	GetScopes() []string
}
