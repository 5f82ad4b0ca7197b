package authorizer

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Defaults and limits of the configuration.
const (
	// DefaultRouteScopes protects the PetStore: reads need pets:read, writes
	// pets:write, and GET /me only needs a valid token.
	DefaultRouteScopes = "GET /pets=pets:read,GET /pets/*=pets:read,POST /pets=pets:write,GET /me="
	DefaultAlgorithms  = "RS256"
	DefaultClockSkew   = 30 * time.Second
	MaxClockSkew       = 5 * time.Minute
	// MaxTokenBytes bounds the Authorization value before any parsing.
	MaxTokenBytes = 16 << 10
	// MaxJWKSTimeout bounds each JWKS or discovery request: a hanging IdP must
	// not hang the authorizer.
	MaxJWKSTimeout = 3 * time.Second
	// DefaultKeyRefreshInterval is how often an unknown kid may trigger a JWKS
	// refetch: a rotated key is picked up within it, while a flood of random
	// kids costs the IdP at most one request per interval.
	DefaultKeyRefreshInterval = 10 * time.Second
	// DefaultKeyMaxAge is how long fetched keys are trusted before the next
	// request refreshes them (so a key the IdP revoked stops working).
	DefaultKeyMaxAge = time.Hour
)

// The environment variables the authorizer reads. template.yaml sets them.
const (
	EnvIssuer      = "ISSUER"
	EnvTokenIssuer = "TOKEN_ISSUER" // alias of ISSUER, as in the original tutorials
	EnvAudience    = "AUDIENCE"
	EnvJWKSURI     = "JWKS_URI"
	EnvRouteScopes = "ROUTE_SCOPES"
	EnvAlgorithms  = "ALGORITHMS"
	EnvClockSkew   = "CLOCK_SKEW"
)

// allowedAlgorithms are the asymmetric JWS algorithms the authorizer can be
// configured to accept. "none" and the HMAC family are never accepted: with a
// public JWKS, HS256 would let anyone sign with the public key.
var allowedAlgorithms = []string{
	"RS256", "RS384", "RS512",
	"PS256", "PS384", "PS512",
	"ES256", "ES384", "ES512",
	"EdDSA",
}

// Config is the validated configuration of an Authorizer.
type Config struct {
	// Issuer is compared exactly with the token's iss (mind the trailing
	// slash of Auth0 issuers).
	Issuer string
	// Audiences: a token is accepted when its aud contains one of them or,
	// for Cognito access tokens (no aud), when its client_id is one of them.
	Audiences []string
	// JWKSURI is where the keys are fetched. Empty: discovered from
	// Issuer + "/.well-known/openid-configuration".
	JWKSURI string
	// Rules map routes to the scopes they need.
	Rules []RouteRule
	// Algorithms is the allow-list of JWS algorithms (asymmetric only).
	Algorithms []string
	// ClockSkew is the leeway applied to exp, nbf and iat (0 to MaxClockSkew).
	ClockSkew time.Duration

	// The fields below are not read from the environment.

	// JWKSTimeout bounds each JWKS or discovery request (0: MaxJWKSTimeout,
	// which is also its maximum).
	JWKSTimeout time.Duration
	// KeyRefreshInterval rate-limits JWKS refetches (0:
	// DefaultKeyRefreshInterval; at least a second).
	KeyRefreshInterval time.Duration
	// KeyMaxAge is how long fetched keys are used before a refresh is tried
	// (0: DefaultKeyMaxAge; at least KeyRefreshInterval).
	KeyMaxAge time.Duration
	// HTTPClient fetches discovery and the JWKS (default: a client with
	// JWKSTimeout).
	HTTPClient *http.Client
	// Logger receives one JSON line per decision (default slog.Default()).
	Logger *slog.Logger
	// Now is the clock (default time.Now); tests move it.
	Now func() time.Time
}

// ConfigFromEnv reads and validates the configuration from the environment,
// given as a lookup function such as os.Getenv. The error names the variable
// at fault.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	var cfg Config
	var errs []error

	issuer, alias := strings.TrimSpace(getenv(EnvIssuer)), strings.TrimSpace(getenv(EnvTokenIssuer))
	switch {
	case issuer == "" && alias == "":
		errs = append(errs, fmt.Errorf("%s is required: the exact iss of your tokens, e.g. https://example.auth0.com/", EnvIssuer))
	case issuer != "" && alias != "" && issuer != alias:
		errs = append(errs, fmt.Errorf("%s and %s are both set and differ: set only one", EnvIssuer, EnvTokenIssuer))
	case issuer == "":
		issuer = alias
	}
	if issuer != "" {
		if err := checkFetchURL(issuer); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", envName(getenv(EnvIssuer) != "", EnvIssuer, EnvTokenIssuer), err))
		}
	}
	cfg.Issuer = issuer

	cfg.Audiences = splitList(getenv(EnvAudience), ",")
	if len(cfg.Audiences) == 0 {
		errs = append(errs, fmt.Errorf("%s is required: the API identifier your tokens carry in aud (comma-separated for several)", EnvAudience))
	}

	cfg.JWKSURI = strings.TrimSpace(getenv(EnvJWKSURI))
	if cfg.JWKSURI != "" {
		if err := checkFetchURL(cfg.JWKSURI); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvJWKSURI, err))
		}
	}

	rules := getenv(EnvRouteScopes)
	if strings.TrimSpace(rules) == "" {
		rules = DefaultRouteScopes
	}
	var err error
	if cfg.Rules, err = ParseRouteRules(rules); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", EnvRouteScopes, err))
	}

	algs := getenv(EnvAlgorithms)
	if strings.TrimSpace(algs) == "" {
		algs = DefaultAlgorithms
	}
	cfg.Algorithms = splitList(algs, ",")
	for _, alg := range cfg.Algorithms {
		if !slices.Contains(allowedAlgorithms, alg) {
			errs = append(errs, fmt.Errorf("%s: %q is not allowed; use asymmetric algorithms from %s", EnvAlgorithms, alg, strings.Join(allowedAlgorithms, ", ")))
		}
	}

	cfg.ClockSkew = DefaultClockSkew
	if s := strings.TrimSpace(getenv(EnvClockSkew)); s != "" {
		d, err := parseSeconds(s)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %q is not a duration such as 30s", EnvClockSkew, s))
		case d < 0 || d > MaxClockSkew:
			errs = append(errs, fmt.Errorf("%s: %s is outside 0s..%s", EnvClockSkew, d, MaxClockSkew))
		default:
			cfg.ClockSkew = d
		}
	}

	if len(errs) > 0 {
		return Config{}, fmt.Errorf("invalid authorizer configuration: %w", errors.Join(errs...))
	}
	return cfg, nil
}

