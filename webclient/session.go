package webclient

import (
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
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// The session lives on the server (scs on a SessionStore); the browser
// holds only its random id, in an HttpOnly cookie. It keeps:
const sessionKey = "signin" // a sessionData

// sessionData is a signed-in user's session.
type sessionData struct {
	Tokens tokenSet
	// Claims are the ID token's claims as verified at sign-in (JSON), for
	// the profile and for "who you are".
	Claims []byte
	// CSRF is the synchronizer token every form of this session carries.
	CSRF string
	// Version counts the refreshes of Tokens: a save of the session is
	// refused when the store holds a higher one (CommitVersionCtx).
	Version int64
}

// tokenSet is what the provider gave. It never leaves the server, except
// on the token page's deliberate reveal.
type tokenSet struct {
	AccessToken  string
	RefreshToken string
	IDToken      string
	Expiry       time.Time // of the access token; zero if the provider said nothing
}

func init() { gob.Register(sessionData{}) }

// refreshMargin: an access token that expires within it is refreshed
// before use, so that it does not expire on its way through the gateway.
const refreshMargin = 30 * time.Second

// Why a signed-in page could not get the user's tokens.
var (
	errSignedOut      = errors.New("not signed in")
	errSessionExpired = errors.New("the session has expired")
)

// sessionLoaded marks a context in which scs has loaded the session:
// outside it (an error page of an outer middleware) scs would panic.
type sessionLoaded struct{}

func markSessionLoaded(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionLoaded{}, true)))
	})
}

// session is the signed-in session of the request, if it has one.
func (a *App) session(ctx context.Context) (sessionData, bool) {
	if ctx.Value(sessionLoaded{}) == nil {
		return sessionData{}, false
	}
	d, ok := a.sessions.Get(ctx, sessionKey).(sessionData)
	return d, ok
}

// signedIn wraps a page that needs a signed-in user. Without a session it
// sends the browser home with a notice: "expired" when the request still
// carried a session cookie (the server-side session timed out or was
// ended), "signin" otherwise.
func (a *App) signedIn(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, ok := a.session(r.Context()); !ok {
			notice := "signin"
			if _, err := r.Cookie(a.sessions.Cookie.Name); err == nil {
				notice = "expired"
			}
			http.Redirect(w, r, "/?notice="+notice, http.StatusSeeOther)
			return
		}
		next(w, r)
	}
}

// withCSRF refuses a form whose csrf field is not this session's token.
func (a *App) withCSRF(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if !a.validCSRF(r) {
			a.log.Warn("csrf token missing or wrong", slog.String("path", r.URL.Path))
			a.renderError(w, r, http.StatusForbidden, errorPage{
				Title:   "Form refused",
				Message: "This form's security token is missing or out of date (did you sign in again in another tab?). Reload the page and try again.",
				Retry:   r.URL.Path,
			})
			return
		}
		next(w, r)
	}
}

func (a *App) validCSRF(r *http.Request) bool {
	d, ok := a.session(r.Context())
	got := r.PostFormValue("csrf")
	return ok && d.CSRF != "" && subtle.ConstantTimeCompare([]byte(got), []byte(d.CSRF)) == 1
}

// startSession stores a fresh sign-in under a new session id: whatever id
// the browser had before (one an attacker planted, say) is dropped.
func (a *App) startSession(ctx context.Context, tokens tokenSet, claims []byte) error {
	if err := a.sessions.RenewToken(ctx); err != nil {
		return err
	}
	a.sessions.Put(ctx, sessionKey, sessionData{Tokens: tokens, Claims: claims, CSRF: rand.Text()})
	return nil
}

// currentTokens returns the session's tokens, first refreshing the access
// token if it has expired or is about to. A refresh the provider refuses
// (refresh token expired, revoked or absent) ends the session:
// errSessionExpired. A provider that cannot be reached leaves the session
// as it is and returns the error.
// endSession destroys a session whose tokens can no longer be used. If
// the store refuses, the error is logged; the session holds nothing that
// works any more, and the request answers "session expired" either way.
func (a *App) endSession(ctx context.Context) {
	if err := a.sessions.Destroy(ctx); err != nil {
		a.log.Error("session destroy", slog.String("error", err.Error()))
	}
}

