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
	userList  []DemoUser // the same users, in DemoUsers' order, for the login page
	log       *slog.Logger

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
	// A copy: DemoUsers is an exported variable.
	users := make(map[string]DemoUser, len(DemoUsers))
	var userList []DemoUser
	for _, u := range DemoUsers {
		u.Scopes = slices.Clone(u.Scopes)
		users[u.Username] = u
		userList = append(userList, u)
	}
	return &storage{
		audience:      []string{cfg.Audience},
		accessTTL:     cfg.AccessTokenTTL,
		key:           key,
		clients:       newClients(cfg),
		users:         users,
		userList:      userList,
		log:           cfg.Logger,
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
		expires:       time.Now().Add(authRequestTTL),
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
	if !ok || ar.done || time.Now().After(ar.expires) {
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
	if !ok || ar.done || time.Now().After(ar.expires) {
		return nil, errUnknownAuthRequest
	}
	user, known := s.users[username]
	if !known || subtle.ConstantTimeCompare([]byte(user.Password), []byte(password)) != 1 {
		return nil, errWrongCredentials
	}
	ar.scopes = slices.DeleteFunc(slices.Clone(ar.scopes), func(scope string) bool {
		return !slices.Contains(oidcScopes, scope) && !slices.Contains(user.Scopes, scope)
	})
	ar.userID, ar.authTime, ar.done = user.Username, time.Now(), true
	return copyOf(ar), nil
}

func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ar, ok := s.authRequests[id]
	if !ok || time.Now().After(ar.expires) {
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
	if !ok || !ar.done || time.Now().After(ar.expires) {
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
	if !ok || time.Now().After(ar.expires) {
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
	now := time.Now()
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
