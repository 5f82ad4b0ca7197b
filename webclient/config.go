package webclient

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// DefaultScopes are asked for when SCOPES is not set: the OIDC scopes, a
// refresh token (offline_access) and the PetStore's two API scopes.
var DefaultScopes = []string{"openid", "profile", "email", "offline_access", "pets:read", "pets:write"}

// Defaults of the session lifetimes.
const (
	DefaultSessionLifetime    = 12 * time.Hour
	DefaultSessionIdleTimeout = time.Hour
)

// Config configures the web client. Each field names, in parentheses in its
// comment, the environment variable ConfigFromEnv reads it from.
type Config struct {
	// Issuer is the OpenID provider's issuer URL (ISSUER), exactly as its
	// discovery document says: Auth0's ends with "/", Cognito's does not.
	Issuer string
	// ClientID is this app's client id at the provider (CLIENT_ID).
	ClientID string
	// ClientSecret is optional (CLIENT_SECRET): empty for a public client,
	// which PKCE alone protects; set for a confidential client.
	ClientSecret string
	// BaseURL is the app's own origin (BASE_URL), e.g.
	// https://abc.lambda-url.eu-west-1.on.aws or http://localhost:8080:
	// RedirectURL defaults to it + "/callback". It comes from configuration
	// (or, deployed, from the function URL's domain in the event's request
	// context: see cmd/webclient), never from a request's Host header.
	BaseURL string
	// RedirectURL is the callback registered at the provider (REDIRECT_URL;
	// default BaseURL + "/callback"), e.g. http://localhost:8080/callback.
	// Its scheme decides the cookies' Secure flag; its path is where the
	// callback is served.
	RedirectURL string
	// APIURL is the API's base URL, the gateway's invoke URL (API_URL), e.g.
	// https://abc123.execute-api.eu-west-1.amazonaws.com/Prod.
	APIURL string
	// Audience is sent as the "audience" parameter of the authorization
	// request when set (AUDIENCE): Auth0 needs it to issue a JWT access token
	// for the API instead of an opaque one.
	Audience string
	// Scopes are asked for at sign-in (SCOPES, space-separated; default
	// DefaultScopes). They must include openid.
	Scopes []string
	// Store keeps the sessions and the sign-ins in progress on the server
	// (default: a MemoryStore, for one instance). Every instance behind
	// one URL needs the same store: DynamoSessionStore on the sessions
	// table (SESSIONS_TABLE, read by cmd/webclient). The browser only ever
	// holds random ids, so there is no key to seal cookies with.
	Store SessionStore
	// LogoutURL is where to send the browser at sign-out when the provider
	// advertises no end_session_endpoint (LOGOUT_URL), e.g. Cognito's
	// https://DOMAIN.auth.REGION.amazoncognito.com/logout?client_id=ID&logout_uri=URL.
	// It is used as is.
	LogoutURL string
	// PostLogoutRedirectURL is where the provider returns after sign-out
	// (POST_LOGOUT_REDIRECT_URL; default: the RedirectURL's origin + "/").
	// Register it at the provider.
	PostLogoutRedirectURL string
	// HomeNote is an optional sentence on the home page, e.g. which demo
	// users the local stack has.
	HomeNote string

	// SessionLifetime bounds a session (default DefaultSessionLifetime);
	// SessionIdleTimeout ends one unused for that long (default
	// DefaultSessionIdleTimeout).
	SessionLifetime    time.Duration
	SessionIdleTimeout time.Duration
	// HTTPClient calls the provider and the API (default: a client with a
	// 10-second timeout).
	HTTPClient *http.Client
	// Logger gets one line per request and per decision (default
	// slog.Default()). Tokens, codes and secrets are never logged.
	Logger *slog.Logger
}

// ConfigFromEnv reads the configuration from environment variables (getenv
// is os.Getenv outside tests) and validates it. Every error names its
// variable.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	cfg := Config{
		Issuer:                strings.TrimSpace(getenv("ISSUER")),
		ClientID:              strings.TrimSpace(getenv("CLIENT_ID")),
		ClientSecret:          getenv("CLIENT_SECRET"),
		BaseURL:               strings.TrimRight(strings.TrimSpace(getenv("BASE_URL")), "/"),
		RedirectURL:           strings.TrimSpace(getenv("REDIRECT_URL")),
		APIURL:                strings.TrimSpace(getenv("API_URL")),
		Audience:              strings.TrimSpace(getenv("AUDIENCE")),
		Scopes:                strings.Fields(getenv("SCOPES")),
		LogoutURL:             strings.TrimSpace(getenv("LOGOUT_URL")),
		PostLogoutRedirectURL: strings.TrimSpace(getenv("POST_LOGOUT_REDIRECT_URL")),
	}
	return cfg, cfg.validate(true)
}

