package webclient

import (
	"context"
	"crypto/sha256"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/sync/singleflight"
)

//go:embed static
var staticFiles embed.FS

// App is the web client: an http.Handler serving the pages, the sign-in
// and sign-out, and the API console. It is safe for concurrent use.
type App struct {
	cfg      Config
	log      *slog.Logger
	secure   bool   // the app is served over https: Secure cookies, __Host- names
	callback string // the path of RedirectURL
	sessions *scs.SessionManager
	store    SessionStore // the sessions' store, which also keeps the sign-ins in progress
	handler  http.Handler
	now      func() time.Time // the clock for token expiry (tests move it)

	prov atomic.Pointer[provider] // nil until discovery succeeds
	// discoveries makes concurrent callers share the discovery under way.
	// Readers of prov never wait for it, so a hanging provider stalls no
	// page but those that need it.
	discoveries singleflight.Group

	// Two requests of one session that both find the access token expired
	// must not both spend the same refresh token: a provider that rotates
	// refresh tokens refuses the second and may revoke both. refreshes
	// makes them share one redemption (keyed by the refresh token's
	// SHA-256), while other sessions' refreshes go on in parallel; rotated
	// remembers what a refresh token was exchanged for, until the new access
	// token expires, for a request that comes after the redemption ended.
	refreshes singleflight.Group
	rotatedMu sync.Mutex
	rotated   map[[sha256.Size]byte]rotation
}

// provider is what discovery gives: the endpoints and the ID token
// verifier.
type provider struct {
	oauth2     oauth2.Config
	verifier   *oidc.IDTokenVerifier
	endSession string // end_session_endpoint; empty when not advertised
}

type rotation struct {
	tokens  tokenSet
	expires time.Time
}

// discoveryTimeout bounds one attempt to read the provider's discovery
// document, so that a hanging provider cannot hang a page.
const discoveryTimeout = 5 * time.Second

// New validates cfg and builds the app. It reads the provider's discovery
// document once: a provider that is not reachable yet is only logged (the
// sign-in retries and shows a readable page meanwhile), but one whose
// discovery document names another issuer is a configuration error.
func New(ctx context.Context, cfg Config) (*App, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	redirect, _ := url.Parse(cfg.RedirectURL) // validated
	a := &App{
		cfg:      cfg,
		log:      cfg.Logger,
		secure:   redirect.Scheme == "https",
		callback: redirect.Path,
		now:      time.Now,
		rotated:  map[[sha256.Size]byte]rotation{},
	}
	a.store = cfg.Store
	a.sessions = scs.New()
	a.sessions.Store = sessionKeys{store: cfg.Store, codec: a.sessions.Codec}
	a.sessions.Lifetime = cfg.SessionLifetime
	a.sessions.IdleTimeout = cfg.SessionIdleTimeout
	a.sessions.Cookie = scs.SessionCookie{
		Name:     a.cookieName("petstore_session"),
		HttpOnly: true,
		Path:     "/",
		SameSite: http.SameSiteLaxMode,
		Secure:   a.secure,
		// A browser session cookie: closing the browser ends the sign-in
		// on this machine; the server-side session expires by itself.
		Persist: false,
	}
	a.sessions.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) { a.sessionError(w, r, err) }
	a.handler = a.routes()

	if _, err := a.provider(ctx); err != nil {
		var mismatch *oidc.IssuerMismatchError
		if errors.As(err, &mismatch) {
			return nil, fmt.Errorf("webclient: ISSUER %q: %w (copy the issuer exactly from the discovery document)", cfg.Issuer, err)
		}
		a.log.Warn("the identity provider is not reachable yet; the sign-in will retry",
			slog.String("issuer", cfg.Issuer), slog.String("error", err.Error()))
	}
	return a, nil
}

// ServeHTTP serves the web client.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.handler.ServeHTTP(w, r) }

// cookieName adds the __Host- prefix on https: the browser then accepts
// the cookie only if it is Secure, for this host alone and for path "/",
// so a sibling subdomain cannot plant or overwrite it.
func (a *App) cookieName(name string) string {
	if a.secure {
		return "__Host-" + name
	}
	return name
}

