package authorizer

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/example/petstore-oidc/internal/testissuer"
)

// The two benchmarks are meant to be read together, from one run (make
// bench): the authorizer's whole cost for a token against a bare RSA
// verification.

// BenchmarkRSAVerifyBaseline is one RSA-2048 PKCS#1 v1.5 SHA-256
// verification of a precomputed digest with crypto/rsa: the floor of any
// RS256 check that uses the standard library as it stands.
func BenchmarkRSAVerifyBaseline(b *testing.B) {
	key, digest, sig := benchSignature(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, digest, sig); err != nil {
			b.Fatal(err)
		}
	}
}

// benchSignature returns key-a, the SHA-256 digest of a token's signing
// input and the token's signature.
func benchSignature(b *testing.B) (*rsa.PrivateKey, []byte, []byte) {
	key := testissuer.Key(b, "key-a")
	parts := strings.Split(testissuer.Sign(b, "key-a", testissuer.New(b, "key-a").Claims(newClock().Now(), testAudience), nil), ".")
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		b.Fatal(err)
	}
	return key, digest[:], sig
}

var (
	poolOnce sync.Once
	pool     []string // distinct valid tokens of benchEnv's issuer
	poolEnv  *env
)

// benchTokens returns an authorizer with warm keys and 2,048 distinct
// tokens.
func benchTokens(b testing.TB) (*env, []string) {
	poolOnce.Do(func() {
		poolEnv = newEnv(b)
		for i := range 2048 {
			c := poolEnv.claims()
			c["jti"] = "bench-" + strconv.Itoa(i)
			pool = append(pool, testissuer.Sign(b, "key-a", c, nil))
		}
	})
	poolEnv.auth.cfg.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	return poolEnv, pool
}

func benchHandle(b *testing.B, a *Authorizer, tokens []string) {
	ctx := context.Background()
	// The events are built before the timer starts: building the
	// Authorization value is the caller's cost, not the authorizer's.
	reqs := make([]events.APIGatewayCustomAuthorizerRequest, len(tokens))
	for i, tok := range tokens {
		reqs[i] = events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", AuthorizationToken: "Bearer " + tok, MethodArn: testMethodARN}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		req := reqs[i%len(reqs)]
		i++
		if _, err := a.Handle(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthorizeFresh: each call carries another token, verified in
// full: parse, RSA, claims, policy, log line. (The authorizer keeps no
// answers, so a repeated token costs the same.)
func BenchmarkAuthorizeFresh(b *testing.B) {
	e, tokens := benchTokens(b)
	benchHandle(b, e.auth, tokens)
}
