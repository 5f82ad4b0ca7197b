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

// tokenHash is the key of the verified-token cache.
type tokenHash [sha256.Size]byte

func hashToken(token string) tokenHash { return sha256.Sum256([]byte(token)) }

// short is what the logs show of a token: enough to correlate lines about
// the same token, useless to anyone who wants to replay it.
func (h tokenHash) short() string { return hex.EncodeToString(h[:6]) }
