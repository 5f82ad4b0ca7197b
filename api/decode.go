package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// decodeNewPet reads and validates the body of POST /pets: a JSON object
// with exactly the fields type and price, sent as application/json, at most
// MaxBodyBytes. On failure it returns the status (415, 413 or 400) and the
// error to answer.
func decodeNewPet(r *http.Request, w http.ResponseWriter) (NewPet, int, *ErrorBody) {
	mediaType, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "application/json" || (params["charset"] != "" && !strings.EqualFold(params["charset"], "utf-8")) {
		return NewPet{}, http.StatusUnsupportedMediaType, &ErrorBody{Error: "Content-Type must be application/json"}
	}
	if r.ContentLength > MaxBodyBytes {
		return NewPet{}, http.StatusRequestEntityTooLarge, tooLarge
	}
	// The body is kept as it is read, for the duplicate-field check.
	var body bytes.Buffer
	dec := json.NewDecoder(io.TeeReader(http.MaxBytesReader(w, r.Body, MaxBodyBytes), &body))
	// A map, not a struct: encoding/json would match "TYPE" to a field
	// named Type, and the API accepts its field names exactly.
	var fields map[string]json.RawMessage
	if err := dec.Decode(&fields); err != nil {
		return NewPet{}, jsonErrorStatus(err), jsonError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		if status := jsonErrorStatus(err); status == http.StatusRequestEntityTooLarge {
			return NewPet{}, status, tooLarge
		}
		return NewPet{}, http.StatusBadRequest, &ErrorBody{Error: "request body must hold a single JSON object"}
	}
	if fields == nil { // the body was null
		return NewPet{}, http.StatusBadRequest, notAnObject
	}
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if name != "type" && name != "price" {
			name = shorten(name)
			return NewPet{}, http.StatusBadRequest, &ErrorBody{Error: "unknown field " + strconv.Quote(name), Field: name}
		}
	}
	// encoding/json keeps the last of two fields with one name; another
	// reader of the same body (a gateway's validator, a log pipeline) may
	// keep the first. Refused, so that all of them read one pet.
	if name, ok := duplicateField(body.Bytes()); ok {
		return NewPet{}, http.StatusBadRequest, &ErrorBody{Error: "duplicate field " + strconv.Quote(name), Field: name}
	}

	var n NewPet
	raw, ok := present(fields, "type")
	if !ok {
		return NewPet{}, http.StatusBadRequest, &ErrorBody{Error: "type is required", Field: "type"}
	}
	if json.Unmarshal(raw, &n.Type) != nil || !ValidPetType(n.Type) {
		return NewPet{}, http.StatusBadRequest, &ErrorBody{Error: "type must be one of " + petTypeList, Field: "type"}
	}
	raw, ok = present(fields, "price")
	if !ok {
		return NewPet{}, http.StatusBadRequest, &ErrorBody{Error: "price is required", Field: "price"}
	}
	if n.Price, err = parsePrice(raw); err != nil {
		return NewPet{}, http.StatusBadRequest, &ErrorBody{Error: err.Error(), Field: "price"}
	}
	return n, 0, nil
}

// duplicateField is a name that a JSON object (known to be valid) holds
// twice at its top level.
func duplicateField(object []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(object))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return "", false
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		name, ok := t.(string)
		if err != nil || !ok {
			return "", false
		}
		if seen[name] {
			return name, true
		}
		seen[name] = true
		var value json.RawMessage
		if dec.Decode(&value) != nil {
			return "", false
		}
	}
	return "", false
}

// shorten cuts a name the caller chose to at most 64 bytes (on a rune
// boundary) before it is echoed in an answer and its log line.
func shorten(name string) string {
	const limit = 64
	if len(name) <= limit {
		return name
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(name[cut]) {
		cut--
	}
	return name[:cut] + "..."
}

var (
	tooLarge    = &ErrorBody{Error: "request body is larger than 64 KiB"}
	notAnObject = &ErrorBody{Error: "request body must be a JSON object"}
)

// present returns a field that is there and not null.
func present(fields map[string]json.RawMessage, name string) (json.RawMessage, bool) {
	raw, ok := fields[name]
	return raw, ok && !bytes.Equal(raw, []byte("null"))
}

// parsePrice accepts a JSON number (not a string) that is positive, at most
// MaxPrice, and a whole number of cents. The cents check is exact: a
// float64 with at most two decimals is the float64 nearest to k/100 for an
// integer k, and k/100 rounds back to it.
func parsePrice(raw json.RawMessage) (float64, error) {
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return 0, errors.New("price must be a number")
	}
	// The decoder has checked the JSON number syntax; ParseFloat is fast
	// even for absurd exponents, which it reports as a range error.
	v, err := strconv.ParseFloat(string(raw), 64)
	switch {
	case err == nil && v <= 0, errors.Is(err, strconv.ErrRange) && raw[0] == '-':
		return 0, errors.New("price must be positive")
	case err != nil || v > MaxPrice:
		return 0, errors.New("price must be at most 1000000")
	case math.Round(v*100)/100 != v:
		return 0, errors.New("price must have at most two decimals")
	}
	return v, nil
}

// jsonErrorStatus is 413 for a body over the limit, 400 for anything else.
func jsonErrorStatus(err error) int {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

func jsonError(err error) *ErrorBody {
	var typeErr *json.UnmarshalTypeError
	switch {
	case jsonErrorStatus(err) == http.StatusRequestEntityTooLarge:
		return tooLarge
	case errors.Is(err, io.EOF), errors.As(err, &typeErr):
		return notAnObject
	default:
		return &ErrorBody{Error: "request body is not valid JSON"}
	}
}
