package idp

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Lifetimes of what the storage keeps in memory.
const (
	// authRequestTTL bounds the login and the code (RFC 6749 4.1.2: at most
	// ten minutes).
	authRequestTTL = 10 * time.Minute
	// refreshTokenTTL is a refresh token family's absolute lifetime:
	// rotation does not extend it.
	refreshTokenTTL = 12 * time.Hour
	// sweepInterval is how often expired entries are dropped.
	sweepInterval = time.Minute
)

// Errors of the storage. op wraps them into OAuth errors (invalid_grant for
// codes and refresh tokens); their text reaches only the logs, so it never
// contains a code or a token.
var (
	errUnknownAuthRequest  = errors.New("unknown, expired or completed authorization request")
	errUnknownCode         = errors.New("unknown or expired authorization code")
	errCodeReplayed        = errors.New("authorization code already used")
	errUnknownRefreshToken = errors.New("unknown, rotated or expired refresh token")
	errWrongCredentials    = errors.New("wrong username or password")
)

// oidcScopes are granted to every user who asks; the API scopes only to
// the users who have them.
var oidcScopes = []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopeOfflineAccess}

// storage is the op.Storage (and op.ClientCredentialsStorage) of the
// provider: fixed users and clients, and in memory what the flows create.
// It is safe for concurrent use.
type storage struct {
	audience  []string // the API: every access token's aud
	accessTTL time.Duration
	key       *signingKey
	clients   map[string]*client
	users     map[string]DemoUser
	log       *slog.Logger
	now       func() time.Time

	mu            sync.Mutex
	authRequests  map[string]*authRequest    // by id
	codes         map[string]string          // unredeemed code -> auth request id
	redeemedCodes map[string]redeemedCode    // redeemed code -> what it gave, to spot a replay
	accessTokens  map[string]accessTokenInfo // by jti: for userinfo and revocation
	refreshTokens map[string]*refreshToken   // by the token itself
	lastSweep     time.Time
}

type redeemedCode struct {
	authRequestID    string
	clientID, userID string
	expires          time.Time
}

type accessTokenInfo struct {
	subject, clientID string
	scopes            []string
	expires           time.Time
}

func newStorage(cfg Config, key *signingKey) *storage {
	users := make(map[string]DemoUser, len(DemoUsers))
	for _, u := range DemoUsers {
		u.Scopes = slices.Clone(u.Scopes)
		users[u.Username] = u
	}
	return &storage{
		audience:      []string{cfg.Audience},
		accessTTL:     cfg.AccessTokenTTL,
		key:           key,
		clients:       newClients(cfg),
		users:         users,
		log:           cfg.Logger,
		now:           time.Now,
		authRequests:  map[string]*authRequest{},
		codes:         map[string]string{},
		redeemedCodes: map[string]redeemedCode{},
		accessTokens:  map[string]accessTokenInfo{},
		refreshTokens: map[string]*refreshToken{},
	}
}

// ---- Authorization requests and the login page ----

// CreateAuthRequest stores a request op has validated (client, exact
// redirect URI, response type, scopes known to the client) and adds this
// provider's own rules. Its errors are sent to the redirect URI, which op
// has already checked.
func (s *storage) CreateAuthRequest(_ context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	// op lets a request without code_challenge through and then issues a
	// code that needs no verifier; PKCE with S256 is required here instead
	// (RFC 9700 2.1.1), for every client.
	if req.CodeChallenge == "" || req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE is required: send code_challenge with code_challenge_method=S256")
	}
	// There is no login session to reuse, so a silent login cannot succeed.
	if slices.Contains(req.Prompt, oidc.PromptNone) {
		return nil, oidc.ErrLoginRequired().WithDescription("this development provider keeps no login session")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked()
	ar := &authRequest{
		id:            rand.Text(),
		expires:       s.now().Add(authRequestTTL),
		clientID:      req.ClientID,
		redirectURI:   req.RedirectURI,
		state:         req.State,
		nonce:         req.Nonce,
		scopes:        slices.Clone(req.Scopes),
		responseType:  req.ResponseType,
		responseMode:  req.ResponseMode,
		codeChallenge: &oidc.CodeChallenge{Challenge: req.CodeChallenge, Method: req.CodeChallengeMethod},
		audience:      s.audience,
	}
	s.authRequests[ar.id] = ar
	return copyOf(ar), nil
}

