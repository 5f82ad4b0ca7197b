package authorizer

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// ExtractBearerToken returns the token of an Authorization value of the form
// "Bearer <token>": the scheme matched without regard to case, exactly one
// space-free token after it. Values over MaxTokenBytes are refused before
// anything else looks at them.
func ExtractBearerToken(header string) (string, error) {
	if len(header) > MaxTokenBytes {
		return "", ErrOversized
	}
	if strings.TrimSpace(header) == "" {
		return "", ErrMissingToken
	}
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", ErrScheme
	}
	token = strings.Trim(token, " \t")
	if token == "" || strings.ContainsAny(token, " \t\r\n") {
		return "", ErrScheme
	}
	return token, nil
}

// fingerprint is what the logs show of a token: the first 12 hex digits of
// its SHA-256, enough to correlate lines about one token, useless to anyone
// who would replay it.
func fingerprint(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:6])
}
