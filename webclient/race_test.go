package webclient_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/example/petstore-oidc/internal/dynamotest"
	"github.com/example/petstore-oidc/local/idp"
	"github.com/example/petstore-oidc/webclient"
)

// Signing out cannot be undone: a request of the session still in flight
// at the sign-out (a slow console call, or one whose form arrives slowly
// with a wrong CSRF token) finishes after it, and its end saves nothing:
// the old session cookie stays dead, on every store.
func TestSignOutWinsOverARequestInFlight(t *testing.T) {
	stores := map[string]func(t *testing.T) webclient.SessionStore{
		"memory":             func(t *testing.T) webclient.SessionStore { return webclient.NewMemoryStore(time.Hour) },
		"DynamoDB, embedded": func(t *testing.T) webclient.SessionStore { return sessionsOn(t, dynamotest.Embedded(t)) },
	}
	holds := map[string]struct {
		at   func(e *env) *holdPoint
		csrf func(good string) string
		want int
	}{
		"console call held at the API":             {func(e *env) *holdPoint { return &e.holdAPI }, func(good string) string { return good }, http.StatusOK},
		"form with a wrong CSRF token held coming": {func(e *env) *holdPoint { return &e.holdBody }, func(string) string { return "wrong" }, http.StatusForbidden},
	}
	for storeName, open := range stores {
		for holdName, h := range holds {
			t.Run(storeName+"/"+holdName, func(t *testing.T) {
				store := open(t)
				e := newEnv(t, envOptions{cfg: func(c *webclient.Config) { c.Store = store }})
				e.signIn(t, "alice")
				csrf := e.csrf(t)
				old := e.sessionCookie()
				entered, release := holdNext(t, h.at(e))

				status := make(chan int, 1)
				go func() { status <- e.consoleList(context.Background(), e.browser, h.csrf(csrf)) }()
				select {
				case <-entered:
				case <-time.After(5 * time.Second):
					t.Fatal("the request never got as far as the hold")
				}
				resp, _ := e.post(t, "/logout", url.Values{"csrf": {csrf}})
				if resp.StatusCode != http.StatusSeeOther {
					t.Fatalf("sign-out: %d", resp.StatusCode)
				}
				release()
				if got := <-status; got != h.want {
					t.Errorf("the request in flight answered %d, want %d", got, h.want)
				}

				// The old cookie, sent again: signed out for good.
				e.jar.SetCookies(mustURL(e.webURL), []*http.Cookie{old})
				if resp, _ := e.get(t, "/profile"); resp.StatusCode != http.StatusSeeOther {
					t.Fatalf("the session came back after sign-out: /profile answered %d", resp.StatusCode)
				}
				if _, found, err := store.FindCtx(context.Background(), webclient.SessionStoreKey(old.Value)); err != nil || found {
					t.Errorf("the store has the session again: found=%v err=%v", found, err)
				}
				if !strings.Contains(e.logs.String(), "signed out while the request ran") {
					t.Error("the refused save was not logged")
				}
			})
		}
	}
}

// A provider that does not rotate refresh tokens (Cognito) answers every
// redemption with the same refresh token. Within the last 30 seconds of an
// access token, the web client must redeem it again, not answer from what
// the previous redemption gave, which is that very token about to expire.
func TestRefreshWithoutRotationRefreshesWithinTheMargin(t *testing.T) {
	const ttl = 2 * time.Minute
	e := newEnv(t, envOptions{noRotation: true, accessTokenTTL: ttl})
	e.signIn(t, "alice")
	csrf := e.csrf(t)
	// 100 s on: the token has 20 s left, within the margin.
	webclient.SetClock(e.app, func() time.Time { return time.Now().Add(ttl - 20*time.Second) })
	defer webclient.SetClock(e.app, time.Now)

	var used []string
	for i := range 3 {
		calls := e.tokenCalls.Load()
		if s := e.consoleList(context.Background(), e.browser, csrf); s != http.StatusOK {
			t.Fatalf("console call %d: %d", i+1, s)
		}
		// The IdP's tokens live 2 minutes from the real now, so each
		// refreshed token is again within the margin of the moved clock:
		// each call must refresh.
		if got := e.tokenCalls.Load() - calls; got != 1 {
			t.Errorf("console call %d: %d refresh grants, want 1 (the margin must really refresh)", i+1, got)
		}
		used = append(used, e.apiAuth.Load().(string))
	}
	for i := 1; i < len(used); i++ {
		if used[i] == used[i-1] {
			t.Errorf("console call %d sent the same access token as call %d", i+1, i)
		}
	}
	// The refresh token was never replaced, and still works.
	if _, body := e.get(t, "/profile"); !strings.Contains(body, idp.DemoUsers[0].Name) {
		t.Errorf("the profile no longer shows alice:\n%s", body)
	}
}

// A request of an ended session that finishes after the user signed in
// again leaves the new session's cookie alone (same name, newer value).
func TestAnEndedRequestKeepsTheNewSessionCookie(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.signIn(t, "alice")
	csrf := e.csrf(t)
	entered, release := holdNext(t, &e.holdAPI)
	status := make(chan int, 1)
	go func() { status <- e.consoleList(context.Background(), e.browser, csrf) }()
	<-entered
	if resp, _ := e.post(t, "/logout", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", resp.StatusCode)
	}
	e.signIn(t, "alice")
	release()
	<-status
	if resp, _ := e.get(t, "/profile"); resp.StatusCode != http.StatusOK {
		t.Errorf("/profile after the old request ended: %d, want 200 (still signed in)", resp.StatusCode)
	}
}
