package authorizer

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// extractBearerToken returns the token of an Authorization value of the form
// "Bearer <token>": the scheme matched without regard to case, exactly one
// token without spaces or control characters after it (RFC 6750 b64token).
// Values over MaxTokenBytes are refused before anything else looks at them.
func extractBearerToken(header string) (string, error) {
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
	token = strings.Trim(token, " ")
	if token == "" || strings.ContainsFunc(token, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
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
