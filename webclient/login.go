package webclient

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// A sign-in in progress is kept on the server, in the session store under
// flowKey(state) (a hash of the state), for ten minutes at most: its nonce, its PKCE
// verifier, and the SHA-256 of the browser's sign-in cookie, a random id
// (HttpOnly, SameSite=Lax, Secure on https) that ties the flow to the
// browser that started it. Each /login starts a flow of its own, so
// sign-ins in two tabs both complete; a callback finds its flow by the
// state it carries and takes it from the store, so a callback URL works
// once, and a stray or forged one (any site can send the browser to
// /callback?state=x) touches no other flow.
const (
	browserCookie = "petstore_signin"
	flowLifetime  = 10 * time.Minute
)

// flowState is a sign-in in progress, as stored.
type flowState struct {
	Browser  [sha256.Size]byte // of the browser cookie
	Nonce    string
	Verifier string
}

func init() { gob.Register(flowState{}) }

// login starts the authorization code flow with PKCE (S256).
func (a *App) login(w http.ResponseWriter, r *http.Request) {
	p, err := a.provider(r.Context())
	if err != nil {
		a.providerUnreachable(w, r, err)
		return
	}
	browser := ""
	if c, err := r.Cookie(a.cookieName(browserCookie)); err == nil && validID(c.Value) {
		browser = c.Value
	} else {
		browser = rand.Text()
	}
	state := rand.Text()
	flow := flowState{Browser: sha256.Sum256([]byte(browser)), Nonce: rand.Text(), Verifier: oauth2.GenerateVerifier()}
	var buf bytes.Buffer
	err = gob.NewEncoder(&buf).Encode(flow)
	if err == nil {
		err = a.store.CommitCtx(r.Context(), flowKey(state), buf.Bytes(), time.Now().Add(flowLifetime))
	}
	if err != nil {
		a.log.Error("sign-in state not stored", slog.String("error", err.Error()))
		a.renderError(w, r, http.StatusInternalServerError, errorPage{Title: "Sign-in failed", Message: "The sign-in could not be started.", Retry: "/login"})
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: a.cookieName(browserCookie), Value: browser, Path: "/",
		HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteLaxMode,
	})
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(flow.Verifier), oidc.Nonce(flow.Nonce)}
	if a.cfg.Audience != "" {
		opts = append(opts, oauth2.SetAuthURLParam("audience", a.cfg.Audience))
	}
	a.log.Info("sign-in started")
	http.Redirect(w, r, p.oauth2.AuthCodeURL(state, opts...), http.StatusFound)
}

// validID accepts what rand.Text makes: 26 characters of base32.
func validID(s string) bool {
	if len(s) != 26 {
		return false
	}
	for _, c := range s {
		if (c < 'A' || c > 'Z') && (c < '2' || c > '7') {
			return false
		}
	}
	return true
}

// callbackError is why a callback was refused: what the person reads, and
// a short code for the log.
type callbackError struct {
	status  int
	reason  string // for the log
	message string // for the person
	detail  string // e.g. the provider's error code and description
}

