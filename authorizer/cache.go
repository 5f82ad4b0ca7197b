package authorizer

import (
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// tokenCache remembers verified tokens in a warm function so that a repeated
// token costs a hash and a map lookup instead of an RSA verification. It is
// bounded (least recently used entries go first), keyed by the token's
// SHA-256, and an entry is never used at or after the token's exp.
type tokenCache struct {
	entries *lru.Cache[tokenHash, Identity]
	now     func() time.Time
}

// newTokenCache returns nil (no caching) for size 0.
func newTokenCache(size int, now func() time.Time) *tokenCache {
	if size <= 0 {
		return nil
	}
	entries, err := lru.New[tokenHash, Identity](size)
	if err != nil {
		return nil // only for size <= 0, excluded above
	}
	return &tokenCache{entries: entries, now: now}
}

func (c *tokenCache) get(h tokenHash) (Identity, bool) {
	if c == nil {
		return Identity{}, false
	}
	id, ok := c.entries.Get(h)
	if !ok {
		return Identity{}, false
	}
	if !c.now().Before(id.ExpiresAt) {
		c.entries.Remove(h)
		return Identity{}, false
	}
	return id, true
}

func (c *tokenCache) add(h tokenHash, id Identity) {
	if c == nil || !c.now().Before(id.ExpiresAt) {
		return // accepted within the clock skew only: verify it again next time
	}
	c.entries.Add(h, id)
}
