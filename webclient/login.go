package webclient

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
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

// The sign-in's own cookies carry the state, the nonce and the PKCE
// verifier from /login to the callback. Each is sealed with the session
// key, HttpOnly, SameSite=Lax (sent on the provider's top-level redirect
// back, not on cross-site subrequests), Secure on https, and lives ten
// minutes at most. The callback clears them whatever happens, so a
// callback URL works once.
const (
	stateCookie      = "petstore_state"
	nonceCookie      = "petstore_nonce"
	verifierCookie   = "petstore_pkce"
	flowCookieMaxAge = 10 * time.Minute
)

// login starts the authorization code flow with PKCE (S256).
func (a *App) login(w http.ResponseWriter, r *http.Request) {
	p, err := a.provider(r.Context())
	if err != nil {
		a.providerUnreachable(w, r, err)
		return
	}
	state, nonce, verifier := rand.Text(), rand.Text(), oauth2.GenerateVerifier()
	for name, value := range map[string]string{stateCookie: state, nonceCookie: nonce, verifierCookie: verifier} {
		if err := a.setFlowCookie(w, name, value); err != nil {
			a.log.Error("sign-in cookie", slog.String("error", err.Error()))
			a.renderError(w, r, http.StatusInternalServerError, errorPage{Title: "Sign-in failed", Message: "The sign-in could not be started.", Retry: "/login"})
			return
		}
	}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)}
	if a.cfg.Audience != "" {
		opts = append(opts, oauth2.SetAuthURLParam("audience", a.cfg.Audience))
	}
	a.log.Info("sign-in started")
	http.Redirect(w, r, p.oauth2.AuthCodeURL(state, opts...), http.StatusFound)
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
	flow := a.readFlowCookies(r)
	a.clearFlowCookies(w)
	claims, cerr := a.finishSignIn(r, flow)
	if cerr != nil {
		a.log.Warn("sign-in refused", slog.String("reason", cerr.reason))
		a.renderError(w, r, cerr.status, errorPage{Title: "Sign-in failed", Message: cerr.message, Detail: cerr.detail, Retry: "/login"})
		return
	}
	a.log.Info("signed in", slog.String("sub", claims.Subject))
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

type flowValues struct{ state, nonce, verifier string }

func (a *App) finishSignIn(r *http.Request, flow flowValues) (*oidc.IDToken, *callbackError) {
	ctx := r.Context()
	q := r.URL.Query()
	// The state first: nothing else in this request is trusted until it is
	// known to answer the sign-in this browser started.
	if flow.state == "" {
		return nil, &callbackError{http.StatusBadRequest, "no_state_cookie",
			"No sign-in was in progress in this browser, or it took longer than ten minutes, or this link was already used. Start again.", ""}
	}
	if got := q.Get("state"); got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(flow.state)) != 1 {
		return nil, &callbackError{http.StatusBadRequest, "state_mismatch",
			"This answer does not belong to the sign-in this browser started (the state does not match), so it was ignored.", ""}
	}
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
	if flow.verifier == "" || flow.nonce == "" {
		return nil, &callbackError{http.StatusBadRequest, "no_verifier_cookie",
			"Part of this sign-in's data is missing from the browser (its cookies were removed). Start again.", ""}
	}
	p, err := a.provider(ctx)
	if err != nil {
		return nil, &callbackError{http.StatusBadGateway, "provider_unreachable", "The identity provider could not be reached to finish the sign-in.", err.Error()}
	}
	xctx, cancel := context.WithTimeout(oauth2ClientContext(ctx, a.cfg.HTTPClient), 10*time.Second)
	defer cancel()
	tok, err := p.oauth2.Exchange(xctx, code, oauth2.VerifierOption(flow.verifier))
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
	if subtle.ConstantTimeCompare([]byte(idToken.Nonce), []byte(flow.nonce)) != 1 {
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
		a.log.Error("session destroy", slog.String("error", err.Error()))
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

func (a *App) setFlowCookie(w http.ResponseWriter, name, value string) error {
	sealed, err := a.sealer.Encode(name, value)
	if err != nil {
		return err
	}
	http.SetCookie(w, a.flowCookie(name, sealed, int(flowCookieMaxAge/time.Second)))
	return nil
}

func (a *App) readFlowCookies(r *http.Request) flowValues {
	read := func(name string) string {
		c, err := r.Cookie(a.cookieName(name))
		if err != nil {
			return ""
		}
		var v string
		if err := a.sealer.Decode(name, c.Value, &v); err != nil {
			return "" // forged, from another key, or older than ten minutes
		}
		return v
	}
	return flowValues{state: read(stateCookie), nonce: read(nonceCookie), verifier: read(verifierCookie)}
}

func (a *App) clearFlowCookies(w http.ResponseWriter) {
	for _, name := range []string{stateCookie, nonceCookie, verifierCookie} {
		http.SetCookie(w, a.flowCookie(name, "", -1))
	}
}

func (a *App) flowCookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     a.cookieName(name),
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   a.secure,
		SameSite: http.SameSiteLaxMode,
	}
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