func (a *App) currentTokens(ctx context.Context) (sessionData, error) {
	d, ok := a.session(ctx)
	if !ok {
		return d, errSignedOut
	}
	if d.Tokens.Expiry.IsZero() || a.now().Add(refreshMargin).Before(d.Tokens.Expiry) {
		return d, nil
	}
	if d.Tokens.RefreshToken == "" {
		a.log.Info("session ended", slog.String("reason", "access token expired and no refresh token"))
		a.endSession(ctx)
		return d, errSessionExpired
	}
	fresh, err := a.refresh(ctx, d.Tokens)
	var refused *oauth2.RetrieveError
	switch {
	case errors.As(err, &refused) && refused.Response != nil && refused.Response.StatusCode < 500 &&
		refused.Response.StatusCode != http.StatusTooManyRequests: // rate limited: try again later
		a.log.Info("session ended", slog.String("reason", "refresh refused"), slog.String("error_code", refused.ErrorCode))
		a.endSession(ctx)
		return d, errSessionExpired
	case errors.Is(err, errOtherUser), errors.Is(err, errBadIDToken):
		reason := "refreshed ID token invalid"
		if errors.Is(err, errOtherUser) {
			reason = "refreshed ID token for another subject"
		}
		a.log.Warn("session ended", slog.String("reason", reason), slog.String("detail", err.Error()))
		a.endSession(ctx)
		return d, errSessionExpired
	case err != nil:
		return d, err
	}
	d.Tokens = fresh.tokens
	d.Version++
	if fresh.claims != nil {
		d.Claims = fresh.claims
	}
	a.sessions.Put(ctx, sessionKey, d)
	return d, nil
}

// errOtherUser: the provider's refreshed ID token is not the signed-in
// user's. errBadIDToken: it does not verify (signature, issuer, audience,
// expiry).
var (
	errOtherUser  = errors.New("the refreshed ID token names another user")
	errBadIDToken = errors.New("the refreshed ID token does not verify")
)

type refreshed struct {
	tokens tokenSet
	claims []byte // of a new ID token, if the provider sent one
}

// refresh redeems the refresh token once, however many requests ask at the
// same time (see App.refreshes). A request whose ctx ends stops waiting;
// the redemption goes on for the others, bounded by its own timeout.
func (a *App) refresh(ctx context.Context, old tokenSet) (refreshed, error) {
	key := sha256.Sum256([]byte(old.RefreshToken))
	for range 3 {
		tokens, ok := a.rotation(key)
		if ok {
			return refreshed{tokens: tokens}, nil
		}
		// Remembered but itself within the margin: redeem the refresh
		// token that redemption gave, not the session's, which a rotating
		// provider has spent (the session's save may have been lost). With
		// a provider that does not rotate, it is the same token.
		latest, seen := a.remembered(key)
		if !seen || latest.RefreshToken == "" || latest.RefreshToken == old.RefreshToken {
			break
		}
		old = latest
		key = sha256.Sum256([]byte(old.RefreshToken))
	}
	ch := a.refreshes.DoChan(string(key[:]), func() (any, error) {
		return a.redeem(context.WithoutCancel(ctx), key, old)
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return refreshed{}, res.Err
		}
		return res.Val.(refreshed), nil
	case <-ctx.Done():
		return refreshed{}, ctx.Err()
	}
}

// rotation is what the refresh token with this SHA-256 was exchanged for,
// if that exchange is still remembered (see App.rotated) and its access
// token is not itself about to expire. A provider that does not rotate
// refresh tokens (Cognito) keeps the same one for every redemption: what
// it gave last time is the very token a request within refreshMargin of
// its expiry wants replaced, so it is no answer then, and the request
// redeems the refresh token again.
func (a *App) rotation(key [sha256.Size]byte) (tokenSet, bool) {
	a.rotatedMu.Lock()
	defer a.rotatedMu.Unlock()
	now := a.now()
	for k, r := range a.rotated {
		if now.After(r.expires) {
			delete(a.rotated, k)
		}
	}
	r, ok := a.rotated[key]
	if ok && !r.tokens.Expiry.IsZero() && !now.Add(refreshMargin).Before(r.tokens.Expiry) {
		return tokenSet{}, false
	}
	return r.tokens, ok
}

// remembered is what the refresh token with this SHA-256 was exchanged
// for, if remembered, whether or not it is within the margin.
func (a *App) remembered(key [sha256.Size]byte) (tokenSet, bool) {
	a.rotatedMu.Lock()
	defer a.rotatedMu.Unlock()
	r, ok := a.rotated[key]
	if !ok || a.now().After(r.expires) {
		return tokenSet{}, false
	}
	return r.tokens, true
}