// pendingAuthRequest is the request the login page shows, if it is still
// waiting for a login.
func (s *storage) pendingAuthRequest(id string) (*authRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ar, ok := s.authRequests[id]
	if !ok || ar.done || s.now().After(ar.expires) {
		return nil, errUnknownAuthRequest
	}
	return copyOf(ar), nil
}

// login checks a user's password and completes the authorization request
// for them, keeping only the scopes the user may have: bob asking for
// pets:write gets pets:read alone. A wrong password leaves the request
// pending, so the user can try again.
func (s *storage) login(authRequestID, username, password string) (*authRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ar, ok := s.authRequests[authRequestID]
	if !ok || ar.done || s.now().After(ar.expires) {
		return nil, errUnknownAuthRequest
	}
	user, known := s.users[username]
	if !known || subtle.ConstantTimeCompare([]byte(user.Password), []byte(password)) != 1 {
		return nil, errWrongCredentials
	}
	ar.scopes = slices.DeleteFunc(slices.Clone(ar.scopes), func(scope string) bool {
		return !slices.Contains(oidcScopes, scope) && !slices.Contains(user.Scopes, scope)
	})
	ar.userID, ar.authTime, ar.done = user.Username, s.now(), true
	return copyOf(ar), nil
}

func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ar, ok := s.authRequests[id]
	if !ok || s.now().After(ar.expires) {
		return nil, errUnknownAuthRequest
	}
	return copyOf(ar), nil
}

// SaveAuthCode records the code op made for a completed request. One
// request gets one code: calling the callback again does not mint another.
func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ar, ok := s.authRequests[id]
	if !ok || !ar.done || s.now().After(ar.expires) {
		return errUnknownAuthRequest
	}
	if ar.code != "" {
		return oidc.ErrInvalidRequest().WithDescription("an authorization code was already issued for this request")
	}
	ar.code = code
	s.codes[code] = id
	return nil
}

// AuthRequestByCode redeems a code: it works once. The first use spends it,
// even if the exchange then fails (a wrong code_verifier, say). A second
// use is refused and, as RFC 6749 4.1.2 advises, revokes the refresh tokens
// the first use gave, since one of the two users is an attacker.
func (s *storage) AuthRequestByCode(_ context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.codes[code]
	if !ok {
		spent, replayed := s.redeemedCodes[code]
		if !replayed {
			return nil, errUnknownCode
		}
		revoked := s.revokeRefreshTokensLocked(func(rt *refreshToken) bool { return rt.authRequestID == spent.authRequestID })
		s.log.Warn("authorization code replayed: refused, refresh tokens from it revoked",
			slog.String("client_id", spent.clientID), slog.String("sub", spent.userID), slog.Int("revoked", revoked))
		return nil, errCodeReplayed
	}
	delete(s.codes, code)
	ar, ok := s.authRequests[id]
	if !ok || s.now().After(ar.expires) {
		return nil, errUnknownCode
	}
	s.redeemedCodes[code] = redeemedCode{authRequestID: id, clientID: ar.clientID, userID: ar.userID, expires: ar.expires}
	return copyOf(ar), nil
}

func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ar, ok := s.authRequests[id]; ok {
		delete(s.codes, ar.code)
		delete(s.authRequests, id)
	}
	return nil
}

// ---- Tokens ----

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
		if !ok || s.now().After(old.expires) {
			// Rotated by a concurrent request since op looked it up.
			return "", "", time.Time{}, oidc.ErrInvalidGrant().WithParent(errUnknownRefreshToken)
		}
		delete(s.refreshTokens, currentRefreshToken)
		grant = *old // its scopes, not the narrowed ones of this request
	case *authRequest:
		grant = refreshToken{
			authRequestID: r.id,
			expires:       s.now().Add(refreshTokenTTL),
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
	id, expires := rand.Text(), s.now().Add(s.accessTTL)
	s.accessTokens[id] = accessTokenInfo{subject: req.GetSubject(), clientID: req.GetClientID(), scopes: req.GetScopes(), expires: expires}
	s.log.Info("access token issued", slog.String("grant_type", grantType(req)), slog.String("sub", req.GetSubject()),
		slog.String("client_id", req.GetClientID()), slog.String("scope", strings.Join(req.GetScopes(), " ")), slog.String("jti", id))
	return id, expires
}

