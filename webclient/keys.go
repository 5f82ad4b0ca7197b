package webclient

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/alexedwards/scs/v2"
)

// Item keys. The store never sees a session id or a flow's state as it
// is: it keeps the SHA-256 of it, under a prefix of its own ("s#" for
// sessions, "f#" for sign-ins in progress), so that reading the table
// yields no cookie to plant and no state to answer, and neither kind of
// key can name an item of the other.
const (
	sessionKeyPrefix = "s#"
	flowKeyPrefix    = "f#"
)

// errBadSessionID refuses to write an id that scs did not make.
var errBadSessionID = errors.New("webclient: not a session id")

func hashedKey(prefix, id string) string {
	h := sha256.Sum256([]byte(id))
	return prefix + hex.EncodeToString(h[:])
}

// flowKey is the store key of the sign-in whose state is state.
func flowKey(state string) string { return hashedKey(flowKeyPrefix, state) }

// scsToken reports whether id has the shape of scs's session tokens: 32
// random bytes in unpadded base64url, 43 characters. Anything else in the
// cookie (a 3000-byte value, "flow:x") never reaches the store.
func scsToken(id string) bool {
	if len(id) != 43 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// sessionKeys is the store as scs sees it: session ids checked and
// hashed into keys.
type sessionKeys struct {
	store SessionStore
	codec scs.Codec
}

func (s sessionKeys) FindCtx(ctx context.Context, id string) ([]byte, bool, error) {
	if !scsToken(id) {
		return nil, false, nil
	}
	return s.store.FindCtx(ctx, hashedKey(sessionKeyPrefix, id))
}

func (s sessionKeys) CommitCtx(ctx context.Context, id string, b []byte, expiry time.Time) error {
	if !scsToken(id) {
		return errBadSessionID
	}
	// The session's token set version goes with the write, so that a
	// request that loaded older tokens cannot overwrite newer ones.
	var version int64
	if _, values, err := s.codec.Decode(b); err == nil {
		if d, ok := values[sessionKey].(sessionData); ok {
			version = d.Version
		}
	}
	return s.store.CommitVersionCtx(ctx, hashedKey(sessionKeyPrefix, id), b, expiry, version)
}

func (s sessionKeys) DeleteCtx(ctx context.Context, id string) error {
	if !scsToken(id) {
		return errBadSessionID
	}
	return s.store.DeleteCtx(ctx, hashedKey(sessionKeyPrefix, id))
}

// scs.CtxStore embeds scs.Store; scs calls the Ctx methods only.
func (s sessionKeys) Find(id string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), id)
}

func (s sessionKeys) Commit(id string, b []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), id, b, expiry)
}

func (s sessionKeys) Delete(id string) error { return s.DeleteCtx(context.Background(), id) }
