package webclient

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFiles embed.FS

// pages are the templates, each one page with the shared layout.
var pages = func() map[string]*template.Template {
	funcs := template.FuncMap{
		"join": strings.Join,
		// statusClass colours a status: s2 (success) to s5 (server error).
		"statusClass": func(status int) string { return fmt.Sprintf("s%d", status/100) },
	}
	m := map[string]*template.Template{}
	for _, name := range []string{"home", "profile", "console", "token", "error"} {
		m[name] = template.Must(template.New("layout.html").Funcs(funcs).
			ParseFS(templateFiles, "templates/layout.html", "templates/"+name+".html"))
	}
	return m
}()

// view is what every page gets; Data is the page's own.
type view struct {
	Title  string
	Nav    string // the active menu entry
	User   *user  // nil: signed out
	CSRF   string
	Issuer string
	APIURL string
	Data   any
}

// user is who is signed in, from the ID token's claims.
type user struct {
	Name, Email, Subject string
}

// errorPage is the page for anything that went wrong: never a stack trace,
// never a token.
type errorPage struct {
	Status  int
	Title   string
	Message string
	Detail  string // technical detail, e.g. the provider's error code
	Retry   string // a link to try again, if any
}

func (a *App) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	v.Issuer, v.APIURL = a.cfg.Issuer, a.cfg.APIURL
	if d, ok := a.session(r.Context()); ok {
		v.User, v.CSRF = userFrom(d.Claims), d.CSRF
	}
	// Rendered to a buffer first, so that a template error gives the error
	// page rather than half a page.
	var buf bytes.Buffer
	if err := pages[name].Execute(&buf, v); err != nil {
		a.log.Error("template", slog.String("page", name), slog.String("error", err.Error()))
		http.Error(w, "The page could not be shown; the server log says why.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func (a *App) renderError(w http.ResponseWriter, r *http.Request, status int, e errorPage) {
	e.Status = status
	a.render(w, r, status, "error", view{Title: e.Title, Data: e})
}

// homeData is what the home page shows besides the user.
type homeData struct {
	Notice string
	Note   string
}

// notices are the home page's messages, chosen by ?notice=: only these
// fixed texts can appear, whatever the query says.
var notices = map[string]string{
	"signin":  "Sign in to see this page.",
	"expired": "Your session has expired or was ended. Sign in again.",
}

func (a *App) home(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, "home", view{
		Title: "Home", Nav: "home",
		Data: homeData{Notice: notices[r.URL.Query().Get("notice")], Note: a.cfg.HomeNote},
	})
}

// claimRow is one claim of a token, for a table.
type claimRow struct {
	Name, Value, Meaning string
	Note                 string // e.g. a time claim as a date
}

func (a *App) profile(w http.ResponseWriter, r *http.Request) {
	d, _ := a.session(r.Context())
	rows, pretty := claimRows(d.Claims)
	a.render(w, r, http.StatusOK, "profile", view{Title: "Profile", Nav: "profile", Data: struct {
		Claims []claimRow
		JSON   string
	}{rows, pretty}})
}

func userFrom(claims []byte) *user {
	var c struct {
		Sub               string `json:"sub"`
		Name              string `json:"name"`
		PreferredUsername string `json:"preferred_username"`
		Email             string `json:"email"`
		Username          string `json:"cognito:username"`
	}
	json.Unmarshal(claims, &c)
	u := &user{Subject: c.Sub, Email: c.Email}
	for _, n := range []string{c.Name, c.PreferredUsername, c.Username, c.Email, c.Sub} {
		if n != "" {
			u.Name = n
			break
		}
	}
	return u
}

// claimMeanings explain the claims a newcomer meets in ID and access
// tokens.
var claimMeanings = map[string]string{
	"iss":                "issuer: who made the token (compared exactly)",
	"sub":                "subject: the user (or machine client) the token is about",
	"aud":                "audience: who the token is for (the API for an access token, this app for an ID token)",
	"exp":                "expires at",
	"iat":                "issued at",
	"nbf":                "not valid before",
	"auth_time":          "when you signed in",
	"nonce":              "the random value this app sent at sign-in; checked to stop a replayed ID token",
	"at_hash":            "a hash of the access token issued with this ID token",
	"c_hash":             "a hash of the authorization code",
	"azp":                "authorized party: the client the token was issued to",
	"client_id":          "the client the token was issued to",
	"scope":              "what the token allows: the authorizer maps scopes to routes",
	"scp":                "scopes (Okta, Entra ID)",
	"jti":                "the token's unique id",
	"amr":                "how you authenticated (pwd: a password)",
	"sid":                "the provider's session id",
	"name":               "your name",
	"email":              "your email address",
	"email_verified":     "whether the provider checked the email address",
	"preferred_username": "your user name",
	"token_use":          "Cognito: access or id",
	"cognito:username":   "Cognito: the user name",
	"cognito:groups":     "Cognito: the user's groups",
	"username":           "the user name",
	"typ":                "the token type",
	"ver":                "the token format version",
	"tid":                "Entra ID: the tenant",
	"oid":                "Entra ID: the user's object id",
	"roles":              "app roles",
	"permissions":        "Auth0 RBAC permissions",
}

// timeClaims are shown as dates too.
var timeClaims = map[string]bool{"exp": true, "iat": true, "nbf": true, "auth_time": true}

// claimRows lists a JSON object's claims, sorted, and its indented form.
func claimRows(raw []byte) ([]claimRow, string) {
	var claims map[string]json.RawMessage
	if err := json.Unmarshal(raw, &claims); err != nil {
		return nil, ""
	}
	names := make([]string, 0, len(claims))
	for n := range claims {
		names = append(names, n)
	}
	sort.Strings(names)
	rows := make([]claimRow, 0, len(names))
	for _, n := range names {
		row := claimRow{Name: n, Value: compactValue(claims[n]), Meaning: claimMeanings[n]}
		if t, ok := unixTime(claims[n]); ok && timeClaims[n] {
			row.Note = t.UTC().Format("2006-01-02 15:04:05 UTC")
		}
		rows = append(rows, row)
	}
	return rows, indentJSON(raw)
}

// unixTime reads a NumericDate claim.
func unixTime(raw json.RawMessage) (time.Time, bool) {
	var secs json.Number
	if json.Unmarshal(raw, &secs) != nil {
		return time.Time{}, false
	}
	i, err := secs.Int64()
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(i, 0), true
}

// compactValue shows a string without quotes, anything else as JSON.
func compactValue(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) == nil {
		return buf.String()
	}
	return string(raw)
}

func indentJSON(raw []byte) string {
	var buf bytes.Buffer
	if json.Indent(&buf, raw, "", "  ") != nil {
		return string(raw)
	}
	return buf.String()
}

// humanDuration is "14m 32s", "2h 5m", "45s".
func humanDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case h > 0:
		return fmt.Sprintf("%dh %dm", h, m)
	case m > 0:
		return fmt.Sprintf("%dm %02ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}