// withDefaults validates c and fills in the defaults.
func (c Config) withDefaults() (Config, error) {
	if err := c.validate(true); err != nil {
		return c, err
	}
	if c.RedirectURL == "" {
		c.RedirectURL = strings.TrimRight(c.BaseURL, "/") + "/callback"
	}
	if len(c.Scopes) == 0 {
		c.Scopes = DefaultScopes
	}
	if c.PostLogoutRedirectURL == "" {
		u, _ := url.Parse(c.RedirectURL) // validated
		c.PostLogoutRedirectURL = u.Scheme + "://" + u.Host + "/"
	}
	if c.Store == nil {
		c.Store = NewMemoryStore(c.SessionLifetime)
	}
	if c.SessionLifetime <= 0 {
		c.SessionLifetime = DefaultSessionLifetime
	}
	if c.SessionIdleTimeout <= 0 {
		c.SessionIdleTimeout = DefaultSessionIdleTimeout
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// ErrNoClientID is the configuration error of a web client deployed before
// its provider was set up: no client id, from CLIENT_ID or a secret.
var ErrNoClientID = errors.New("CLIENT_ID is required: this app's client id at the provider")

// OnlyNoClientID reports whether err says nothing but that the client id
// is missing: then, and only then, a deployment is "not configured yet";
// any other fault must fail the cold start and show in the logs.
func OnlyNoClientID(err error) bool {
	for err != nil {
		if err == ErrNoClientID {
			return true
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			if errs := u.Unwrap(); len(errs) == 1 {
				err = errs[0]
				continue
			}
			return false
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		default:
			return false
		}
	}
	return false
}

// validate checks every field and reports all problems at once, each with
// the environment variable that sets it. Without needURL, the app's own URL
// may be missing: a LambdaHandler learns it from the first event.
func (c Config) validate(needURL bool) error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if c.Issuer == "" {
		add("ISSUER is required: the OpenID provider's issuer URL, e.g. https://TENANT.auth0.com/")
	} else if err := checkURL(c.Issuer); err != nil {
		add("ISSUER %q: %v", c.Issuer, err)
	}
	if c.ClientID == "" {
		errs = append(errs, ErrNoClientID)
	}
	if c.BaseURL != "" {
		if err := checkURL(c.BaseURL); err != nil {
			add("BASE_URL %q: %v", c.BaseURL, err)
		} else if u, _ := url.Parse(c.BaseURL); u.Path != "" && u.Path != "/" || u.RawQuery != "" {
			add("BASE_URL %q must be an origin only (scheme and host), e.g. https://abc.lambda-url.eu-west-1.on.aws", c.BaseURL)
		}
	}
	if c.RedirectURL == "" {
		if c.BaseURL == "" && needURL {
			add("BASE_URL or REDIRECT_URL is required, e.g. BASE_URL=http://localhost:8080 (register BASE_URL/callback at the provider)")
		}
	} else if err := checkURL(c.RedirectURL); err != nil {
		add("REDIRECT_URL %q: %v", c.RedirectURL, err)
	} else if u, _ := url.Parse(c.RedirectURL); u.Path == "" || u.RawQuery != "" || reservedPath(u.Path) {
		add("REDIRECT_URL %q needs a path of its own (not one of the app's pages) and no query, e.g. /callback", c.RedirectURL)
	}
	if c.APIURL == "" {
		add("API_URL is required: the API's invoke URL, e.g. https://API_ID.execute-api.REGION.amazonaws.com/Prod")
	} else if err := checkURL(c.APIURL); err != nil {
		add("API_URL %q: %v", c.APIURL, err)
	}
	if len(c.Scopes) > 0 && !slices.Contains(c.Scopes, "openid") {
		add("SCOPES %q must include openid: the sign-in needs an ID token", strings.Join(c.Scopes, " "))
	}
	if c.LogoutURL != "" {
		if err := checkURL(c.LogoutURL); err != nil {
			add("LOGOUT_URL %q: %v", c.LogoutURL, err)
		}
	}
	if c.PostLogoutRedirectURL != "" {
		if err := checkURL(c.PostLogoutRedirectURL); err != nil {
			add("POST_LOGOUT_REDIRECT_URL %q: %v", c.PostLogoutRedirectURL, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("webclient: invalid configuration: %w", errors.Join(errs...))
	}
	return nil
}

// checkURL accepts an absolute http(s) URL with a host and no fragment or
// user info. Plain http is allowed for loopback hosts only: tokens go to
// the provider and the API, the session cookie is Secure only when the
// app's own URL is https, and a network, even a private one, is no place
// for either in clear text.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return errors.New("not a URL")
	case u.Scheme != "https" && u.Scheme != "http", u.Host == "":
		return errors.New("must be an absolute http(s) URL")
	case u.Fragment != "" || u.User != nil:
		return errors.New("must have no fragment and no user info")
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return errors.New("must use https (plain http only for localhost)")
	}
	return nil
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// reservedPath is a path the app serves itself, which the callback cannot
// take.
func reservedPath(p string) bool {
	switch p {
	case "/", "/login", "/logout", "/profile", "/console", "/token", "/healthz":
		return true
	}
	return strings.HasPrefix(p, "/static/") || strings.ContainsAny(p, "{}")
}
