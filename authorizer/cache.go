package authorizer

import (
	"time"

	"github.com/aws/aws-lambda-go/events"

	lru "github.com/hashicorp/golang-lru/v2"
)

// tokenCache remembers verified tokens in a warm function so that a repeated
// token costs a hash and a map lookup instead of an RSA verification. It is
// bounded (least recently used entries go first), keyed by the token's
// SHA-256, and an entry is never used at or after the token's exp.
//
// It holds digests, never tokens: a memory dump of a warm function gives no
// bearer token away, and the entries stay small (which keeps the garbage
// collector's work down).
type tokenCache struct {
	entries *lru.Cache[tokenDigest, cachedToken]
	now     func() time.Time
}

type cachedToken struct {
	id Identity
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
	entries, err := lru.New[tokenDigest, cachedToken](size)
	if err != nil {
		return nil // only for size <= 0, excluded above
	}
	return &tokenCache{entries: entries, now: now}
}

// get returns what was kept of a token verified before.
func (c *tokenCache) get(key tokenDigest) (cachedToken, bool) {
	if c == nil {
		return cachedToken{}, false
	}
	e, ok := c.entries.Get(key)
	if !ok {
		return cachedToken{}, false
	}
	if !c.now().Before(e.id.ExpiresAt) {
		c.entries.Remove(key)
		return cachedToken{}, false
	}
	return e, true
}

func (c *tokenCache) add(key tokenDigest, e cachedToken) {
	if c == nil || !c.now().Before(e.id.ExpiresAt) {
		return // accepted within the clock skew only: verify it again next time
	}
	c.entries.Add(key, e)
}
