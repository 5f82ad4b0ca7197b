package webclient

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"
)

// SessionStore keeps the server side of sessions and of sign-ins in
// progress. It is scs's store interface with two guarantees more, which
// both implementations (MemoryStore, DynamoSessionStore) give and one
// contract test checks:
//
//   - Delete leaves a tombstone: once deleted, an id can never be written
//     again. Commit of a deleted id fails with ErrSessionEnded, so a
//     request that loaded the session before the sign-out cannot save it
//     back afterwards, whatever order requests finish in.
//   - Take reads and deletes in one step: of two callers, one gets the data.
type SessionStore interface {
	scs.CtxStore
	// Take returns the live data of id and deletes it (leaving a
	// tombstone), atomically; found is false if another caller took it
	// first, or it was never there, or it has expired.
	Take(ctx context.Context, id string) (b []byte, found bool, err error)
	// CommitVersionCtx is CommitCtx for a session whose token set is at
	// version: it fails with ErrStaleSession, writing nothing, if the
	// stored item has a higher version. A request that loaded the session
	// before another one refreshed its tokens cannot put the spent
	// refresh token back.
	CommitVersionCtx(ctx context.Context, id string, b []byte, expiry time.Time, version int64) error
}

// ErrStaleSession is what CommitVersionCtx returns when another request
// saved newer tokens in the session while this one ran.
var ErrStaleSession = errors.New("the session was not saved: another request saved newer tokens while this one ran")

// ErrSessionEnded is what Commit returns for an id that was deleted: the
// user signed out (or the sign-in step was used) while this request ran.
var ErrSessionEnded = errors.New("the session has ended: it was signed out while this request ran")

// tombstoneLifetime bounds how long a deleted id stays refused. A request
// that could write it back loaded it before the Delete, and no request
// lives longer than a session may (Config.SessionLifetime), so a
// tombstone kept that long outlives every such request.
func tombstoneUntil(now time.Time, lifetime time.Duration) time.Time {
	return now.Add(lifetime)
}

// MemoryStore is a SessionStore in process memory, for one instance: the
// web client run alone on a laptop, and the tests. Expired entries are
// swept at most once a minute, during a Commit.
type MemoryStore struct {
	lifetime time.Duration
	mu       sync.Mutex
	items    map[string]memoryItem
	swept    time.Time
}

type memoryItem struct {
	data    []byte
	expires time.Time
	ended   bool
	version int64
}

// NewMemoryStore returns an empty store whose tombstones last sessionLifetime
// (default DefaultSessionLifetime).
func NewMemoryStore(sessionLifetime time.Duration) *MemoryStore {
	if sessionLifetime <= 0 {
		sessionLifetime = DefaultSessionLifetime
	}
	return &MemoryStore{lifetime: sessionLifetime, items: map[string]memoryItem{}}
}

// FindCtx implements scs.CtxStore.
func (m *MemoryStore) FindCtx(_ context.Context, id string) ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	it, ok := m.items[id]
	if !ok || it.ended || !time.Now().Before(it.expires) {
		return nil, false, nil
	}
	return it.data, true, nil
}

// CommitCtx implements scs.CtxStore; it fails with ErrSessionEnded on a
// deleted id.
func (m *MemoryStore) CommitCtx(_ context.Context, id string, b []byte, expiry time.Time) error {
	return m.commit(id, b, expiry, -1)
}

// commit writes id; a version of -1 writes without a version check.
func (m *MemoryStore) commit(id string, b []byte, expiry time.Time, version int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	if now.Sub(m.swept) > time.Minute {
		for k, it := range m.items {
			if !now.Before(it.expires) {
				delete(m.items, k)
			}
		}
		m.swept = now
	}
	it, ok := m.items[id]
	if ok && it.ended {
		return ErrSessionEnded
	}
	if ok && version >= 0 && it.version > version {
		return ErrStaleSession
	}
	m.items[id] = memoryItem{data: b, expires: expiry, version: max(version, 0)}
	return nil
}

// CommitVersionCtx implements SessionStore.
func (m *MemoryStore) CommitVersionCtx(_ context.Context, id string, b []byte, expiry time.Time, version int64) error {
	return m.commit(id, b, expiry, version)
}

// DeleteCtx implements scs.CtxStore: it leaves a tombstone.
func (m *MemoryStore) DeleteCtx(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.items[id] = memoryItem{ended: true, expires: tombstoneUntil(time.Now(), m.lifetime)}
	return nil
}

// Take implements SessionStore.
func (m *MemoryStore) Take(_ context.Context, id string) ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	it, ok := m.items[id]
	m.items[id] = memoryItem{ended: true, expires: tombstoneUntil(time.Now(), m.lifetime)}
	if !ok || it.ended || !time.Now().Before(it.expires) {
		return nil, false, nil
	}
	return it.data, true, nil
}

// Find implements scs.Store.
func (m *MemoryStore) Find(id string) ([]byte, bool, error) {
	return m.FindCtx(context.Background(), id)
}

// Commit implements scs.Store.
func (m *MemoryStore) Commit(id string, b []byte, expiry time.Time) error {
	return m.CommitCtx(context.Background(), id, b, expiry)
}

// Delete implements scs.Store.
func (m *MemoryStore) Delete(id string) error { return m.DeleteCtx(context.Background(), id) }
