package authorizer

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/MicahParks/jwkset"
	"golang.org/x/time/rate"
)

const (
	maxDocumentBytes = 1 << 20 // a discovery document or JWKS
	minRSABits       = 2048    // NIST SP 800-131A; crypto/rsa alone accepts 1024 bits
)

// keySet holds the issuer's verification keys across warm invocations.
// jwkset parses and checks the JWKs; the fetching is ours, as jwkset's
// client queues requests behind its rate limiter and cannot discover the
// JWKS URI. An unknown kid causes at most one fetch per keyRefreshInterval
// (one per second while no keys are held) and never waits for one; a
// failed fetch keeps the keys already held.
type keySet struct {
	cfg     Config
	client  *http.Client  // maxJWKSTimeout; at most 3 redirects, each to a URL the configuration could name
	jwksURI string        // configured, or found by discovery; guarded by mu
	refetch *rate.Limiter // while keys are held: fetches for unknown kids and stale keys
	retry   *rate.Limiter // while none are (a failed cold start): fetches, one a second
	mu      sync.Mutex    // one fetch at a time
	current atomic.Pointer[keySnapshot]
}

type keySnapshot struct {
	byKID     map[string]verificationKey
	fetchedAt time.Time
}

type verificationKey struct {
	kid, alg string
	key      *rsa.PublicKey
}

func newKeySet(cfg Config) *keySet {
	redirect := func(req *http.Request, via []*http.Request) error {
		if len(via) >= 3 {
			return errors.New("too many redirects")
		}
		return checkFetchURL(req.URL.String())
	}
	ks := &keySet{
		cfg:     cfg,
		client:  &http.Client{Timeout: maxJWKSTimeout, CheckRedirect: redirect},
		jwksURI: cfg.JWKSURI,
		refetch: rate.NewLimiter(rate.Every(keyRefreshInterval), 1),
		retry:   rate.NewLimiter(rate.Every(noKeysRetryInterval), 1),
	}
	ks.current.Store(&keySnapshot{})
	return ks
}

// coldStart is New's fetch. A failure is logged: the authorizer fetches
// again on demand, noKeysRetryInterval later (this fetch spends the
// limiters' allowance, so requests right after it do not wait on the IdP).
func (ks *keySet) coldStart(ctx context.Context) {
	ks.refetch.AllowN(ks.cfg.Now(), 1)
	ks.retry.AllowN(ks.cfg.Now(), 1)
	start := time.Now()
	if err := ks.refresh(ctx); err != nil {
		ks.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "JWKS not loaded at cold start; will retry on demand",
			slog.String("reason", errJWKSUnavailable.code), slog.String("detail", oneLine(err)),
			slog.Int64("duration_us", time.Since(start).Microseconds()))
	}
}

// key returns the verification key for a token header's kid, fetching the
// JWKS again when the kid is unknown or the keys are older than keyMaxAge,
// as often as the limiters allow. When stale keys cannot be refreshed they
// stay in use (the IdP is down, not the keys wrong), and a warning says so
// each time a fetch fails.
func (ks *keySet) key(ctx context.Context, kid string) (verificationKey, error) {
	if kid == "" { // trying every key would let any one of them sign
		return verificationKey{}, errMissingKID
	}
	snap := ks.current.Load()
	k, found := snap.byKID[kid]
	stale := len(snap.byKID) > 0 && ks.cfg.Now().Sub(snap.fetchedAt) > keyMaxAge
	limiter := ks.refetch
	if len(snap.byKID) == 0 {
		limiter = ks.retry
	}
	if (!found || stale) && limiter.AllowN(ks.cfg.Now(), 1) {
		ferr := ks.refresh(ctx)
		if ferr != nil && !found {
			return verificationKey{}, fmt.Errorf("%w: %w", errJWKSUnavailable, ferr)
		}
		if ferr != nil {
			ks.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "JWKS refresh failed; still using the keys fetched at fetched_at",
				slog.String("reason", errJWKSUnavailable.code), slog.String("detail", oneLine(ferr)),
				slog.Time("fetched_at", snap.fetchedAt))
		}
		snap = ks.current.Load()
		k, found = snap.byKID[kid]
	}
	switch {
	case !found && len(snap.byKID) == 0:
		return k, fmt.Errorf("%w: no keys held, next fetch within %s", errJWKSUnavailable, noKeysRetryInterval)
	case !found:
		return k, fmt.Errorf("%w: %.64q", errUnknownKID, kid)
	case k.alg != "" && k.alg != signingAlg: // e.g. an RSA key published for PS256 only
		return k, fmt.Errorf("%w: key %q is for %.16q, not %s", errAlgorithm, k.kid, k.alg, signingAlg)
	}
	return k, nil
}

