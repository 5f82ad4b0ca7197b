package idp

import (
	"context"
	_ "embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/op"
)

//go:embed login.html
var pageHTML string

var pageTemplate = template.Must(template.New("page").Parse(pageHTML))

// loginPage is where op sends the browser to authenticate
// (client.LoginURL): a username/password form for the demo users. On
// success it completes the authorization request and sends the browser to
// op's callback, which redirects to the client with the code.
type loginPage struct {
	storage     *storage
	issuer      string
	callbackURL func(context.Context, string) string
	log         *slog.Logger
}

// pageView is what login.html shows: the provider's home page, the
// signed-out page or the sign-in form.
type pageView struct {
	Home      bool
	LoggedOut bool
	Request   *pendingRequest // nil: no form, only the error and the users
	Username  string
	Error     string
	Users     []DemoUser
	Issuer    string
	Clients   []demoClient
}

type demoClient struct{ ID, Secret, Use string }

// demoClients are shown on the home page. Development only.
var demoClients = []demoClient{
	{WebClientID, "", "the web client's sign-in (authorization code with PKCE)"},
	{M2MClientID, M2MClientSecret, "machine tokens (client_credentials), as go run ./cmd/local token gets them"},
}

type pendingRequest struct {
	ID, ClientID string
	Scopes       []string
}

func (p *loginPage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		ar, err := p.storage.pendingAuthRequest(r.URL.Query().Get("authRequestID"))
		if err != nil {
			p.render(w, http.StatusBadRequest, pageView{Error: "This sign-in request is unknown or has expired. Start again from the application."})
			return
		}
		p.render(w, http.StatusOK, pageView{Request: pending(ar)})
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		id, username := r.PostFormValue("authRequestID"), r.PostFormValue("username")
		ar, err := p.storage.login(id, username, r.PostFormValue("password"))
		switch {
		case errors.Is(err, errWrongCredentials):
			_, known := p.storage.users[username]
			attrs := []slog.Attr{slog.String("outcome", "wrong_credentials"), slog.Bool("known_user", known)}
			if known { // an unknown "username" may be a mistyped password: not logged
				attrs = append(attrs, slog.String("user", username))
			}
			p.log.LogAttrs(r.Context(), slog.LevelWarn, "login", attrs...)
			view := pageView{Username: username, Error: "Wrong username or password."}
			if ar, err := p.storage.pendingAuthRequest(id); err == nil {
				view.Request = pending(ar)
			}
			p.render(w, http.StatusOK, view)
		case err != nil:
			p.render(w, http.StatusBadRequest, pageView{Error: "This sign-in request is unknown or has expired. Start again from the application."})
		default:
			p.log.LogAttrs(r.Context(), slog.LevelInfo, "login", slog.String("outcome", "ok"), slog.String("user", ar.userID),
				slog.String("client_id", ar.clientID), slog.Any("scopes_granted", ar.scopes))
			// 303: the browser follows with a GET to op's callback.
			http.Redirect(w, r, p.callbackURL(op.ContextWithIssuer(r.Context(), p.issuer), ar.id), http.StatusSeeOther)
		}
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// serveHome says what this provider is, where its discovery document is,
// and who its demo users and clients are.
func (p *loginPage) serveHome(w http.ResponseWriter, _ *http.Request) {
	p.render(w, http.StatusOK, pageView{Home: true, Issuer: p.issuer, Clients: demoClients})
}

func (p *loginPage) serveLoggedOut(w http.ResponseWriter, _ *http.Request) {
	p.render(w, http.StatusOK, pageView{LoggedOut: true})
}

func (p *loginPage) render(w http.ResponseWriter, status int, view pageView) {
	view.Users = p.storage.userList
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	// No script at all, and no framing (clickjacking of the password form).
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	if err := pageTemplate.Execute(w, view); err != nil {
		p.log.Error("login page", slog.String("error", err.Error()))
	}
}

func pending(ar *authRequest) *pendingRequest {
	return &pendingRequest{ID: ar.id, ClientID: ar.clientID, Scopes: slices.Clone(ar.scopes)}
}
