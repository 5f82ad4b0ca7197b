package webclient

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// A console call is made by this server, with the session's access token:
// the browser sends a form, never sees the token (backend for frontend).
type consoleCall struct {
	Action, Title, Method, Path string
	Body                        []byte
	Auth                        authMode
}

type authMode int

const (
	withToken     authMode = iota
	withoutToken           // the "no token" demonstration
	tamperedToken          // the "tampered token" demonstration
)

// consoleData is the console page: the forms, with what was typed, and
// the last call's result.
type consoleData struct {
	PetID, PetType, PetPrice string
	Scopes                   []string
	Result                   *callResult
}

// callResult is one call as the page shows it.
type callResult struct {
	Title          string
	Method, URL    string
	RequestHeaders []header
	RequestBody    string
	Note           string // how the request was built (for the demonstrations)

	Status     int
	StatusText string
	Headers    []header
	Body       string
	AnsweredBy string
	Meaning    string
	Error      string // the API could not be reached
	Duration   string
}

type header struct{ Name, Value string }

// shownResponseHeaders are the response headers that explain an answer.
var shownResponseHeaders = []string{
	"Content-Type", "x-amzn-ErrorType", "x-amzn-RequestId", "WWW-Authenticate",
	"Access-Control-Allow-Origin", "Access-Control-Allow-Headers", "Access-Control-Expose-Headers",
	"Location", "X-Total-Count", "Link",
}

// maxShownBody bounds what is read of an API answer.
const maxShownBody = 64 << 10

// The console's forms start with a pet that exists and a valid new pet.
const (
	defaultPetID    = "1"
	defaultPetType  = "dog"
	defaultPetPrice = "249.99"
)

func (a *App) console(w http.ResponseWriter, r *http.Request) {
	data := consoleData{PetID: defaultPetID, PetType: defaultPetType, PetPrice: defaultPetPrice}
	if d, ok := a.session(r.Context()); ok {
		if jwt, err := decodeJWT(d.Tokens.AccessToken); err == nil {
			data.Scopes = jwt.scopes()
		}
	}
	a.render(w, r, http.StatusOK, "console", view{Title: "API console", Nav: "console", Data: data})
}

// consoleCall runs the call the form asks for and shows the console with
// its result.
func (a *App) consoleCall(w http.ResponseWriter, r *http.Request) {
	data := consoleData{
		PetID:    strings.TrimSpace(r.PostFormValue("pet_id")),
		PetType:  strings.TrimSpace(r.PostFormValue("type")),
		PetPrice: strings.TrimSpace(r.PostFormValue("price")),
	}
	action := r.PostFormValue("action")
	call, ok := a.buildCall(action, data)
	if !ok {
		a.renderError(w, r, http.StatusBadRequest, errorPage{Title: "Unknown action", Message: "The console has no such call.", Retry: "/console"})
		return
	}
	d, err := a.currentTokens(r.Context())
	if err != nil {
		a.tokenTrouble(w, r, err)
		return
	}
	if jwt, err := decodeJWT(d.Tokens.AccessToken); err == nil {
		data.Scopes = jwt.scopes()
	}
	data.Result = a.call(r.Context(), call, d.Tokens.AccessToken)
	// Each form sends only its own fields: the others show their defaults.
	if action != "get" {
		data.PetID = defaultPetID
	}
	if action != "create" {
		data.PetType, data.PetPrice = defaultPetType, defaultPetPrice
	}
	a.render(w, r, http.StatusOK, "console", view{Title: "API console", Nav: "console", Data: data})
}

func (a *App) buildCall(action string, form consoleData) (consoleCall, bool) {
	switch action {
	case "list":
		return consoleCall{Action: action, Title: "List pets", Method: http.MethodGet, Path: "/pets"}, true
	case "get":
		id := form.PetID
		if id == "" {
			id = defaultPetID
		}
		return consoleCall{Action: action, Title: "Get a pet", Method: http.MethodGet, Path: "/pets/" + url.PathEscape(id)}, true
	case "create":
		// The price goes as a number when it is one, else as the text typed,
		// so that the API's 400 can be seen.
		var price any = form.PetPrice
		if f, err := strconv.ParseFloat(form.PetPrice, 64); err == nil {
			price = json.Number(strconv.FormatFloat(f, 'f', -1, 64))
		}
		body, _ := json.Marshal(map[string]any{"type": form.PetType, "price": price})
		return consoleCall{Action: action, Title: "Create a pet", Method: http.MethodPost, Path: "/pets", Body: body}, true
	case "me":
		return consoleCall{Action: action, Title: "Who am I (to the API)?", Method: http.MethodGet, Path: "/me"}, true
	case "no-token":
		return consoleCall{Action: action, Title: "Call without a token", Method: http.MethodGet, Path: "/pets", Auth: withoutToken}, true
	case "tampered":
		return consoleCall{Action: action, Title: "Call with a tampered token", Method: http.MethodGet, Path: "/pets", Auth: tamperedToken}, true
	}
	return consoleCall{}, false
}