// withDefaults checks a Config, whether from ConfigFromEnv or built in
// code, and fills in the defaults of the fields left zero. It fails closed:
// a value out of range is an error, not silently replaced.
func (c Config) withDefaults() (Config, error) {
	var errs []error
	if err := checkFetchURL(c.Issuer); err != nil {
		errs = append(errs, fmt.Errorf("Issuer: %w", err))
	}
	if c.JWKSURI != "" {
		if err := checkFetchURL(c.JWKSURI); err != nil {
			errs = append(errs, fmt.Errorf("JWKSURI: %w", err))
		}
	}
	if len(c.Audiences) == 0 || slices.Contains(c.Audiences, "") {
		errs = append(errs, errors.New("Audiences: at least one, none empty"))
	}
	if len(c.Rules) == 0 {
		errs = append(errs, errors.New("Rules: at least one"))
	}
	for _, r := range c.Rules {
		// Parsed back, a valid rule gives itself again.
		if parsed, err := ParseRouteRules(r.String()); err != nil || len(parsed) != 1 || parsed[0].String() != r.String() {
			errs = append(errs, fmt.Errorf("Rules: %q is not a valid rule", r.String()))
		}
	}
	if len(c.Algorithms) == 0 {
		c.Algorithms = []string{DefaultAlgorithms}
	}
	for _, alg := range c.Algorithms {
		if !slices.Contains(allowedAlgorithms, alg) {
			errs = append(errs, fmt.Errorf("Algorithms: %q is not allowed", alg))
		}
	}
	c.JWKSTimeout = orDefault(c.JWKSTimeout, MaxJWKSTimeout)
	c.KeyRefreshInterval = orDefault(c.KeyRefreshInterval, DefaultKeyRefreshInterval)
	c.KeyMaxAge = orDefault(c.KeyMaxAge, DefaultKeyMaxAge)
	switch {
	case c.ClockSkew < 0 || c.ClockSkew > MaxClockSkew:
		errs = append(errs, fmt.Errorf("ClockSkew: %s is outside 0s..%s", c.ClockSkew, MaxClockSkew))
	case c.JWKSTimeout < 0 || c.JWKSTimeout > MaxJWKSTimeout:
		errs = append(errs, fmt.Errorf("JWKSTimeout: %s is outside 0s..%s", c.JWKSTimeout, MaxJWKSTimeout))
	case c.KeyRefreshInterval < time.Second:
		errs = append(errs, fmt.Errorf("KeyRefreshInterval: %s is under 1s", c.KeyRefreshInterval))
	case c.KeyMaxAge < c.KeyRefreshInterval:
		errs = append(errs, fmt.Errorf("KeyMaxAge: %s is under KeyRefreshInterval", c.KeyMaxAge))
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("invalid authorizer configuration: %w", errors.Join(errs...))
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: c.JWKSTimeout, CheckRedirect: checkRedirect}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// checkFetchURL accepts https URLs, and plain http only for hosts of a
// developer machine (the local IdP, or the host seen from sam local's
// container), so a production deployment cannot fetch keys in clear text.
func checkFetchURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" {
		return fmt.Errorf("%q is not an absolute URL", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isDevHost(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%q must use https (plain http is allowed only for localhost)", raw)
	default:
		return fmt.Errorf("%q must use https", raw)
	}
}

func isDevHost(host string) bool {
	if host == "localhost" || host == "host.docker.internal" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 3 {
		return errors.New("too many redirects")
	}
	return checkFetchURL(req.URL.String())
}

// parseSeconds accepts a Go duration ("30s", "1m") or a plain number of
// seconds ("30"), the form CloudFormation parameters usually take.
func parseSeconds(s string) (time.Duration, error) {
	if n, err := strconv.Atoi(s); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	return time.ParseDuration(s)
}

func splitList(s, sep string) []string {
	var out []string
	for _, part := range strings.Split(s, sep) {
		if part = strings.TrimSpace(part); part != "" && !slices.Contains(out, part) {
			out = append(out, part)
		}
	}
	return out
}

func envName(primary bool, a, b string) string {
	if primary {
		return a
	}
	return b
}
