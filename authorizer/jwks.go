package authorizer

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
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
// jwkset parses and checks the JWKs; the fetching is ours, as keyfunc/v3
// tries every key for a token without kid, and jwkset's client queues
// requests behind its rate limiter and cannot discover the JWKS URI. Here
// an unknown kid causes at most one fetch per KeyRefreshInterval and never
// waits for one; a failed fetch keeps the keys already held.
type keySet struct {
	cfg     Config
	jwksURI string        // configured, or found by discovery; guarded by mu
	refetch *rate.Limiter // fetches for unknown kids and stale keys
	mu      sync.Mutex    // one fetch at a time
	current atomic.Pointer[keySnapshot]
}

type keySnapshot struct {
	byKID     map[string]verificationKey
	all       []verificationKey
	fetchedAt time.Time
}

type verificationKey struct {
	kid, alg string
	key      crypto.PublicKey
}

func newKeySet(cfg Config) *keySet {
	ks := &keySet{cfg: cfg, jwksURI: cfg.JWKSURI, refetch: rate.NewLimiter(rate.Every(KeyRefreshInterval), 1)}
	ks.current.Store(&keySnapshot{})
	return ks
}

// coldStart is New's fetch. A failure is logged: the authorizer fetches
// again on demand, KeyRefreshInterval later (this fetch spends the
// limiter's allowance, so requests right after it do not wait on the IdP).
func (ks *keySet) coldStart(ctx context.Context, log *slog.Logger) {
	ks.refetch.AllowN(ks.cfg.Now(), 1)
	start := time.Now()
	if err := ks.refresh(ctx); err != nil {
		log.LogAttrs(ctx, slog.LevelWarn, "JWKS not loaded at cold start; will retry on demand",
			slog.String("reason", errJWKSUnavailable.code), slog.String("detail", oneLine(err)),
			slog.Int64("duration_us", time.Since(start).Microseconds()))
	}
}

// key returns the verification key for a token header's kid and alg,
// fetching the JWKS again when the kid is unknown or the keys are older
// than KeyMaxAge, as often as the limiter allows.
func (ks *keySet) key(ctx context.Context, kid, alg string) (verificationKey, error) {
	snap := ks.current.Load()
	k, err := snap.find(kid)
	stale := len(snap.all) > 0 && ks.cfg.Now().Sub(snap.fetchedAt) > KeyMaxAge
	if (err != nil || stale) && ks.refetch.AllowN(ks.cfg.Now(), 1) {
		if ferr := ks.refresh(ctx); ferr != nil && err != nil {
			return verificationKey{}, fmt.Errorf("%w: %w", errJWKSUnavailable, ferr)
		}
		snap = ks.current.Load()
		k, err = snap.find(kid)
	}
	if err != nil && len(snap.all) == 0 {
		return verificationKey{}, fmt.Errorf("%w: no keys held, next fetch within %s", errJWKSUnavailable, KeyRefreshInterval)
	}
	if err != nil {
		return verificationKey{}, err
	}
	return k, k.check(alg)
}

// find looks a kid up. A token without kid is accepted only when the set
// holds a single key: trying every key would let any one of them sign.
func (snap *keySnapshot) find(kid string) (verificationKey, error) {
	if k, ok := snap.byKID[kid]; ok && kid != "" {
		return k, nil
	}
	switch {
	case kid != "":
		return verificationKey{}, fmt.Errorf("%w: %.64q", errUnknownKID, kid)
	case len(snap.all) == 1:
		return snap.all[0], nil
	}
	return verificationKey{}, errMissingKID
}

// check refuses a key whose type cannot produce the token's alg, or whose
// JWK names another alg.
func (k verificationKey) check(alg string) error {
	fits := false
	switch pub := k.key.(type) {
	case *rsa.PublicKey:
		fits = strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")
	case *ecdsa.PublicKey:
		fits = alg == map[elliptic.Curve]string{elliptic.P256(): "ES256", elliptic.P384(): "ES384", elliptic.P521(): "ES512"}[pub.Curve]
	case ed25519.PublicKey:
		fits = alg == "EdDSA"
	}
	if !fits || k.alg != "" && k.alg != alg {
		return fmt.Errorf("%w: key %q (JWK alg %q) cannot verify %s", errAlgorithm, k.kid, k.alg, alg)
	}
	return nil
}

// refresh fetches the JWKS (discovering its URI first if need be) and
// replaces the keys. On failure the keys held so far stay in use.
func (ks *keySet) refresh(ctx context.Context) (err error) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, ks.cfg.JWKSTimeout)
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
		if _, dup := snap.byKID[k.kid]; !ok || dup {
			continue // a kid twice is ambiguous: the first usable key with it wins
		}
		if k.kid != "" {
			snap.byKID[k.kid] = k
		}
		snap.all = append(snap.all, k)
	}
	if len(snap.all) == 0 {
		return errors.New("fetch JWKS: no usable signing keys in the set")
	}
	ks.current.Store(snap)
	return nil
}

// usableKey keeps public signature keys only: no symmetric keys (they would
// be secrets published in a JWKS), no encryption keys (use or key_ops say
// so), no RSA key under minRSABits.
func usableKey(m jwkset.JWKMarshal) (verificationKey, bool) {
	if m.USE != "" && m.USE != jwkset.UseSig || len(m.KEYOPS) > 0 && !slices.Contains(m.KEYOPS, jwkset.KeyOpsVerify) {
		return verificationKey{}, false
	}
	jwk, err := jwkset.NewJWKFromMarshal(m, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
	if err != nil {
		return verificationKey{}, false
	}
	k := verificationKey{kid: m.KID, alg: m.ALG.String(), key: jwk.Key()}
	switch pub := k.key.(type) {
	case *rsa.PublicKey:
		return k, pub.N.BitLen() >= minRSABits
	case *ecdsa.PublicKey, ed25519.PublicKey:
		return k, true
	}
	return verificationKey{}, false
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
	resp, err := ks.cfg.HTTPClient.Do(req)
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
