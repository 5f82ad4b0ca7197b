package authorizer

import (
	"cmp"
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
	MaxTokenBytes      = 16 << 10 // the Authorization value, checked before any parsing
	// MaxJWKSTimeout bounds each JWKS or discovery request: a hanging IdP
	// must not hang the authorizer.
	MaxJWKSTimeout = 3 * time.Second
	// KeyRefreshInterval is how often an unknown kid may trigger a JWKS
	// fetch: a rotated key is picked up within it, while a flood of random
	// kids costs the IdP at most one request per interval.
	KeyRefreshInterval = 10 * time.Second
	// KeyMaxAge is how long fetched keys are used before the next request
	// fetches them again, so that a key the IdP removed stops working.
	KeyMaxAge = time.Hour
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

// allowedAlgorithms are the asymmetric JWS algorithms one may configure.
// "none" and HMAC never: with a public JWKS, HS256 would let anyone sign.
var allowedAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// Config is the configuration of an Authorizer. New checks it, whether it
// comes from ConfigFromEnv or is built in code.
type Config struct {
	Issuer     string        // compared exactly with iss (mind Auth0's trailing slash); https
	Audiences  []string      // aud must hold one, or a Cognito access token's client_id be one
	JWKSURI    string        // empty: found by OpenID discovery from Issuer
	Rules      []RouteRule   // the scopes each route needs
	Algorithms []string      // the JWS allow-list, asymmetric only (empty: DefaultAlgorithms)
	ClockSkew  time.Duration // leeway for exp, nbf and iat, 0 to MaxClockSkew

	// Not read from the environment:
	JWKSTimeout time.Duration    // each JWKS or discovery request (0: MaxJWKSTimeout, also the maximum)
	HTTPClient  *http.Client     // default: JWKSTimeout, at most 3 redirects, each to a URL Issuer could be
	Logger      *slog.Logger     // one JSON line per decision (default slog.Default())
	Now         func() time.Time // the clock (default time.Now); tests move it
}

// ConfigFromEnv reads and checks the configuration from the environment,
// given as a lookup function such as os.Getenv. The error names each
// variable at fault.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	issuerVar, issuer := EnvIssuer, strings.TrimSpace(getenv(EnvIssuer))
	if alias := strings.TrimSpace(getenv(EnvTokenIssuer)); issuer == "" {
		issuerVar, issuer = EnvTokenIssuer, alias
	} else if alias != "" && alias != issuer {
		return Config{}, fmt.Errorf("invalid authorizer configuration: %s and %s are both set and differ: set only one", EnvIssuer, EnvTokenIssuer)
	}
	cfg := Config{
		Issuer:     issuer,
		Audiences:  splitList(getenv(EnvAudience)),
		JWKSURI:    strings.TrimSpace(getenv(EnvJWKSURI)),
		Algorithms: splitList(cmp.Or(getenv(EnvAlgorithms), DefaultAlgorithms)),
		ClockSkew:  DefaultClockSkew,
	}
	var errs []error
	rules, err := ParseRouteRules(cmp.Or(strings.TrimSpace(getenv(EnvRouteScopes)), DefaultRouteScopes))
	if err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", EnvRouteScopes, err))
	}
	cfg.Rules = rules
	if s := strings.TrimSpace(getenv(EnvClockSkew)); s != "" {
		var err error
		if cfg.ClockSkew, err = parseSeconds(s); err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not a duration such as 30s", EnvClockSkew, s))
		}
	}
	if err == nil { // else problems would only say again that there are no rules
		errs = append(errs, cfg.problems(issuerVar)...)
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("invalid authorizer configuration: %w", errors.Join(errs...))
	}
	return cfg, nil
}

// problems lists what is wrong with the fields the environment sets, each
// named by its variable (the issuer's by issuerVar).
func (c Config) problems(issuerVar string) []error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.Issuer == "" {
		add("%s is required: the exact iss of your tokens, e.g. https://example.auth0.com/", issuerVar)
	} else if err := checkFetchURL(c.Issuer); err != nil {
		add("%s: %w", issuerVar, err)
	}
	if len(c.Audiences) == 0 || slices.Contains(c.Audiences, "") {
		add("%s is required: the API identifier your tokens carry in aud (comma-separated for several)", EnvAudience)
	}
	if err := checkFetchURL(c.JWKSURI); c.JWKSURI != "" && err != nil {
		add("%s: %w", EnvJWKSURI, err)
	}
	if len(c.Rules) == 0 {
		add("%s: at least one rule is needed", EnvRouteScopes)
	}
	for _, r := range c.Rules { // parsed back, a valid rule gives itself again
		if parsed, err := ParseRouteRules(r.String()); err != nil || len(parsed) != 1 || parsed[0].String() != r.String() {
			add("%s: %q is not a valid rule", EnvRouteScopes, r.String())
		}
	}
	for _, alg := range c.Algorithms {
		if !slices.Contains(allowedAlgorithms, alg) {
			add("%s: %q is not allowed; use asymmetric algorithms from %s", EnvAlgorithms, alg, strings.Join(allowedAlgorithms, ", "))
		}
	}
	if c.ClockSkew < 0 || c.ClockSkew > MaxClockSkew {
		add("%s: %s is outside 0s..%s", EnvClockSkew, c.ClockSkew, MaxClockSkew)
	}
	return errs
}

// withDefaults checks c and fills in the defaults of the fields left zero.
// It fails closed: a value out of range is an error, never replaced.
func (c Config) withDefaults() (Config, error) {
	if len(c.Algorithms) == 0 {
		c.Algorithms = []string{DefaultAlgorithms}
	}
	c.JWKSTimeout = cmp.Or(c.JWKSTimeout, MaxJWKSTimeout)
	errs := c.problems(EnvIssuer)
	if c.JWKSTimeout < 0 || c.JWKSTimeout > MaxJWKSTimeout {
		errs = append(errs, fmt.Errorf("JWKSTimeout: %s is outside 0s..%s", c.JWKSTimeout, MaxJWKSTimeout))
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("invalid authorizer configuration: %w", errors.Join(errs...))
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: c.JWKSTimeout, CheckRedirect: checkRedirect}
	}
	c.Logger = cmp.Or(c.Logger, slog.Default())
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, nil
}

// checkFetchURL accepts https URLs, and plain http only for hosts of a
// developer's machine (loopback, or the host as sam local's container sees
// it), so that a deployment cannot trust an issuer or keys sent in clear.
func checkFetchURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" {
		return fmt.Errorf("%q is not an absolute URL", raw)
	}
	ip := net.ParseIP(u.Hostname())
	dev := u.Hostname() == "localhost" || u.Hostname() == "host.docker.internal" || ip != nil && ip.IsLoopback()
	if u.Scheme == "https" || u.Scheme == "http" && dev {
		return nil
	}
	return fmt.Errorf("%q must use https (plain http is allowed only for localhost)", raw)
}

// checkRedirect lets the JWKS client follow a few redirects, each to a URL
// the configuration itself could name.
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

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" && !slices.Contains(out, part) {
			out = append(out, part)
		}
	}
	return out
}
