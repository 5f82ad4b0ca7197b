package authorizer

import (
	"crypto"
	"crypto/rsa"
	"crypto/subtle"
	"errors"

	"filippo.io/bigmod"
)

// rsaKey is an RSA public key of the JWKS, prepared once, when the JWKS is
// loaded, for RSASSA-PKCS1-v1_5 verification (RS256, RS384, RS512).
//
// Why this is not crypto/rsa.VerifyPKCS1v15: that function rebuilds the
// modulus' Montgomery constants (R² mod N) on every call, a third of each
// verification, and offers no way to keep them; OpenSSL, BoringSSL and ring
// keep them with the key, as this type does. The arithmetic is
// filippo.io/bigmod, crypto/rsa's own big-number code published by its
// author. This file only checks the key as crypto/rsa does and builds and
// compares the encoded message as RFC 8017 section 8.2.2 prescribes: the
// expected block is built from the hash and compared whole, nothing of the
// signature's block is parsed. FuzzRSAKeyAgreesWithCryptoRSA,
// TestRSAKeyRefusesForgedEncodings and TestRSAKeySignatureLength hold it to
// crypto/rsa's answers. Every
// other algorithm, and RS256 too in FIPS 140 mode (GODEBUG=fips140=on),
// goes through golang-jwt and the standard library as they stand.
type rsaKey struct {
	n *bigmod.Modulus
	e uint
}

// minRSABits is the smallest RSA key the authorizer uses (NIST SP 800-131A).
const minRSABits = 2048

// newRSAKey checks pub as crypto/rsa checks a key before verifying with it
// (odd modulus; odd exponent from 3 to 2³¹-1), and refuses keys under
// minRSABits.
func newRSAKey(pub *rsa.PublicKey) (*rsaKey, error) {
	switch {
	case pub == nil || pub.N == nil || pub.N.Sign() <= 0:
		return nil, errors.New("rsa: no modulus")
	case pub.N.Bit(0) == 0:
		return nil, errors.New("rsa: even modulus")
	case pub.N.BitLen() < minRSABits:
		return nil, errors.New("rsa: key under 2048 bits")
	case pub.E < 3 || pub.E&1 == 0 || pub.E > 1<<31-1:
		return nil, errors.New("rsa: public exponent out of range")
	}
	n, err := bigmod.NewModulus(pub.N.Bytes())
	if err != nil {
		return nil, err
	}
	return &rsaKey{n: n, e: uint(pub.E)}, nil
}

var errRSAVerification = errors.New("rsa: verification error")

// digestInfoPrefixes are the DER encodings of DigestInfo up to the hash
// value (RFC 8017 section 9.2, note 1).
var digestInfoPrefixes = map[crypto.Hash][]byte{
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA384: {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	crypto.SHA512: {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
}

// verifyPKCS1v15 reports whether sig is k's RSASSA-PKCS1-v1_5 signature of
// a message whose digest by h is hashed (RFC 8017 section 8.2.2).
func (k *rsaKey) verifyPKCS1v15(h crypto.Hash, hashed, sig []byte) error {
	prefix, ok := digestInfoPrefixes[h]
	if !ok || len(hashed) != h.Size() {
		return errRSAVerification
	}
	size := k.n.Size()
	// Step 1: the signature is exactly as long as the modulus.
	if len(sig) != size || size < len(prefix)+len(hashed)+11 {
		return errRSAVerification
	}
	// Step 2: s < n (SetBytes refuses anything else), m = s^e mod n.
	s, err := bigmod.NewNat().SetBytes(sig, k.n)
	if err != nil {
		return errRSAVerification
	}
	em := bigmod.NewNat().ExpShortVarTime(s, k.e, k.n).Bytes(k.n)
	// Steps 3 and 4: EM' = 0x00 || 0x01 || 0xff... || 0x00 || DigestInfo ||
	// hash, compared with EM as a whole.
	want := make([]byte, size)
	want[1] = 0x01
	t := len(prefix) + len(hashed)
	for i := 2; i < size-t-1; i++ {
		want[i] = 0xff
	}
	copy(want[size-t:], prefix)
	copy(want[size-len(hashed):], hashed)
	if subtle.ConstantTimeCompare(em, want) != 1 {
		return errRSAVerification
	}
	return nil
}
