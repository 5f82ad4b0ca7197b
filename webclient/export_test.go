package webclient

import "time"

// SetClock moves the clock the app compares token expiry with, so a test
// can make an access token expire without waiting.
func SetClock(a *App, now func() time.Time) { a.now = now }

// SessionStoreKey is the store key of the session with this id.
func SessionStoreKey(id string) string { return hashedKey(sessionKeyPrefix, id) }
