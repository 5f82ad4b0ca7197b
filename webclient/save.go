package webclient

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"
)

// loadAndSave replaces scs's LoadAndSave, which saves the session inside
// the handler's first write: a failed save there could only be reported
// next to the handler's own status and body (a redirect home, say), and
// the person would land signed out with no message. Here the handler
// writes into a buffer; the session is saved before anything reaches the
// client, and a failed save discards the buffered answer and shows the
// session error page instead. What the handler asked to happen after the
// save (afterSave) runs only once it succeeded.
func (a *App) loadAndSave(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Cookie")
		var token string
		if c, err := r.Cookie(a.sessions.Cookie.Name); err == nil {
			token = c.Value
		}
		ctx, err := a.sessions.Load(r.Context(), token)
		if err != nil {
			a.sessionError(w, r, err)
			return
		}
		hooks := &saveHooks{}
		ctx = context.WithValue(ctx, saveHooksKey{}, hooks)
		sr := r.WithContext(ctx)
		buf := &bufferedResponse{header: w.Header().Clone()}
		next.ServeHTTP(buf, sr)

		var cookie func()
		saved := true // nothing to save counts as saved
		switch a.sessions.Status(ctx) {
		case scs.Modified:
			token, expiry, err := a.sessions.Commit(ctx)
			switch {
			case errors.Is(err, ErrSessionEnded):
				// Signed out while this request ran: nothing is saved. The
				// cookie is left alone: the browser may hold a newer
				// session's cookie by now (same name), and a dead id in it
				// is harmless.
				a.log.Info("session not saved", slog.String("reason", "signed out while the request ran"))
				saved = false
			case errors.Is(err, ErrStaleSession):
				// Another request refreshed the tokens while this one ran:
				// its save stands, with the newer tokens; this one's
				// (older tokens, a spent refresh token) is dropped.
				a.log.Info("session not saved", slog.String("reason", "newer tokens saved by another request"))
				saved = false
			case err != nil:
				a.sessionError(w, r, err)
				return
			default:
				cookie = func() { a.sessions.WriteSessionCookie(ctx, w, token, expiry) }
			}
		case scs.Destroyed:
			cookie = func() { a.sessions.WriteSessionCookie(ctx, w, "", time.Time{}) }
		}
		h := w.Header()
		clear(h)
		for k, v := range buf.header {
			h[k] = v
		}
		if cookie != nil {
			cookie()
		}
		for _, f := range hooks.fns {
			if saved {
				f()
			}
		}
		if buf.status == 0 {
			buf.status = http.StatusOK
		}
		w.WriteHeader(buf.status)
		w.Write(buf.body.Bytes())
	})
}

// sessionError is the page for a session that could not be read or saved.
func (a *App) sessionError(w http.ResponseWriter, r *http.Request, err error) {
	a.log.Error("session store", slog.String("error", err.Error()))
	a.renderError(w, r, http.StatusInternalServerError, errorPage{
		Title:   "Session error",
		Message: "Your session could not be read or saved. Sign in again.",
		Retry:   "/login",
	})
}

type saveHooksKey struct{}

type saveHooks struct{ fns []func() }

// afterSave runs f once the request's session has been saved, or at once
// outside the session middleware.
func afterSave(ctx context.Context, f func()) {
	if h, ok := ctx.Value(saveHooksKey{}).(*saveHooks); ok {
		h.fns = append(h.fns, f)
		return
	}
	f()
}

// bufferedResponse holds a handler's answer until the session is saved.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}
