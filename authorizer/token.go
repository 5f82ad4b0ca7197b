package authorizer

import (
	"crypto"
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
	token = strings.Trim(token, " ")
	if token == "" || hasSpaceOrControl(token) {
		return "", ErrScheme
	}
	return token, nil
}

// hasSpaceOrControl reports a space or an ASCII control character, which no
// token may contain (RFC 6750 b64token). A plain loop: this runs on every
// request, and strings.ContainsAny costs three times as much.
func hasSpaceOrControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// tokenDigest is a token's SHA-256: the verified-token cache's key, and,
// shortened, what the logs show of the token.
type tokenDigest [sha256.Size]byte

func digest(token string) tokenDigest {
	h := sha256.New()
	inPieces(token, func(b []byte) { h.Write(b) })
	var sum tokenDigest
	h.Sum(sum[:0])
	return sum
}

// hashString is the digest of s by h.
func hashString(h crypto.Hash, s string) []byte {
	if h == crypto.SHA256 { // RS256, the usual case: no allocation for s
		d := digest(s)
		return d[:]
	}
	hh := h.New()
	inPieces(s, func(b []byte) { hh.Write(b) })
	return hh.Sum(nil)
}

// inPieces hands s to write in pieces held in a buffer on the stack, for a
// hash: h.Write([]byte(s)) would first copy all of s to the heap, which for
// a token costs more than hashing it.
func inPieces(s string, write func([]byte)) {
	var chunk [256]byte
	for len(s) > 0 {
		n := copy(chunk[:], s)
		write(chunk[:n])
		s = s[n:]
	}
}

// fingerprint is what the logs show of a token: the first 12 hex digits of
// its SHA-256, enough to correlate lines about one token, useless to anyone
// who would replay it.
func (d tokenDigest) fingerprint() string { return hex.EncodeToString(d[:6]) }
