package authorizer

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
)

// Defaults and limits of the configuration.
const (
	// DefaultRouteScopes protects the PetStore: reads need pets:read, writes
	// pets:write, and GET /me only needs a valid token.
	DefaultRouteScopes = "GET /pets=pets:read,GET /pets/*=pets:read,POST /pets=pets:write,GET /me="
	// signingAlg is the one JWS algorithm accepted: every IdP the docs cover
	// signs access tokens with it, and one algorithm is the tightest pin.
	signingAlg     = "RS256"
	clockSkew      = 30 * time.Second // leeway for exp, nbf and iat
	maxTokenBytes  = 16 << 10         // the Authorization value, checked before any parsing
	maxJWKSTimeout = 3 * time.Second  // each JWKS or discovery request: a hanging IdP must not hang us
	// keyRefreshInterval is how often an unknown kid may trigger a JWKS
	// fetch: a rotated key is picked up within it, while a flood of random
	// kids costs the IdP at most one request per interval.
	keyRefreshInterval = 10 * time.Second
	// noKeysRetryInterval replaces it while no keys are held (a failed cold
	// start): every token is refused then, so the IdP is asked sooner.
	noKeysRetryInterval = time.Second
	keyMaxAge           = time.Hour // then keys are fetched again, so that a key the IdP removed stops working
)

// The environment variables the authorizer reads. template.yaml sets them.
const (
	EnvIssuer      = "ISSUER"
	EnvTokenIssuer = "TOKEN_ISSUER" // alias of ISSUER, as in the original tutorials
	EnvAudience    = "AUDIENCE"
	EnvJWKSURI     = "JWKS_URI"
	EnvRouteScopes = "ROUTE_SCOPES"
)

// Config is the configuration of an Authorizer. New checks it, whether it
// comes from ConfigFromEnv or is built in code.
type Config struct {
	Issuer    string      // compared exactly with iss (mind Auth0's trailing slash); https
	Audiences []string    // aud must hold one, or a Cognito access token's client_id be one
	JWKSURI   string      // empty: found by OpenID discovery from Issuer
	Rules     []RouteRule // the scopes each route needs

	// Not read from the environment:
	Logger *slog.Logger     // one JSON line per decision (default slog.Default())
	Now    func() time.Time // the clock (default time.Now); tests move it
}

// ConfigFromEnv reads and checks the configuration from the environment,
// given as a lookup function such as os.Getenv. The error names each
// variable at fault.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	issuerVar, issuer := EnvIssuer, strings.TrimSpace(getenv(EnvIssuer))
	alias := strings.TrimSpace(getenv(EnvTokenIssuer))
	if issuer == "" && alias != "" {
		issuerVar, issuer = EnvTokenIssuer, alias
	} else if alias != "" && alias != issuer {
		return Config{}, fmt.Errorf("invalid authorizer configuration: %s and %s are both set and differ: set only one",
			EnvIssuer, EnvTokenIssuer)
	}
	cfg := Config{
		Issuer:    issuer,
		Audiences: splitList(getenv(EnvAudience)),
		JWKSURI:   strings.TrimSpace(getenv(EnvJWKSURI)),
	}
	var errs []error
	rules, rulesErr := ParseRouteRules(cmp.Or(strings.TrimSpace(getenv(EnvRouteScopes)), DefaultRouteScopes))
	if rulesErr != nil {
		errs = append(errs, fmt.Errorf("%s: %w", EnvRouteScopes, rulesErr))
	}
	cfg.Rules = rules
	// ALGORITHMS and CLOCK_SKEW were settings once and are fixed now: a
	// deployment that still asks for another value must not start as if it
	// applied (CLOCK_SKEW=0 would quietly become 30 s).
	const retired = "%s=%.32q is no longer a setting: tokens are RS256 only, with 30 s of leeway"
	if v := strings.TrimSpace(getenv("ALGORITHMS")); v != "" && v != signingAlg {
		errs = append(errs, fmt.Errorf(retired, "ALGORITHMS", v))
	}
	if v := strings.TrimSpace(getenv("CLOCK_SKEW")); v != "" && v != "30" && v != "30s" {
		errs = append(errs, fmt.Errorf(retired, "CLOCK_SKEW", v))
	}
	// Every other variable is checked too, whatever failed above, so that
	// one run names each variable at fault.
	errs = append(errs, cfg.problems(issuerVar)...)
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
	if c.JWKSURI != "" {
		if err := checkFetchURL(c.JWKSURI); err != nil {
			add("%s: %w", EnvJWKSURI, err)
		}
	}
	for _, r := range c.Rules { // parsed back, a valid rule gives itself again
		if parsed, err := ParseRouteRules(r.String()); err != nil || len(parsed) != 1 || parsed[0].String() != r.String() {
			add("%s: %q is not a valid rule", EnvRouteScopes, r.String())
		}
	}
	return errs
}

// withDefaults checks c and fills in the defaults of the fields left zero.
// It fails closed: a value out of range is an error, never replaced.
func (c Config) withDefaults() (Config, error) {
	errs := c.problems(EnvIssuer)
	if len(c.Rules) == 0 { // ConfigFromEnv has a parse error to say instead
		errs = append(errs, fmt.Errorf("%s: at least one rule is needed", EnvRouteScopes))
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("invalid authorizer configuration: %w", errors.Join(errs...))
	}
	c.Logger = cmp.Or(c.Logger, slog.Default())
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, nil
}

// checkFetchURL accepts https URLs, and plain http only for hosts of a
// developer's machine, so that a deployment cannot trust an issuer or keys
// sent in clear: loopback, and host.docker.internal (the host as the
// container sees it) only under sam local, which sets AWS_SAM_LOCAL=true;
// in a VPC, a private DNS zone could give that name any address.
func checkFetchURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" {
		return fmt.Errorf("%q is not an absolute URL", raw)
	}
	host := u.Hostname()
	ip := net.ParseIP(host)
	dev := host == "localhost" || ip != nil && ip.IsLoopback() ||
		host == "host.docker.internal" && os.Getenv("AWS_SAM_LOCAL") == "true"
	if u.Scheme == "https" || u.Scheme == "http" && dev {
		return nil
	}
	return fmt.Errorf("%q must use https (plain http is allowed only for localhost, and for host.docker.internal under sam local)", raw)
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
