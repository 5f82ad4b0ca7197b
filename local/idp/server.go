package idp

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// tokenServer is zitadel's op.LegacyServer with three methods changed.
//
// CodeExchange and RefreshToken do what LegacyServer's do, calling the same
// op functions, except for the response: op makes the access token and the
// ID token from one request, so both would get the same aud. Here the
// access token is for the API (aud: Config.Audience) and the ID token for
// the client alone (aud: the client id), so an ID token is never accepted
// by the API.
//
// VerifyClient answers a failed client authentication with 401, as RFC
// 6749 5.2 requires when the client sent HTTP Basic credentials (op's
// server answers 400).
type tokenServer struct {
	*op.LegacyServer
	storage *storage
}

// userTokenRequest is a request that gets an ID token: an authorization
// request or a refresh token.
type userTokenRequest interface {
	op.IDTokenRequest
	forIDToken() op.IDTokenRequest
}

func (s *tokenServer) VerifyClient(ctx context.Context, r *op.Request[op.ClientCredentials]) (op.Client, error) {
	c, err := s.LegacyServer.VerifyClient(ctx, r)
	var oidcErr *oidc.Error
	if errors.As(err, &oidcErr) && oidcErr.ErrorType == oidc.InvalidClient {
		return nil, op.NewStatusError(err, http.StatusUnauthorized)
	}
	return c, err
}

// CodeExchange redeems an authorization code (op has authenticated the
// client, or taken the client_id of a public one).
func (s *tokenServer) CodeExchange(ctx context.Context, r *op.ClientRequest[oidc.AccessTokenRequest]) (*op.Response, error) {
	authReq, err := op.AuthRequestByCode(ctx, s.storage, r.Data.Code)
	if err != nil {
		return nil, err // invalid_grant: unknown, expired or reused code
	}
	// Every stored request has an S256 challenge (CreateAuthRequest), so a
	// missing or wrong code_verifier is always refused, whatever the client.
	// (op would accept no verifier for a request without a challenge.)
	if authReq.GetCodeChallenge() == nil {
		return nil, oidc.ErrInvalidGrant().WithDescription("PKCE is required")
	}
	if err := op.AuthorizeCodeChallenge(r.Data.CodeVerifier, authReq.GetCodeChallenge()); err != nil {
		return nil, err
	}
	if r.Client.GetID() != authReq.GetClientID() {
		return nil, oidc.ErrInvalidGrant().WithDescription("the code was issued to another client")
	}
	if r.Data.RedirectURI != authReq.GetRedirectURI() {
		return nil, oidc.ErrInvalidGrant().WithDescription("redirect_uri does not correspond")
	}
	req, ok := authReq.(*authRequest)
	if !ok {
		return nil, oidc.ErrServerError()
	}
	return s.tokenResponse(ctx, req, r.Client, r.Data.Code, "")
}

// RefreshToken redeems a refresh token, possibly for fewer scopes.
func (s *tokenServer) RefreshToken(ctx context.Context, r *op.ClientRequest[oidc.RefreshTokenRequest]) (*op.Response, error) {
	refreshReq, err := op.RefreshTokenRequestByRefreshToken(ctx, s.storage, r.Data.RefreshToken)
	if err != nil {
		return nil, err // invalid_grant
	}
	if r.Client.GetID() != refreshReq.GetClientID() {
		return nil, oidc.ErrInvalidGrant().WithDescription("the refresh token was issued to another client")
	}
	if err := op.ValidateRefreshTokenScopes(r.Data.Scopes, refreshReq); err != nil {
		return nil, err
	}
	req, ok := refreshReq.(*refreshToken)
	if !ok {
		return nil, oidc.ErrServerError()
	}
	return s.tokenResponse(ctx, req, r.Client, "", r.Data.RefreshToken)
}

// tokenResponse is op.CreateTokenResponse but for the ID token's audience
// (see tokenServer); and, as OIDC Core 3.1.3.3 has it, only a request with
// the openid scope gets an ID token.
func (s *tokenServer) tokenResponse(ctx context.Context, req userTokenRequest, client op.Client, code, refreshToken string) (*op.Response, error) {
	accessToken, newRefreshToken, validity, err := op.CreateAccessToken(ctx, req, client.AccessTokenType(), s.Provider(), client, refreshToken)
	if err != nil {
		return nil, err
	}
	var idToken string
	if slices.Contains(req.GetScopes(), oidc.ScopeOpenID) {
		idToken, err = op.CreateIDToken(ctx, op.IssuerFromContext(ctx), req.forIDToken(), client.IDTokenLifetime(), accessToken, code, s.storage, client)
		if err != nil {
			return nil, err
		}
	}
	if ar, ok := req.(*authRequest); ok {
		if err := s.storage.DeleteAuthRequest(ctx, ar.GetID()); err != nil {
			return nil, err
		}
	}
	return op.NewResponse(&oidc.AccessTokenResponse{
		AccessToken:  accessToken,
		IDToken:      idToken,
		RefreshToken: newRefreshToken,
		TokenType:    oidc.BearerToken,
		ExpiresIn:    uint64(validity.Seconds()),
		Scope:        req.GetScopes(),
	}), nil
}
