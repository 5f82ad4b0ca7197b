package webclient_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
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
	mu                sync.Mutex
	keys              []string // every key written
	found             []string // every key read
}

func (s *failingStore) written() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.keys...)
}

var errStoreDown = errors.New("store down (test)")

func (s *failingStore) CommitCtx(ctx context.Context, id string, b []byte, expiry time.Time) error {
	s.mu.Lock()
	s.keys = append(s.keys, id)
	s.mu.Unlock()
	if s.commit.Load() && !strings.HasPrefix(id, "f#") {
		return errStoreDown
	}
	return s.SessionStore.CommitCtx(ctx, id, b, expiry)
}

func (s *failingStore) CommitVersionCtx(ctx context.Context, id string, b []byte, expiry time.Time, version int64) error {
	s.mu.Lock()
	s.keys = append(s.keys, id)
	s.mu.Unlock()
	if s.commit.Load() {
		return errStoreDown
	}
	return s.SessionStore.CommitVersionCtx(ctx, id, b, expiry, version)
}

func (s *failingStore) FindCtx(ctx context.Context, id string) ([]byte, bool, error) {
	s.mu.Lock()
	s.found = append(s.found, id)
	s.mu.Unlock()
	return s.SessionStore.FindCtx(ctx, id)
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

// Sign-out fails closed: if the session cannot be ended, the page says so,
// the browser is not sent to the provider's sign-out, and the session is
// still there (honestly reported as signed in).
func TestSignOutFailsClosed(t *testing.T) {
	e, store := newFailingEnv(t)
	e.signIn(t, "alice")
	csrf := e.csrf(t)
	store.del.Store(true)
	resp, body := e.post(t, "/logout", map[string][]string{"csrf": {csrf}})
	if resp.StatusCode != http.StatusInternalServerError || resp.Header.Get("Location") != "" ||
		!strings.Contains(body, "you are still signed in here") {
		t.Fatalf("sign-out with a failing store: %d %q\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if !strings.Contains(e.logs.String(), `"level":"ERROR","msg":"sign-out failed"`) {
		t.Errorf("no ERROR log:\n%s", e.logs.String())
	}
	if resp, _ := e.get(t, "/profile"); resp.StatusCode != http.StatusOK {
		t.Errorf("/profile after the failed sign-out: %d, want 200 (still signed in)", resp.StatusCode)
	}
	store.del.Store(false)
	resp, _ = e.post(t, "/logout", map[string][]string{"csrf": {csrf}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out with the store back: %d", resp.StatusCode)
	}
	if resp, _ := e.get(t, "/profile"); resp.StatusCode == http.StatusOK {
		t.Error("still signed in after the sign-out")
	}
}

// A store error while the callback takes its sign-in state is a server
// error, logged, not "no sign-in in progress".
func TestCallbackTakeErrorIsAServerError(t *testing.T) {
	e, store := newFailingEnv(t)
	callback, _ := e.startSignIn(t, "alice")
	store.take.Store(true)
	resp, body := e.get(t, callback)
	if resp.StatusCode != http.StatusInternalServerError || strings.Contains(body, "No sign-in with this state") {
		t.Fatalf("callback with a failing Take: %d\n%s", resp.StatusCode, body)
	}
	if !strings.Contains(e.logs.String(), `"level":"ERROR","msg":"sign-in state not taken"`) {
		t.Errorf("no ERROR log:\n%s", e.logs.String())
	}
}

// The store's keys are hashes: a reader of the table finds no cookie value
// to plant and no state to answer with.
func TestStoreKeysAreHashes(t *testing.T) {
	e, store := newFailingEnv(t)
	callback, _ := e.startSignIn(t, "alice")
	state := mustQuery(t, callback, "state")
	e.get(t, callback)
	cookie := e.sessionCookie()
	if cookie == nil {
		t.Fatal("not signed in")
	}
	keys := store.written()
	var sessions, flows int
	for _, k := range keys {
		if strings.Contains(k, cookie.Value) || strings.Contains(k, state) {
			t.Errorf("key %q holds the cookie or the state", k)
		}
		switch {
		case strings.HasPrefix(k, "s#") && len(k) == 2+64:
			sessions++
		case strings.HasPrefix(k, "f#") && len(k) == 2+64:
			flows++
		default:
			t.Errorf("key %q is not a prefixed SHA-256", k)
		}
	}
	if sessions == 0 || flows == 0 {
		t.Errorf("sessions %d, flows %d written: %q", sessions, flows, keys)
	}
}

// A session cookie that scs did not make never reaches the store: no
// error page, no ERROR log, just not signed in.
func TestMisshapenSessionCookie(t *testing.T) {
	e, store := newFailingEnv(t)
	u, _ := url.Parse(e.webURL)
	for _, v := range []string{strings.Repeat("A", 3000), "flow:x", strings.Repeat("A", 42) + "="} {
		e.jar.SetCookies(u, []*http.Cookie{{Name: "petstore_session", Value: v}})
		resp, _ := e.get(t, "/")
		if resp.StatusCode != http.StatusOK {
			t.Errorf("cookie %.20q: %d", v, resp.StatusCode)
		}
	}
	if strings.Contains(e.logs.String(), `"level":"ERROR"`) {
		t.Errorf("an ERROR was logged:\n%s", e.logs.String())
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	if len(store.found) != 0 {
		t.Errorf("misshapen cookies reached the store: %.40q", store.found)
	}
}

func mustQuery(t *testing.T, raw, name string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil || u.Query().Get(name) == "" {
		t.Fatalf("no %s in %q", name, raw)
	}
	return u.Query().Get(name)
}

// The static files and /healthz are served without touching the session
// store, even with a session cookie.
func TestStaticAndHealthzSkipTheSessionStore(t *testing.T) {
	e, store := newFailingEnv(t)
	e.signIn(t, "alice")
	store.mu.Lock()
	store.found, store.keys = nil, nil
	store.mu.Unlock()
	for _, path := range []string{"/static/app.js", "/healthz"} {
		if resp, _ := e.get(t, path); resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s: %d, CSP %q", path, resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
		}
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	if len(store.found)+len(store.keys) != 0 {
		t.Errorf("the store was read %d and written %d times", len(store.found), len(store.keys))
	}
}
