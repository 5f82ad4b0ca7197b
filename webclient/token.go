package webclient

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// decodedJWT is a JWT's header and claims, decoded but NOT verified: for
// display only. The authorizer is what verifies the token.
type decodedJWT struct {
	Header, Claims map[string]json.RawMessage
	rawHeader      []byte
	rawClaims      []byte
}

var errNotJWT = errors.New("not a JWT: the provider issued an opaque access token")

// decodeJWT splits a compact JWS and decodes its first two parts. It is
// hand-written because JWT libraries verify as they parse, and this page
// must show the token as it is, without keys; nothing here is trusted.
func decodeJWT(token string) (*decodedJWT, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errNotJWT
	}
	var d decodedJWT
	var err error
	if d.rawHeader, err = base64.RawURLEncoding.DecodeString(parts[0]); err != nil {
		return nil, errNotJWT
	}
	if d.rawClaims, err = base64.RawURLEncoding.DecodeString(parts[1]); err != nil {
		return nil, errNotJWT
	}
	if json.Unmarshal(d.rawHeader, &d.Header) != nil || json.Unmarshal(d.rawClaims, &d.Claims) != nil {
		return nil, errNotJWT
	}
	return &d, nil
}

// scopes are the token's scopes, from scope (a string) or scp (a string
// or an array, as Okta and Entra ID send it).
func (d *decodedJWT) scopes() []string {
	var out []string
	for _, name := range []string{"scope", "scp"} {
		raw, ok := d.Claims[name]
		if !ok {
			continue
		}
		var s string
		var list []string
		switch {
		case json.Unmarshal(raw, &s) == nil:
			out = append(out, strings.Fields(s)...)
		case json.Unmarshal(raw, &list) == nil:
			out = append(out, list...)
		}
	}
	return out
}

// tokenData is the token page.
type tokenData struct {
	JWT          bool
	NotJWTReason string
	Header       string
	Claims       []claimRow
	ClaimsJSON   string
	Scopes       []string
	Expires      string // RFC 3339, for the countdown script
	ExpiresAt    string
	ExpiresIn    string
	Expired      bool
	Length       int
	Raw          string // only after the deliberate reveal
	APIURL       string
}

// token shows the access token decoded; a POST (with the CSRF token) is the
// deliberate reveal of the raw token, for curl and the API Gateway console.
func (a *App) token(w http.ResponseWriter, r *http.Request) {
	d, err := a.currentTokens(r.Context())
	if err != nil {
		a.tokenTrouble(w, r, err)
		return
	}
	at := d.Tokens.AccessToken
	data := tokenData{Length: len(at), APIURL: strings.TrimRight(a.cfg.APIURL, "/")}
	if jwt, err := decodeJWT(at); err != nil {
		data.NotJWTReason = err.Error()
	} else {
		data.JWT = true
		data.Header = indentJSON(jwt.rawHeader)
		data.Claims, data.ClaimsJSON = claimRows(jwt.rawClaims)
		data.Scopes = jwt.scopes()
	}
	exp := d.Tokens.Expiry
	if jwt, err := decodeJWT(at); err == nil {
		if t, ok := unixTime(jwt.Claims["exp"]); ok {
			exp = t // the same second as the claim table shows
		}
	}
	if !exp.IsZero() {
		now := a.now()
		data.Expires = exp.UTC().Format(time.RFC3339)
		data.ExpiresAt = exp.Local().Format("15:04:05")
		data.ExpiresIn = humanDuration(exp.Sub(now))
		data.Expired = !now.Before(exp)
	}
	if r.Method == http.MethodPost {
		data.Raw = at
		a.log.Info("access token revealed on the token page")
		// Never stored by the browser or a proxy.
		w.Header().Set("Cache-Control", "no-store")
	}
	a.render(w, r, http.StatusOK, "token", view{Title: "Access token", Nav: "token", Data: data})
}

// tokenTrouble answers a page that could not get the tokens.
func (a *App) tokenTrouble(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, errSignedOut):
		http.Redirect(w, r, "/?notice=signin", http.StatusSeeOther)
	case errors.Is(err, errSessionExpired):
		http.Redirect(w, r, "/?notice=expired", http.StatusSeeOther)
	default:
		a.log.Error("token refresh failed", slog.String("error", errorText(err)))
		a.renderError(w, r, http.StatusBadGateway, errorPage{
			Title:   "Identity provider unreachable",
			Message: "Your access token has expired and the identity provider could not be reached to refresh it. You are still signed in; try again in a moment.",
			Detail:  errorText(err),
			Retry:   r.URL.Path,
		})
	}
}