// redeem is one refresh grant at the provider, and the check of the ID
// token it may return.
func (a *App) redeem(ctx context.Context, key [sha256.Size]byte, old tokenSet) (refreshed, error) {
	// A redemption that ended between refresh's look at rotated and this
	// one's start has spent the token already.
	if tokens, ok := a.rotation(key); ok {
		return refreshed{tokens: tokens}, nil
	}
	p := a.discovered() // set: a session exists only after a sign-in
	if p == nil {
		return refreshed{}, errors.New("the identity provider has not been discovered")
	}
	ctx, cancel := context.WithTimeout(oauth2ClientContext(ctx, a.cfg.HTTPClient), 10*time.Second)
	defer cancel()
	// A token with no access token is invalid, so the token source goes
	// straight to the refresh grant.
	tok, err := p.oauth2.TokenSource(ctx, &oauth2.Token{RefreshToken: old.RefreshToken}).Token()
	if err != nil {
		return refreshed{}, err
	}
	out := refreshed{tokens: tokenSet{
		AccessToken:  tok.AccessToken,
		RefreshToken: tok.RefreshToken, // the token source keeps the old one if none came back
		IDToken:      old.IDToken,
		Expiry:       tok.Expiry,
	}}
	if raw, _ := tok.Extra("id_token").(string); raw != "" {
		// OIDC Core 12.2: a refreshed ID token is verified like the first,
		// but carries no nonce, and names the same user.
		idToken, err := p.verifier.Verify(ctx, raw)
		switch {
		case err == nil:
			if err := sameSubject(old.IDToken, idToken.Subject); err != nil {
				return refreshed{}, err
			}
			var claims json.RawMessage
			if err := idToken.Claims(&claims); err != nil {
				return refreshed{}, err
			}
			out.tokens.IDToken, out.claims = raw, claims
		case keysUnavailable(err):
			// The tokens came straight from the token endpoint, over TLS
			// (OIDC Core 3.1.3.7 lets that stand in for the signature), and
			// the refresh token is spent: keep them, and keep the ID token
			// verified at sign-in rather than one that could not be checked.
			unverified, derr := decodeJWT(raw)
			var sub string
			if derr != nil || json.Unmarshal(unverified.Claims["sub"], &sub) != nil {
				return refreshed{}, fmt.Errorf("%w: %v", errBadIDToken, err)
			}
			if err := sameSubject(old.IDToken, sub); err != nil {
				return refreshed{}, err
			}
			a.log.Warn("refreshed ID token not verified: the provider's keys could not be fetched; the one verified at sign-in is kept",
				slog.String("detail", err.Error()))
		default:
			return refreshed{}, fmt.Errorf("%w: %v", errBadIDToken, err)
		}
	}
	// Kept until the new access token expires: a redemption whose requests
	// all went away before it ended reaches the session through here.
	expires := a.now().Add(time.Minute)
	if out.tokens.Expiry.After(expires) {
		expires = out.tokens.Expiry
	}
	a.rotatedMu.Lock()
	a.rotated[key] = rotation{tokens: out.tokens, expires: expires}
	a.rotatedMu.Unlock()
	a.log.Info("access token refreshed", slog.Time("expires", out.tokens.Expiry))
	return out, nil
}

// sameSubject checks that a refreshed ID token's subject is the signed-in
// user's, as the ID token stored at sign-in (verified then, only decoded
// here as it may have expired) names it.
func sameSubject(stored, sub string) error {
	first, err := decodeJWT(stored)
	if err != nil {
		return fmt.Errorf("%w: the stored ID token does not decode", errOtherUser)
	}
	var want string
	if json.Unmarshal(first.Claims["sub"], &want) != nil || want != sub {
		return errOtherUser
	}
	return nil
}

// keysUnavailable reports whether go-oidc failed to verify an ID token
// because the provider's keys could not be fetched (an outage, not a bad
// token). go-oidc flattens that error into a string ("failed to verify
// signature: fetching keys ..."), so the string is all there is to go by;
// TestRefreshWhileTheKeysAreUnavailable fails if go-oidc's wording changes.
func keysUnavailable(err error) bool {
	return strings.Contains(err.Error(), "fetching keys")
}

// oauth2ClientContext makes golang.org/x/oauth2 use client.
func oauth2ClientContext(ctx context.Context, client *http.Client) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, client)
}
