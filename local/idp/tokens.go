package idp

import (
	"context"
	"crypto/rand"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// CreateAccessToken records an access token op is about to sign, and
// returns its jti and expiry.
func (s *storage) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	tr, ok := req.(tokenRequest)
	if !ok {
		return "", time.Time{}, oidc.ErrServerError().WithDescription("unexpected token request")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, expires := s.newAccessTokenLocked(tr)
	return id, expires, nil
}

// CreateAccessAndRefreshTokens issues a refresh token with the access
// token: a new one after a login with offline_access, or the successor of
// currentRefreshToken, which stops working (rotation, RFC 9700 4.14.2).
func (s *storage) CreateAccessAndRefreshTokens(_ context.Context, req op.TokenRequest, currentRefreshToken string) (string, string, time.Time, error) {
	tr, ok := req.(tokenRequest)
	if !ok {
		return "", "", time.Time{}, oidc.ErrServerError().WithDescription("unexpected token request")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var grant refreshToken
	switch r := req.(type) {
	case *refreshToken:
		old, ok := s.refreshTokens[currentRefreshToken]
		if !ok || time.Now().After(old.expires) {
			// Rotated by a concurrent request since op looked it up.
			return "", "", time.Time{}, oidc.ErrInvalidGrant().WithParent(errUnknownRefreshToken)
		}
		delete(s.refreshTokens, currentRefreshToken)
		grant = *old // its scopes, not the narrowed ones of this request
	case *authRequest:
		grant = refreshToken{
			authRequestID: r.id,
			expires:       time.Now().Add(refreshTokenTTL),
			clientID:      r.clientID,
			userID:        r.userID,
			scopes:        r.scopes,
			audience:      r.audience,
			authTime:      r.authTime,
			amr:           r.GetAMR(),
		}
	default:
		return "", "", time.Time{}, oidc.ErrServerError().WithDescription("no refresh token for this grant")
	}
	token := rand.Text()
	s.refreshTokens[token] = &grant
	id, expires := s.newAccessTokenLocked(tr)
	return id, token, expires, nil
}

func (s *storage) newAccessTokenLocked(req tokenRequest) (string, time.Time) {
	s.sweepLocked()
	id, expires := rand.Text(), time.Now().Add(s.accessTTL)
	s.accessTokens[id] = accessTokenInfo{subject: req.GetSubject(), clientID: req.GetClientID(), scopes: req.GetScopes(), expires: expires}
	s.log.Info("access token issued", slog.String("grant_type", grantType(req)), slog.String("sub", req.GetSubject()),
		slog.String("client_id", req.GetClientID()), slog.String("scope", strings.Join(req.GetScopes(), " ")), slog.String("jti", id))
	return id, expires
}

func (s *storage) TokenRequestByRefreshToken(_ context.Context, token string) (op.RefreshTokenRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rt, ok := s.refreshTokens[token]
	if !ok || time.Now().After(rt.expires) {
		return nil, errUnknownRefreshToken
	}
	c := *rt
	return &c, nil
}

// GetRefreshTokenInfo serves revocation: the refresh token stands for
// itself (it is its own id).
func (s *storage) GetRefreshTokenInfo(_ context.Context, clientID, token string) (string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rt, ok := s.refreshTokens[token]
	if !ok || rt.clientID != clientID {
		return "", "", op.ErrInvalidRefreshToken
	}
	return rt.userID, token, nil
}

// RevokeToken revokes a refresh token, or an access token by jti (userinfo
// stops accepting it; the API keeps accepting the JWT until it expires,
// which is why access tokens are short-lived). An unknown token is not an
// error (RFC 7009 2.2).
func (s *storage) RevokeToken(_ context.Context, tokenOrID, _, clientID string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rt, ok := s.refreshTokens[tokenOrID]; ok {
		if rt.clientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("the token was not issued to this client")
		}
		delete(s.refreshTokens, tokenOrID)
		s.log.Info("refresh token revoked", slog.String("sub", rt.userID), slog.String("client_id", clientID))
		return nil
	}
	if at, ok := s.accessTokens[tokenOrID]; ok {
		if at.clientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("the token was not issued to this client")
		}
		delete(s.accessTokens, tokenOrID)
		s.log.Info("access token revoked", slog.String("sub", at.subject), slog.String("client_id", clientID), slog.String("jti", tokenOrID))
	}
	return nil
}

// TerminateSession is logout: with no login session to end, it revokes the
// user's refresh tokens for that client. op calls it with the user only
// when the logout request carried an id_token_hint.
func (s *storage) TerminateSession(_ context.Context, userID, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	revoked := 0
	if userID != "" {
		revoked = s.revokeRefreshTokensLocked(func(rt *refreshToken) bool { return rt.userID == userID && rt.clientID == clientID })
	}
	s.log.Info("logout", slog.String("sub", userID), slog.String("client_id", clientID), slog.Int("revoked", revoked))
	return nil
}

func (s *storage) revokeRefreshTokensLocked(match func(*refreshToken) bool) int {
	n := 0
	for token, rt := range s.refreshTokens {
		if match(rt) {
			delete(s.refreshTokens, token)
			n++
		}
	}
	return n
}

// GetPrivateClaimsFromScopes adds the scope claim to access tokens (op
// leaves it out): the space-separated scopes the authorizer maps to routes.
// op has removed profile and email, which only concern userinfo.
func (s *storage) GetPrivateClaimsFromScopes(_ context.Context, _, _ string, scopes []string) (map[string]any, error) {
	return map[string]any{"scope": strings.Join(scopes, " ")}, nil
}

// SetUserinfoFromScopes is deprecated in op, which asks for an empty
// implementation; SetUserinfoFromRequest does the work.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills the ID token's user claims.
func (s *storage) SetUserinfoFromRequest(_ context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	return s.fillUserinfo(info, req.GetSubject(), scopes)
}

// SetUserinfoFromToken serves the userinfo endpoint. op has verified the
// JWT; the token must also be one this provider recorded (not revoked, not
// an ID token) and carry the openid scope (OIDC Core 5.3).
func (s *storage) SetUserinfoFromToken(_ context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	s.mu.Lock()
	at, ok := s.accessTokens[tokenID]
	s.mu.Unlock()
	if !ok || at.subject != subject || time.Now().After(at.expires) {
		return oidc.ErrAccessDenied().WithDescription("unknown, revoked or expired access token")
	}
	if !slices.Contains(at.scopes, oidc.ScopeOpenID) {
		return oidc.ErrAccessDenied().WithDescription("userinfo needs a token with the openid scope")
	}
	return s.fillUserinfo(info, subject, at.scopes)
}

func (s *storage) fillUserinfo(info *oidc.UserInfo, subject string, scopes []string) error {
	user, ok := s.users[subject]
	if !ok {
		return oidc.ErrAccessDenied().WithDescription("no such user")
	}
	info.Subject = user.Username
	if slices.Contains(scopes, oidc.ScopeProfile) {
		info.Name, info.PreferredUsername = user.Name, user.Username
	}
	if slices.Contains(scopes, oidc.ScopeEmail) {
		info.Email, info.EmailVerified = user.Email, true
	}
	return nil
}