func (s *storage) TokenRequestByRefreshToken(_ context.Context, token string) (op.RefreshTokenRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rt, ok := s.refreshTokens[token]
	if !ok || s.now().After(rt.expires) {
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

// ---- Clients ----

// GetClientByClientID answers an unknown client with invalid_client: a
// plain error would become a server_error (500).
func (s *storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	c, ok := s.clients[id]
	if !ok {
		return nil, oidc.ErrInvalidClient().WithDescription("unknown client")
	}
	return c, nil
}

func (s *storage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	_, err := s.authenticate(id, secret)
	return err
}

// ClientCredentials authenticates a client for the client_credentials
// grant (secret by HTTP Basic or form, op accepts both).
func (s *storage) ClientCredentials(_ context.Context, id, secret string) (op.Client, error) {
	c, err := s.authenticate(id, secret)
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (s *storage) authenticate(id, secret string) (*client, error) {
	c, ok := s.clients[id]
	if !ok || c.secret == "" || subtle.ConstantTimeCompare([]byte(c.secret), []byte(secret)) != 1 {
		s.log.Warn("client authentication failed", slog.Bool("known_client", ok))
		return nil, oidc.ErrInvalidClient().WithDescription("wrong client_id or client_secret")
	}
	return c, nil
}

// ClientCredentialsTokenRequest decides a machine client's scopes: none
// asked gives all of the client's; a subset narrows the token (pets:read
// gives a read-only token); a scope the client may not have is refused
// with invalid_scope (RFC 6749 5.2) rather than silently dropped, so a
// misconfigured caller learns at once.
func (s *storage) ClientCredentialsTokenRequest(_ context.Context, clientID string, scopes []string) (op.TokenRequest, error) {
	c, ok := s.clients[clientID]
	if !ok {
		return nil, oidc.ErrInvalidClient().WithDescription("unknown client")
	}
	if len(scopes) == 0 {
		scopes = c.scopes
	}
	var granted []string
	for _, scope := range scopes {
		if !c.IsScopeAllowed(scope) {
			return nil, oidc.ErrInvalidScope().WithDescription("a requested scope is not allowed for this client; allowed: %s", strings.Join(c.scopes, " "))
		}
		if !slices.Contains(granted, scope) {
			granted = append(granted, scope)
		}
	}
	return &clientCredentialsRequest{clientID: clientID, scopes: granted, audience: s.audience}, nil
}

// ---- Userinfo ----

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
	if !ok || at.subject != subject || s.now().After(at.expires) {
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

// ---- Keys ----

func (s *storage) SigningKey(context.Context) (op.SigningKey, error) { return s.key, nil }
func (s *storage) KeySet(context.Context) ([]op.Key, error)          { return []op.Key{publicKey{s.key}}, nil }
func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

// ---- Not offered ----

var errNotOffered = errors.New("not offered by the development provider")

// GetKeyByIDAndClientID would serve private_key_jwt and the JWT bearer
// grant; no client has a key, so both fail.
func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errNotOffered
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, oidc.ErrUnauthorizedClient().WithParent(errNotOffered)
}

// SetIntrospectionFromToken is unused: the introspection endpoint is off.
func (s *storage) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return errNotOffered
}

func (s *storage) Health(context.Context) error { return nil }

// ---- Housekeeping ----

// sweepLocked drops what has expired, at most once per sweepInterval, so
// a long-running local stack does not grow without bound.
func (s *storage) sweepLocked() {
	now := s.now()
	if now.Sub(s.lastSweep) < sweepInterval {
		return
	}
	s.lastSweep = now
	for id, ar := range s.authRequests {
		if now.After(ar.expires) {
			delete(s.codes, ar.code)
			delete(s.authRequests, id)
		}
	}
	for code, rc := range s.redeemedCodes {
		if now.After(rc.expires) {
			delete(s.redeemedCodes, code)
		}
	}
	for id, at := range s.accessTokens {
		if now.After(at.expires) {
			delete(s.accessTokens, id)
		}
	}
	for token, rt := range s.refreshTokens {
		if now.After(rt.expires) {
			delete(s.refreshTokens, token)
		}
	}
}

func copyOf(ar *authRequest) *authRequest {
	c := *ar
	return &c
}

func grantType(req tokenRequest) string {
	switch req.(type) {
	case *authRequest:
		return string(oidc.GrantTypeCode)
	case *refreshToken:
		return string(oidc.GrantTypeRefreshToken)
	default:
		return string(oidc.GrantTypeClientCredentials)
	}
}
