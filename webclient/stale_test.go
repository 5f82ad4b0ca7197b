package webclient_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/example/petstore-oidc/webclient"
)

// A request that loaded the session before another one refreshed its
// tokens must not save the spent refresh token back. Here request X holds
// a console call open while request Y refreshes (the development IdP
// rotates refresh tokens and refuses a spent one); then a second instance
// on the same store, which remembers no redemption, refreshes again. With
// X's stale save in the store it would redeem the spent token and end the
// session.
func TestStaleSaveDoesNotPutBackASpentRefreshToken(t *testing.T) {
	const ttl = 2 * time.Minute
	store := webclient.NewMemoryStore(12 * time.Hour)
	var cfg webclient.Config
	e := newEnv(t, envOptions{accessTokenTTL: ttl, cfg: func(c *webclient.Config) {
		c.Store = store
		cfg = *c
	}})
	e.signIn(t, "alice")
	csrf := e.csrf(t)

	entered, release := holdNext(t, &e.holdAPI)
	xDone := make(chan int)
	go func() { xDone <- e.consoleList(context.Background(), e.browser, csrf) }()
	<-entered

	// Y, within the margin: one refresh, saved with newer tokens.
	inMargin := func() time.Time { return time.Now().Add(ttl - 20*time.Second) }
	webclient.SetClock(e.app, inMargin)
	calls := e.tokenCalls.Load()
	if s := e.consoleList(context.Background(), e.browser, csrf); s != http.StatusOK {
		t.Fatalf("Y: %d", s)
	}
	if e.tokenCalls.Load()-calls != 1 {
		t.Fatalf("Y made %d refresh grants, want 1", e.tokenCalls.Load()-calls)
	}
	webclient.SetClock(e.app, time.Now)
	release()
	if s := <-xDone; s != http.StatusOK {
		t.Fatalf("X: %d", s)
	}
	if !strings.Contains(e.logs.String(), "newer tokens saved by another request") {
		t.Errorf("X's stale save was not refused:\n%s", e.logs.String())
	}

	// A second instance, later, within the margin of Y's tokens.
	app2, err := webclient.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	webclient.SetClock(app2, func() time.Time { return time.Now().Add(ttl - 10*time.Second) })
	srv2 := httptest.NewServer(app2)
	defer srv2.Close()
	req, _ := http.NewRequest(http.MethodPost, srv2.URL+"/console",
		strings.NewReader("action=list&csrf="+csrf))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(e.sessionCookie())
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the second instance's refresh: %d, want 200 (the session must still hold the current refresh token)", resp.StatusCode)
	}
}

// A session left on a refresh token the provider has rotated away (its
// save was lost), whose remembered redemption is itself within the margin,
// redeems the remembered refresh token, not the spent one: one grant, and
// the session stays alive.
func TestMarginRedeemsTheRememberedRefreshToken(t *testing.T) {
	const ttl = 2 * time.Minute
	store := &failingStore{SessionStore: webclient.NewMemoryStore(12 * time.Hour)}
	e := newEnv(t, envOptions{accessTokenTTL: ttl, cfg: func(c *webclient.Config) { c.Store = store }})
	e.signIn(t, "alice")
	csrf := e.csrf(t)
	webclient.SetClock(e.app, func() time.Time { return time.Now().Add(ttl - 20*time.Second) })
	defer webclient.SetClock(e.app, time.Now)

	// Y refreshes RT1 -> RT2, but its save fails: the session keeps RT1.
	store.commit.Store(true)
	if s := e.consoleList(context.Background(), e.browser, csrf); s != http.StatusInternalServerError {
		t.Fatalf("Y with a failing save: %d", s)
	}
	store.commit.Store(false)

	// The remembered tokens are within the margin too (they expire ttl
	// after the real now): the next call must redeem RT2.
	calls := e.tokenCalls.Load()
	if s := e.consoleList(context.Background(), e.browser, csrf); s != http.StatusOK {
		t.Fatalf("the next call: %d, want 200 (signed out by a spent refresh token?)", s)
	}
	if got := e.tokenCalls.Load() - calls; got != 1 {
		t.Errorf("%d refresh grants, want 1", got)
	}
	if _, body := e.get(t, "/profile"); !strings.Contains(body, "alice") && !strings.Contains(body, "Alice") {
		t.Error("the session did not survive")
	}
}