// call sends the request to the API and describes what happened.
func (a *App) call(ctx context.Context, c consoleCall, accessToken string) *callResult {
	res := &callResult{Title: c.Title, Method: c.Method, URL: strings.TrimRight(a.cfg.APIURL, "/") + c.Path}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, c.Method, res.URL, bytes.NewReader(c.Body))
	if err != nil {
		res.Error = "The request could not be built: " + err.Error()
		return res
	}
	token := accessToken
	switch c.Auth {
	case withoutToken:
		token = ""
		res.Note = "No Authorization header at all."
	case tamperedToken:
		token = tamper(accessToken)
		res.Note = "Your access token with its claims edited after signing (scope set to \"pets:read pets:write admin\"); the header and signature are the original ones."
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
		res.RequestHeaders = append(res.RequestHeaders, header{"Authorization", "Bearer " + shorten(token)})
	}
	if c.Body != nil {
		req.Header.Set("Content-Type", "application/json")
		res.RequestHeaders = append(res.RequestHeaders, header{"Content-Type", "application/json"})
		res.RequestBody = string(c.Body)
	}
	req.Header.Set("Accept", "application/json")

	start := time.Now()
	resp, err := a.apiClient().Do(req)
	res.Duration = fmt.Sprintf("%.1f ms", float64(time.Since(start).Microseconds())/1000)
	if err != nil {
		res.Error = "The API at " + a.cfg.APIURL + " could not be reached: " + errorText(err) + ". Check API_URL and that the API is deployed (or the local stack running)."
		a.log.Warn("api call failed", slog.String("action", c.Action), slog.String("error", errorText(err)))
		return res
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxShownBody))
	res.Status, res.StatusText = resp.StatusCode, http.StatusText(resp.StatusCode)
	for _, name := range shownResponseHeaders {
		if v := resp.Header.Values(name); len(v) > 0 {
			res.Headers = append(res.Headers, header{name, strings.Join(v, ", ")})
		}
	}
	res.Body = displayBody(body)
	errorType := resp.Header.Get("x-amzn-ErrorType")
	res.AnsweredBy, res.Meaning = explain(c, resp.StatusCode, errorType)
	a.log.Info("api call", slog.String("action", c.Action), slog.String("method", c.Method), slog.String("path", c.Path),
		slog.Int("status", resp.StatusCode), slog.String("error_type", errorType), slog.String("request_id", resp.Header.Get("x-amzn-RequestId")))
	return res
}

// apiClient is the configured client, but showing redirects instead of
// following them.
func (a *App) apiClient() *http.Client {
	c := *a.cfg.HTTPClient
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// shorten shows the start of a token and its length: enough to recognise
// a JWT (eyJ...), never enough to use it.
func shorten(token string) string {
	const keep = 12
	if len(token) <= keep {
		return strings.Repeat("•", len(token))
	}
	return token[:keep] + "… (" + strconv.Itoa(len(token)) + " characters)"
}

// tamper edits a JWT's claims without re-signing it: what an attacker who
// wanted more rights would try. A token that is not a JWT gets its last
// character changed.
func tamper(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) == 3 {
		if raw, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil {
			var claims map[string]any
			if json.Unmarshal(raw, &claims) == nil {
				claims["scope"] = "pets:read pets:write admin"
				if b, err := json.Marshal(claims); err == nil {
					parts[1] = base64.RawURLEncoding.EncodeToString(b)
					return strings.Join(parts, ".")
				}
			}
		}
	}
	if token == "" {
		return "x"
	}
	last := token[len(token)-1]
	if last == 'A' {
		last = 'B'
	} else {
		last = 'A'
	}
	return token[:len(token)-1] + string(last)
}

// explain says who answered and what the status means in this sample.
func explain(c consoleCall, status int, errorType string) (answeredBy, meaning string) {
	answeredBy = "the PetStore API (the gateway and the authorizer let the request through)"
	if errorType != "" {
		answeredBy = "API Gateway itself (" + errorType + "): the request never reached the PetStore"
	}
	switch {
	case status == http.StatusOK:
		meaning = "OK: the authorizer verified the token (signature, issuer, audience, expiry), its policy allows this route for your scopes, and the PetStore answered."
	case status == http.StatusCreated:
		meaning = "Created: your token has pets:write, so the authorizer's policy allows POST /pets, and the PetStore stored the pet (Location says where to read it)."
	case status == http.StatusBadRequest:
		meaning = "Bad request: the token was fine, but the PetStore refused the input; the body names the field at fault."
	case status == http.StatusUnauthorized && c.Auth == withoutToken:
		meaning = "Unauthorized: there was no Authorization header, so API Gateway refused the request without even calling the authorizer."
	case status == http.StatusUnauthorized && c.Auth == tamperedToken:
		meaning = "Unauthorized: the authorizer checked the signature with the provider's public keys (JWKS); the claims were changed after signing, so the signature no longer matches and the token is refused. Nobody can grant themselves scopes."
	case status == http.StatusUnauthorized:
		meaning = "Unauthorized: the token itself was refused (missing, malformed, expired, bad signature, wrong issuer or audience). The authorizer's log has the exact reason."
	case status == http.StatusForbidden:
		meaning = "Forbidden: the token is valid, but the authorizer's policy denies this route for its scopes (POST /pets needs pets:write, which a read-only user such as bob lacks)."
	case status == http.StatusNotFound:
		meaning = "Not found: the token was fine and the PetStore looked, but there is no such pet (or no such route)."
	case status == http.StatusInternalServerError && errorType != "":
		meaning = "Server error in the authorizer: it failed or answered something API Gateway could not use (" + errorType + "). Its log says why."
	case status == http.StatusInternalServerError:
		meaning = "Server error in the PetStore: the token was accepted, but the API failed. Its log says why."
	case status >= 500:
		meaning = "The gateway or the API failed (" + strconv.Itoa(status) + "); see the body and x-amzn-ErrorType."
	default:
		meaning = "An answer this sample does not expect (" + strconv.Itoa(status) + "); see the body."
	}
	return answeredBy, meaning
}

// displayBody is a JSON body indented for reading, every one the same
// way, short or long; any other body as received.
func displayBody(body []byte) string {
	return indentJSON(body)
}