// provider returns the discovered provider, discovering it on first use
// or after a failure. Concurrent callers wait for one discovery, each at
// most until its own request ends.
func (a *App) provider(ctx context.Context) (*provider, error) {
	if p := a.prov.Load(); p != nil {
		return p, nil
	}
	ch := a.discoveries.DoChan("", func() (any, error) {
		p, err := a.discover()
		if err == nil {
			a.prov.Store(p)
		}
		return p, err
	})
	select {
	case res := <-ch:
		p, _ := res.Val.(*provider)
		return p, res.Err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// discover reads the provider's discovery document, within
// discoveryTimeout.
func (a *App) discover() (*provider, error) {
	ctx, cancel := context.WithTimeout(context.Background(), discoveryTimeout)
	defer cancel()
	// The client stays with the provider: go-oidc fetches the JWKS with it
	// later, outside this context.
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, a.cfg.HTTPClient), a.cfg.Issuer)
	if err != nil {
		return nil, err
	}
	var extra struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := p.Claims(&extra); err != nil {
		return nil, fmt.Errorf("discovery document: %w", err)
	}
	endpoint := p.Endpoint()
	if a.cfg.ClientSecret == "" {
		// A public client has no secret to send: it names itself in the
		// form (RFC 6749 2.3.1), and PKCE proves it started the flow.
		endpoint.AuthStyle = oauth2.AuthStyleInParams
	}
	prov := &provider{
		oauth2: oauth2.Config{
			ClientID:     a.cfg.ClientID,
			ClientSecret: a.cfg.ClientSecret,
			Endpoint:     endpoint,
			RedirectURL:  a.cfg.RedirectURL,
			Scopes:       a.cfg.Scopes,
		},
		verifier:   p.Verifier(&oidc.Config{ClientID: a.cfg.ClientID, Now: a.now}),
		endSession: extra.EndSession,
	}
	a.log.Info("identity provider discovered", slog.String("issuer", a.cfg.Issuer),
		slog.Bool("end_session_endpoint", extra.EndSession != ""))
	return prov, nil
}

// discovered is the provider if discovery has succeeded, without trying.
func (a *App) discovered() *provider {
	return a.prov.Load()
}

func (a *App) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("GET /login", a.login)
	mux.HandleFunc("GET "+a.callback, a.handleCallback)
	mux.HandleFunc("POST /logout", a.logout)
	mux.HandleFunc("GET /profile", a.signedIn(a.profile))
	mux.HandleFunc("GET /console", a.signedIn(a.console))
	mux.HandleFunc("POST /console", a.signedIn(a.withCSRF(a.consoleCall)))
	mux.HandleFunc("GET /token", a.signedIn(a.token))
	mux.HandleFunc("POST /token", a.signedIn(a.withCSRF(a.token)))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		a.renderError(w, r, http.StatusNotFound, errorPage{Title: "Page not found", Message: "There is no page at " + r.URL.Path + "."})
	})

	// Go's cross-origin protection refuses a cross-site POST from its Origin
	// or Sec-Fetch-Site header before anything else runs; the per-session
	// CSRF token (withCSRF) covers browsers that send neither.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.log.Warn("cross-origin request refused", slog.String("method", r.Method), slog.String("path", r.URL.Path))
		a.renderError(w, r, http.StatusForbidden, errorPage{
			Title:   "Request refused",
			Message: "This form was sent from another site. For your safety it was not processed.",
		})
	}))
	var h http.Handler = mux
	h = cop.Handler(h)
	h = markSessionLoaded(h)
	h = a.loadAndSave(h)

	// The static files and /healthz need no session: outside the session
	// middleware, they cost no read (and no save) of the sessions table.
	outer := http.NewServeMux()
	outer.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	static, _ := fs.Sub(staticFiles, "static")
	outer.Handle("GET /static/", http.StripPrefix("/static/", cacheFor(time.Hour, http.FileServerFS(static))))
	outer.Handle("/", h)
	h = outer
	h = a.securityHeaders(h)
	h = a.recoverPanics(h)
	h = a.logRequests(h)
	return h
}

// securityHeaders forbid what the pages never need: scripts and styles
// from elsewhere, framing, sending the URL (which may hold a code) as a
// referrer, caching a page that shows personal data.
func (a *App) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"form-action "+a.formActions()+"; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		if a.secure {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

// formActions are the origins a form may lead to: this app, and the
// provider's sign-out page the sign-out form redirects to (browsers check
// form-action on redirects too).
func (a *App) formActions() string {
	origins := []string{"'self'"}
	for _, raw := range []string{a.cfg.Issuer, a.cfg.LogoutURL, a.endSessionURL()} {
		if u, err := url.Parse(raw); err == nil && u.Host != "" {
			o := u.Scheme + "://" + u.Host
			if !strings.Contains(strings.Join(origins, " "), o) {
				origins = append(origins, o)
			}
		}
	}
	return strings.Join(origins, " ")
}

func (a *App) endSessionURL() string {
	if p := a.discovered(); p != nil {
		return p.endSession
	}
	return ""
}

func cacheFor(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(d.Seconds())))
		next.ServeHTTP(w, r)
	})
}

// recoverPanics turns a panic into the error page: the person sees a
// readable page, the log gets the value, nobody sees a stack trace.
func (a *App) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				a.log.Error("panic", slog.String("path", r.URL.Path), slog.String("value", fmt.Sprint(v)))
				a.renderError(w, r, http.StatusInternalServerError, errorPage{
					Title: "Something went wrong", Message: "The web client failed on this page. Try again; the server log says more.",
				})
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// logRequests writes one line per request: never the query string, which
// carries the code and the state on the callback.
func (a *App) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		level := slog.LevelInfo
		if rec.status >= http.StatusInternalServerError {
			level = slog.LevelError
		}
		a.log.LogAttrs(r.Context(), level, "webclient request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", rec.status),
			slog.Int64("duration_us", time.Since(start).Microseconds()))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
