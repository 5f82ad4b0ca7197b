package webclient_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/example/petstore-oidc/webclient"
)

// failingStore is a session store whose writes fail on demand, as
// DynamoDB does when it is throttled or down.
type failingStore struct {
	webclient.SessionStore
	commit, del, take atomic.Bool
}

var errStoreDown = errors.New("store down (test)")

func (s *failingStore) CommitCtx(ctx context.Context, id string, b []byte, expiry time.Time) error {
	if s.commit.Load() && !strings.HasPrefix(id, "flow:") {
		return errStoreDown
	}
	return s.SessionStore.CommitCtx(ctx, id, b, expiry)
}

func (s *failingStore) DeleteCtx(ctx context.Context, id string) error {
	if s.del.Load() {
		return errStoreDown
	}
	return s.SessionStore.DeleteCtx(ctx, id)
}

func (s *failingStore) Take(ctx context.Context, id string) ([]byte, bool, error) {
	if s.take.Load() {
		return nil, false, errStoreDown
	}
	return s.SessionStore.Take(ctx, id)
}

func newFailingEnv(t *testing.T) (*env, *failingStore) {
	store := &failingStore{SessionStore: webclient.NewMemoryStore(12 * time.Hour)}
	e := newEnv(t, envOptions{cfg: func(c *webclient.Config) { c.Store = store }})
	return e, store
}

// A session that cannot be saved gives the session error page, and nothing
// of the handler's answer: no redirect home as if signed in, no
// "signed in" in the log.
func TestFailedSaveShowsTheErrorPage(t *testing.T) {
	e, store := newFailingEnv(t)
	callback, _ := e.startSignIn(t, "alice")
	store.commit.Store(true)
	resp, body := e.get(t, callback)
	if resp.StatusCode != http.StatusInternalServerError || resp.Header.Get("Location") != "" {
		t.Fatalf("callback with a failing store: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if !strings.Contains(body, "Session error") || strings.Contains(body, "See Other") || strings.Count(body, "</html>") != 1 {
		t.Errorf("not one clear error page:\n%s", body)
	}
	logs := e.logs.String()
	if strings.Contains(logs, `"msg":"signed in"`) {
		t.Error(`"signed in" logged though the session was not saved`)
	}
	if !strings.Contains(logs, `"level":"ERROR","msg":"session store"`) {
		t.Errorf("no ERROR log of the failed save:\n%s", logs)
	}
	if resp.Header.Get("Content-Security-Policy") == "" {
		t.Error("the error page lost its security headers")
	}

	// With the store back, the sign-in works and says so.
	store.commit.Store(false)
	e.signIn(t, "alice")
	if !strings.Contains(e.logs.String(), `"msg":"signed in"`) {
		t.Error(`no "signed in" log after a saved sign-in`)
	}
}