// handleCallback finishes the sign-in: it checks the state, redeems the code
// with the PKCE verifier, verifies the ID token and its nonce, and starts a
// session under a new id.
func (a *App) handleCallback(w http.ResponseWriter, r *http.Request) {
	flow, cerr := a.takeFlow(r)
	var claims *oidc.IDToken
	if cerr == nil {
		claims, cerr = a.finishSignIn(r, flow)
	}
	if cerr != nil {
		a.log.Warn("sign-in refused", slog.String("reason", cerr.reason))
		a.renderError(w, r, cerr.status, errorPage{Title: "Sign-in failed", Message: cerr.message, Detail: cerr.detail, Retry: "/login"})
		return
	}
	afterSave(r.Context(), func() { a.log.Info("signed in", slog.String("sub", claims.Subject)) })
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// takeFlow finds the sign-in this callback answers, by its state, checks
// that this browser started it, and only then takes it from the store:
// nothing else in the request is trusted before, and a callback that
// answers no sign-in of this browser leaves every flow as it was.
func (a *App) takeFlow(r *http.Request) (flowState, *callbackError) {
	notInProgress := &callbackError{http.StatusBadRequest, "no_flow",
		"No sign-in with this state is in progress in this browser: it took longer than ten minutes, this link was already used, or the state does not match a sign-in started here. Start again.", ""}
	state := r.URL.Query().Get("state")
	c, err := r.Cookie(a.cookieName(browserCookie))
	if !validID(state) || err != nil || !validID(c.Value) {
		return flowState{}, notInProgress
	}
	ctx := r.Context()
	b, found, err := a.store.FindCtx(ctx, flowKey(state))
	if err != nil {
		a.log.Error("sign-in state not read", slog.String("error", err.Error()))
		return flowState{}, &callbackError{http.StatusInternalServerError, "store", "The sign-in could not be finished: its state could not be read.", ""}
	}
	var flow flowState
	if !found || gob.NewDecoder(bytes.NewReader(b)).Decode(&flow) != nil {
		return flowState{}, notInProgress
	}
	if mine := sha256.Sum256([]byte(c.Value)); subtle.ConstantTimeCompare(mine[:], flow.Browser[:]) != 1 {
		return flowState{}, notInProgress
	}
	// Taken once: of two callbacks with this state, one goes on.
	_, taken, err := a.store.Take(ctx, flowKey(state))
	if err != nil {
		a.log.Error("sign-in state not taken", slog.String("error", err.Error()))
		return flowState{}, &callbackError{http.StatusInternalServerError, "store", "The sign-in could not be finished: its state could not be read.", ""}
	}
	if !taken {
		return flowState{}, notInProgress
	}
	return flow, nil
}

func (a *App) finishSignIn(r *http.Request, flow flowState) (*oidc.IDToken, *callbackError) {
	ctx := r.Context()
	q := r.URL.Query()
	if code := q.Get("error"); code != "" {
		detail := truncate(code, 100)
		if d := q.Get("error_description"); d != "" {
			detail += ": " + truncate(d, 300)
		}
		return nil, &callbackError{http.StatusBadRequest, "provider_error",
			"The identity provider did not sign you in (you may have cancelled, or the app is not allowed the scopes it asked for).", detail}
	}
	code := q.Get("code")
	if code == "" {
		return nil, &callbackError{http.StatusBadRequest, "no_code", "The identity provider sent no authorization code.", ""}
	}
	p, err := a.provider(ctx)
	if err != nil {
		return nil, &callbackError{http.StatusBadGateway, "provider_unreachable", "The identity provider could not be reached to finish the sign-in.", err.Error()}
	}
	xctx, cancel := context.WithTimeout(oauth2ClientContext(ctx, a.cfg.HTTPClient), 10*time.Second)
	defer cancel()
	tok, err := p.oauth2.Exchange(xctx, code, oauth2.VerifierOption(flow.Verifier))
	if err != nil {
		var refused *oauth2.RetrieveError
		if errors.As(err, &refused) {
			detail := refused.ErrorCode
			if refused.ErrorDescription != "" {
				detail += ": " + refused.ErrorDescription
			}
			return nil, &callbackError{http.StatusBadRequest, "code_refused",
				"The identity provider refused the authorization code: it was already used, has expired, or the PKCE verifier does not match.", detail}
		}
		return nil, &callbackError{http.StatusBadGateway, "token_endpoint_unreachable", "The identity provider could not be reached to finish the sign-in.", errorText(err)}
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		return nil, &callbackError{http.StatusBadGateway, "no_id_token", "The identity provider returned no ID token. Is openid among the SCOPES?", ""}
	}
	idToken, err := p.verifier.Verify(xctx, rawID)
	if err != nil {
		return nil, &callbackError{http.StatusBadGateway, "id_token_invalid", "The ID token did not verify (signature, issuer, audience or expiry).", errorText(err)}
	}
	if subtle.ConstantTimeCompare([]byte(idToken.Nonce), []byte(flow.Nonce)) != 1 {
		return nil, &callbackError{http.StatusBadRequest, "nonce_mismatch",
			"The ID token was not issued for the sign-in this browser started (the nonce does not match), so it was refused.", ""}
	}
	if idToken.AccessTokenHash != "" {
		if err := idToken.VerifyAccessToken(tok.AccessToken); err != nil {
			return nil, &callbackError{http.StatusBadGateway, "at_hash_mismatch", "The access token does not match the ID token's at_hash.", ""}
		}
	}
	var claims json.RawMessage
	if err := idToken.Claims(&claims); err != nil {
		return nil, &callbackError{http.StatusBadGateway, "claims", "The ID token's claims could not be read.", ""}
	}
	tokens := tokenSet{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, IDToken: rawID, Expiry: tok.Expiry}
	if err := a.startSession(ctx, tokens, claims); err != nil {
		return nil, &callbackError{http.StatusInternalServerError, "session", "Your session could not be started.", ""}
	}
	return idToken, nil
}

// errorText is err's message without a URL's query, should a library put
// one in it.
func errorText(err error) string {
	// A token endpoint's refusal: its error code and description, not the
	// whole response body that oauth2.RetrieveError would print.
	var rerr *oauth2.RetrieveError
	if errors.As(err, &rerr) {
		msg := fmt.Sprintf("the provider answered %d", rerr.Response.StatusCode)
		if rerr.ErrorCode != "" {
			msg += " " + rerr.ErrorCode
		}
		if d := rerr.ErrorDescription; d != "" {
			if len(d) > 200 {
				d = d[:200] + "..."
			}
			msg += ": " + d
		}
		return msg
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		u, perr := url.Parse(uerr.URL)
		if perr != nil { // no URL to show, and none to leak
			return uerr.Op + ": " + uerr.Err.Error()
		}
		u.RawQuery = ""
		return uerr.Op + " " + u.String() + ": " + uerr.Err.Error()
	}
	return err.Error()
}

// logout ends the local session first (so a provider that is down cannot
// keep the user signed in here), then sends the browser to the provider's
// end_session_endpoint, or LOGOUT_URL, or home.
func (a *App) logout(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	d, signedIn := a.session(r.Context())
	if !signedIn {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	if !a.validCSRF(r) {
		a.log.Warn("csrf token missing or wrong", slog.String("path", r.URL.Path))
		a.renderError(w, r, http.StatusForbidden, errorPage{Title: "Sign-out refused",
			Message: "This form's security token is missing or out of date. Reload the page and sign out again."})
		return
	}
	if err := a.sessions.Destroy(r.Context()); err != nil {
		// Fail closed: the session could not be ended, so the browser is
		// not sent on as if it had been (nor to the provider's sign-out).
		a.log.Error("sign-out failed", slog.String("error", err.Error()))
		a.renderError(w, r, http.StatusInternalServerError, errorPage{
			Title:   "Sign-out failed",
			Message: "Sign-out failed: you are still signed in here. Try again in a moment.",
		})
		return
	}
	target := "/"
	switch p := a.discovered(); {
	case p != nil && p.endSession != "":
		// OpenID Connect RP-Initiated Logout 1.0.
		u, err := url.Parse(p.endSession)
		if err == nil {
			q := u.Query()
			q.Set("id_token_hint", d.Tokens.IDToken)
			q.Set("post_logout_redirect_uri", a.cfg.PostLogoutRedirectURL)
			q.Set("client_id", a.cfg.ClientID)
			u.RawQuery = q.Encode()
			target = u.String()
		}
	case a.cfg.LogoutURL != "":
		target = a.cfg.LogoutURL
	}
	a.log.Info("signed out", slog.Bool("provider_logout", target != "/"))
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// providerUnreachable is the page for a provider whose discovery failed.
func (a *App) providerUnreachable(w http.ResponseWriter, r *http.Request, err error) {
	a.log.Error("identity provider unreachable", slog.String("issuer", a.cfg.Issuer), slog.String("error", errorText(err)))
	a.renderError(w, r, http.StatusBadGateway, errorPage{
		Title:   "Identity provider unreachable",
		Message: "The identity provider at " + a.cfg.Issuer + " did not answer, so you cannot sign in right now. Check that it is running (and that ISSUER is right), then try again.",
		Detail:  errorText(err),
		Retry:   "/login",
	})
}

// truncate shortens text that came from elsewhere before it is shown.
func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
