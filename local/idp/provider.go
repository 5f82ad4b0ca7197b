package idp

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"
)

// DefaultAccessTokenTTL is short so that the web client's refresh is
// exercised during a tutorial session.
const DefaultAccessTokenTTL = 15 * time.Minute

// The provider's paths. Clients should find them by discovery
// (/.well-known/openid-configuration); they are listed here for reference.
const (
	authorizePath  = "/authorize" // its login callback is /authorize/callback
	tokenPath      = "/oauth/token"
	userinfoPath   = "/userinfo"
	revokePath     = "/revoke"
	endSessionPath = "/end_session"
	keysPath       = "/keys"
	loginPath      = "/login"
	loggedOutPath  = "/logged-out" // where a logout that names no client, or no post_logout_redirect_uri, ends
)

// Config configures the development provider.
type Config struct {
	// Issuer is the provider's URL and the iss of its tokens, e.g.
	// "http://localhost:9000". Only http(s) on localhost, 127.0.0.1 or [::1]
	// is accepted, with no path: this provider is for a developer machine.
	Issuer string
	// Audience is the API identifier put in every access token's aud, e.g.
	// "https://petstore.example.com" (the authorizer's AUDIENCE).
	Audience string
	// WebRedirectURIs are the exact redirect URIs of the web client, e.g.
	// "http://localhost:8080/callback". At least one is required.
	WebRedirectURIs []string
	// WebPostLogoutRedirectURIs are the exact URIs end_session may return
	// to, e.g. "http://localhost:8080/".
	WebPostLogoutRedirectURIs []string
	// AccessTokenTTL is the access tokens' lifetime (default
	// DefaultAccessTokenTTL).
	AccessTokenTTL time.Duration
	// Logger receives one line per request and per decision (default
	// slog.Default()). Tokens, codes and passwords are never logged.
	// zitadel's own messages go to slog.Default().
	Logger *slog.Logger
}

// Provider is a running development OpenID provider. Development only.
type Provider struct {
	handler http.Handler
}

// New validates cfg, generates the signing key and builds the provider.
func New(cfg Config) (*Provider, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	key, err := newSigningKey()
	if err != nil {
		return nil, fmt.Errorf("idp: %w", err)
	}
	store := newStorage(cfg, key)

	opConfig := &op.Config{
		CodeMethodS256:           true,
		AuthMethodPost:           true, // client_secret_post, besides Basic
		GrantTypeRefreshToken:    true,
		SupportedScopes:          append(append([]string{}, oidcScopes...), ScopeRead, ScopeWrite),
		DefaultLogoutRedirectURI: loggedOutPath,
	}
	// op encrypts with this key what must not be forged (the authorization
	// codes, which name the auth request). Fresh at every start; rand.Read
	// cannot fail.
	rand.Read(opConfig.CryptoKey[:])
	provider, err := op.NewProvider(opConfig, store, op.StaticIssuer(cfg.Issuer), op.WithAllowInsecure())
	if err != nil {
		return nil, fmt.Errorf("idp: %w", err)
	}
	// Only these endpoints are served: no introspection, no device flow.
	endpoints := op.Endpoints{
		Authorization: op.NewEndpoint(authorizePath),
		Token:         op.NewEndpoint(tokenPath),
		Userinfo:      op.NewEndpoint(userinfoPath),
		Revocation:    op.NewEndpoint(revokePath),
		EndSession:    op.NewEndpoint(endSessionPath),
		JwksURI:       op.NewEndpoint(keysPath),
	}
	server := &tokenServer{LegacyServer: op.NewLegacyServer(provider, endpoints), storage: store}

	mux := http.NewServeMux()
	login := &loginPage{storage: store, issuer: cfg.Issuer, callbackURL: server.AuthCallbackURL(), log: cfg.Logger}
	mux.Handle(loginPath, login)
	mux.HandleFunc(loggedOutPath, login.serveLoggedOut)
	mux.HandleFunc("GET /{$}", login.serveHome)
	mux.Handle("/", op.RegisterLegacyServer(server, op.AuthorizeCallbackHandler(provider)))
	return &Provider{handler: logRequests(cfg.Logger, mux)}, nil
}

// Handler serves every endpoint: discovery, JWKS, authorize and its login
// page, token, userinfo, revocation and end_session.
func (p *Provider) Handler() http.Handler { return p.handler }

func (c Config) withDefaults() (Config, error) {
	var errs []error
	if err := checkIssuer(c.Issuer); err != nil {
		errs = append(errs, err)
	}
	if c.Audience == "" {
		errs = append(errs, errors.New("the Audience is required: the API identifier the authorizer expects in aud"))
	}
	if len(c.WebRedirectURIs) == 0 {
		errs = append(errs, errors.New("the WebRedirectURIs need at least one URI, e.g. http://localhost:8080/callback"))
	}
	for _, uri := range append(append([]string{}, c.WebRedirectURIs...), c.WebPostLogoutRedirectURIs...) {
		// RFC 6749 3.1.2: absolute, without a fragment.
		if u, err := url.Parse(uri); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
			errs = append(errs, fmt.Errorf("redirect URI %q must be an absolute http(s) URL without a fragment", uri))
		}
	}
	switch {
	case c.AccessTokenTTL < 0:
		errs = append(errs, fmt.Errorf("the AccessTokenTTL %s is negative", c.AccessTokenTTL))
	case c.AccessTokenTTL == 0:
		c.AccessTokenTTL = DefaultAccessTokenTTL
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("idp: invalid configuration: %w", errors.Join(errs...))
	}
	return c, nil
}

// checkIssuer accepts only a developer machine's address: a provider with
// public passwords must not be reachable as a real issuer.
func checkIssuer(issuer string) error {
	u, err := url.Parse(issuer)
	switch {
	case issuer == "":
		return errors.New("the Issuer is required, e.g. http://localhost:9000")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("the Issuer %q must be an http(s) URL such as http://localhost:9000", issuer)
	case u.Hostname() != "localhost" && u.Hostname() != "127.0.0.1" && u.Hostname() != "::1":
		return fmt.Errorf("the Issuer %q: the development provider runs on localhost, 127.0.0.1 or [::1] only", issuer)
	case u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return fmt.Errorf("the Issuer %q must have no path, query, fragment or user (the iss is compared exactly)", issuer)
	}
	return nil
}

// logRequests writes one line per request: method, path (never the query,
// which may carry a state or a code), status and duration.
func logRequests(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		level := slog.LevelInfo
		if rec.status >= http.StatusInternalServerError {
			level = slog.LevelError
		}
		log.LogAttrs(r.Context(), level, "idp request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", rec.status),
			slog.Int64("duration_us", time.Since(start).Microseconds()))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