// refresh fetches the JWKS (discovering its URI first if need be) and
// replaces the keys. On failure the keys held so far stay in use.
func (ks *keySet) refresh(ctx context.Context) (err error) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, maxJWKSTimeout)
	defer cancel()
	if ks.jwksURI == "" {
		if ks.jwksURI, err = ks.discover(ctx); err != nil {
			return err
		}
	}
	var set jwkset.JWKSMarshal
	if err := ks.getJSON(ctx, ks.jwksURI, &set); err != nil {
		return fmt.Errorf("fetch JWKS: %w", err)
	}
	snap := &keySnapshot{byKID: map[string]verificationKey{}, fetchedAt: ks.cfg.Now()}
	for _, m := range set.Keys {
		k, ok := usableKey(m)
		if _, dup := snap.byKID[k.kid]; ok && !dup { // a kid twice: the first usable key with it wins
			snap.byKID[k.kid] = k
		}
	}
	if len(snap.byKID) == 0 {
		return errors.New("fetch JWKS: no usable signing keys in the set")
	}
	ks.current.Store(snap)
	return nil
}

// usableKey keeps RSA signature keys of at least minRSABits with a kid
// (tokens must name their key): no symmetric keys (they would be secrets
// published in a JWKS), no encryption keys (use or key_ops say so), no EC
// or OKP keys (they cannot verify RS256).
func usableKey(m jwkset.JWKMarshal) (verificationKey, bool) {
	notForSigning := m.USE != "" && m.USE != jwkset.UseSig ||
		len(m.KEYOPS) > 0 && !slices.Contains(m.KEYOPS, jwkset.KeyOpsVerify)
	if m.KID == "" || notForSigning {
		return verificationKey{}, false
	}
	jwk, err := jwkset.NewJWKFromMarshal(m, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
	if err != nil {
		return verificationKey{}, false
	}
	pub, ok := jwk.Key().(*rsa.PublicKey)
	return verificationKey{kid: m.KID, alg: m.ALG.String(), key: pub}, ok && pub.N.BitLen() >= minRSABits
}

// discover reads the JWKS URI from the issuer's OpenID configuration. The
// document must name the configured issuer exactly (OpenID Connect
// Discovery 1.0, section 4.3).
func (ks *keySet) discover(ctx context.Context) (string, error) {
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	u := strings.TrimSuffix(ks.cfg.Issuer, "/") + "/.well-known/openid-configuration"
	if err := ks.getJSON(ctx, u, &doc); err != nil {
		return "", fmt.Errorf("discovery: %w", err)
	}
	if doc.Issuer != ks.cfg.Issuer {
		return "", fmt.Errorf("discovery: document names issuer %q, configured %q", doc.Issuer, ks.cfg.Issuer)
	}
	if err := checkFetchURL(doc.JWKSURI); err != nil {
		return "", fmt.Errorf("discovery: jwks_uri: %w", err)
	}
	return doc.JWKSURI, nil
}

// getJSON reads one JSON document of at most maxDocumentBytes: a 200
// answer whose body is one valid JSON value and nothing after it.
func (ks *keySet) getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := ks.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentBytes+1))
	switch {
	case resp.StatusCode != http.StatusOK:
		err = fmt.Errorf("status %d", resp.StatusCode)
	case err == nil && len(body) > maxDocumentBytes:
		err = fmt.Errorf("over %d bytes", maxDocumentBytes)
	case err == nil:
		err = json.Unmarshal(body, v)
	}
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	return nil
}
