package authorizer

import (
	"hash/maphash"
	"time"

	"github.com/aws/aws-lambda-go/events"

	lru "github.com/hashicorp/golang-lru/v2"
)

// tokenCache remembers verified tokens in a warm function so that a repeated
// token costs a hash and a map lookup instead of an RSA verification. It is
// bounded (least recently used entries go first), keyed by a hash of the
// token, and an entry is never used at or after the token's exp.
//
// The key is a seeded 64-bit maphash, cheap on long tokens; as such a hash
// can collide, each entry keeps its token and a hit must match it exactly.
type tokenCache struct {
	entries *lru.Cache[uint64, cachedToken]
	seed    maphash.Seed
	now     func() time.Time
}

type cachedToken struct {
	token       string
	fingerprint string
	id          Identity
	// The last answer given for this token, and the stage it covers: a
	// client calling route after route of one stage gets it back as is.
	stageARN string
	answer   events.APIGatewayCustomAuthorizerResponse
}

// newTokenCache returns nil (no caching) for size 0.
func newTokenCache(size int, now func() time.Time) *tokenCache {
	if size <= 0 {
		return nil
	}
	entries, err := lru.New[uint64, cachedToken](size)
	if err != nil {
		return nil // only for size <= 0, excluded above
	}
	return &tokenCache{entries: entries, seed: maphash.MakeSeed(), now: now}
}

// get returns the identity and log fingerprint of a token verified before.
func (c *tokenCache) get(token string) (cachedToken, bool) {
	if c == nil {
		return cachedToken{}, false
	}
	key := maphash.String(c.seed, token)
	e, ok := c.entries.Get(key)
	if !ok || e.token != token {
		return cachedToken{}, false
	}
	if !c.now().Before(e.id.ExpiresAt) {
		c.entries.Remove(key)
		return cachedToken{}, false
	}
	return e, true
}

func (c *tokenCache) add(e cachedToken) {
	if c == nil || !c.now().Before(e.id.ExpiresAt) {
		return // accepted within the clock skew only: verify it again next time
	}
	c.entries.Add(maphash.String(c.seed, e.token), e)
}
