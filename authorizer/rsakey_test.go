package authorizer

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	_ "crypto/sha512" // SHA-384 and SHA-512 for crypto.Hash.New
	"encoding/base64"
	"math/big"
	"strings"
	"sync"
	"testing"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"

	"github.com/example/petstore-oidc/internal/testissuer"
)

var (
	rsaTestKeysOnce sync.Once
	rsaTestKeys     []*rsa.PrivateKey
)

// testRSAKeys are keys of 2048 bits, of 2050 bits (a modulus that does not
// fill its last byte) and of 3072 bits.
func testRSAKeys(t testing.TB) []*rsa.PrivateKey {
	rsaTestKeysOnce.Do(func() {
		rsaTestKeys = append(rsaTestKeys, testissuer.Key(t, "key-a"))
		for _, bits := range []int{2050, 3072} {
			k, err := rsa.GenerateKey(rand.Reader, bits)
			if err != nil {
				panic(err)
			}
			rsaTestKeys = append(rsaTestKeys, k)
		}
	})
	return rsaTestKeys
}

var rsaTestHashes = []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512}

func mustRSAKey(t testing.TB, pub *rsa.PublicKey) *rsaKey {
	t.Helper()
	k, err := newRSAKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func hashOf(h crypto.Hash, msg []byte) []byte {
	d := h.New()
	d.Write(msg)
	return d.Sum(nil)
}

// FuzzRSAKeyAgreesWithCryptoRSA: for any message, signature, key and hash,
// the prepared key accepts exactly what crypto/rsa.VerifyPKCS1v15 accepts.
// An empty sig stands for a real signature of msg, with the byte at flip
// (if any) changed, so that the fuzzer explores near-valid signatures too.
func FuzzRSAKeyAgreesWithCryptoRSA(f *testing.F) {
	keys := testRSAKeys(f)
	prepared := make([]*rsaKey, len(keys))
	for i, k := range keys {
		prepared[i] = mustRSAKey(f, &k.PublicKey)
	}
	f.Add([]byte("header.payload"), []byte{}, uint8(0), uint16(0))
	f.Add([]byte("header.payload"), []byte{}, uint8(1), uint16(0x0101))
	f.Add([]byte("header.payload"), []byte{}, uint8(6), uint16(0x80ff))
	f.Add([]byte("x"), bytes.Repeat([]byte{0xff}, 256), uint8(0), uint16(0))
	f.Add([]byte("x"), make([]byte, 256), uint8(0), uint16(0))
	f.Add([]byte("x"), []byte{1}, uint8(2), uint16(0))
	f.Fuzz(func(t *testing.T, msg, sig []byte, sel uint8, flip uint16) {
		i := int(sel) % len(keys)
		key, h := keys[i], rsaTestHashes[int(sel)/len(keys)%len(rsaTestHashes)]
		hashed := hashOf(h, msg)
		if len(sig) == 0 {
			var err error
			if sig, err = rsa.SignPKCS1v15(nil, key, h, hashed); err != nil {
				t.Fatal(err)
			}
			if flip != 0 {
				sig[int(flip)%len(sig)] ^= byte(flip>>8) | 1
			}
		}
		want := rsa.VerifyPKCS1v15(&key.PublicKey, h, hashed, sig) == nil
		if got := prepared[i].verifyPKCS1v15(h, hashed, sig) == nil; got != want {
			t.Fatalf("key %d, %v, sig %x: prepared key says %v, crypto/rsa says %v", i, h, sig, got, want)
		}
	})
}

// rawSign is the RSA private operation on an arbitrary block: a
// "signature" of an encoded message that no signer would produce, to hand
// the verifier forged encodings.
func rawSign(k *rsa.PrivateKey, em []byte) []byte {
	s := new(big.Int).Exp(new(big.Int).SetBytes(em), k.D, k.N)
	return s.FillBytes(make([]byte, k.Size()))
}

// TestRSAKeyRefusesForgedEncodings: signatures whose encoded message is not
// exactly 00 01 FF..FF 00 DigestInfo hash (the forms lax PKCS#1 v1.5
// parsers have accepted, Bleichenbacher 2006 and after) are refused, as
// crypto/rsa refuses them; the well-formed one is accepted by both.
func TestRSAKeyRefusesForgedEncodings(t *testing.T) {
	key := testRSAKeys(t)[0]
	prepared := mustRSAKey(t, &key.PublicKey)
	hashed := hashOf(crypto.SHA256, []byte("header.payload"))
	prefix := digestInfoPrefixes[crypto.SHA256]
	size := key.Size()
	encode := func(blockType byte, psLen int, prefix, hashed, trailer []byte) []byte {
		em := []byte{0x00, blockType}
		em = append(em, bytes.Repeat([]byte{0xff}, psLen)...)
		em = append(em, 0x00)
		em = append(em, prefix...)
		em = append(em, hashed...)
		return append(em, trailer...)
	}
	fullPS := size - 3 - len(prefix) - len(hashed)
	sha1Prefix := []byte{0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14}
	noNull := []byte{0x30, 0x2f, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x04, 0x20}
	psWithZero := encode(0x01, fullPS, prefix, hashed, nil)
	psWithZero[5] = 0x00
	noSeparator := encode(0x01, fullPS+1, prefix, hashed, nil)
	noSeparator = append(noSeparator[:2+fullPS], noSeparator[3+fullPS:]...)
	noSeparator = append([]byte{0x00, 0x01, 0xff}, noSeparator[2:]...)
	valid := rawSign(key, encode(0x01, fullPS, prefix, hashed, nil))
	overN := new(big.Int).Add(new(big.Int).SetBytes(valid), key.N)

	cases := []struct {
		name string
		sig  []byte
		ok   bool
	}{
		{"well formed", valid, true},
		{"block type 2", rawSign(key, encode(0x02, fullPS, prefix, hashed, nil)), false},
		{"garbage after the hash (short padding)", rawSign(key, encode(0x01, 8, prefix, hashed, bytes.Repeat([]byte{0x42}, fullPS-8))), false},
		{"a zero inside the padding", rawSign(key, psWithZero), false},
		{"no zero after the padding", rawSign(key, noSeparator), false},
		{"SHA-1 DigestInfo", rawSign(key, encode(0x01, size-3-len(sha1Prefix)-20, sha1Prefix, hashed[:20], nil)), false},
		{"DigestInfo without NULL parameters", rawSign(key, encode(0x01, size-3-len(noNull)-len(hashed), noNull, hashed, nil)), false},
		{"another hash", rawSign(key, encode(0x01, fullPS, prefix, hashOf(crypto.SHA256, []byte("other")), nil)), false},
		{"signature plus the modulus", overN.FillBytes(make([]byte, size+1))[1:], false},
		{"one byte short", valid[1:], false},
		{"one byte long", append([]byte{0}, valid...), false},
		{"zero", make([]byte, size), false},
		{"one", append(make([]byte, size-1), 1), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			std := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, hashed, c.sig) == nil
			got := prepared.verifyPKCS1v15(crypto.SHA256, hashed, c.sig) == nil
			if got != c.ok || std != c.ok {
				t.Fatalf("prepared key accepts: %v, crypto/rsa accepts: %v, want %v", got, std, c.ok)
			}
		})
	}
	if err := prepared.verifyPKCS1v15(crypto.SHA1, hashed[:20], valid); err == nil {
		t.Fatal("a hash other than SHA-256/384/512 was accepted")
	}
	if err := prepared.verifyPKCS1v15(crypto.SHA256, hashed[:31], valid); err == nil {
		t.Fatal("a digest of the wrong length was accepted")
	}
}

// TestNewRSAKeyRefusesWhatCryptoRSARefuses: the key checks crypto/rsa makes
// before each verification are made once, when the key is loaded, and a
// key under 2048 bits is never used.
func TestNewRSAKeyRefusesWhatCryptoRSARefuses(t *testing.T) {
	good := testRSAKeys(t)[0].PublicKey
	with := func(n *big.Int, e int) *rsa.PublicKey { return &rsa.PublicKey{N: n, E: e} }
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	for name, pub := range map[string]*rsa.PublicKey{
		"nil":                 nil,
		"no modulus":          with(nil, 65537),
		"zero modulus":        with(new(big.Int), 65537),
		"negative modulus":    with(new(big.Int).Neg(good.N), 65537),
		"even modulus":        with(new(big.Int).Add(good.N, big.NewInt(1)), 65537),
		"1024 bits":           &small.PublicKey,
		"exponent 1":          with(good.N, 1),
		"even exponent":       with(good.N, 65536),
		"exponent over 2³¹-1": with(good.N, 1<<31+1),
		"negative exponent":   with(good.N, -65537),
	} {
		if _, err := newRSAKey(pub); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for _, e := range []int{3, 65537, 1<<31 - 1} {
		if _, err := newRSAKey(with(good.N, e)); err != nil {
			t.Errorf("exponent %d: %v", e, err)
		}
	}
}

// TestEveryAlgorithmVerifiesThroughItsKey: a key loaded from a JWKS (without
// an alg, so that it may serve several) verifies each algorithm it can:
// RS256, RS384 and RS512 through the prepared RSA key, PS256, ES256 and
// EdDSA through golang-jwt; a changed signing input fails each.
func TestEveryAlgorithmVerifiesThroughItsKey(t *testing.T) {
	rsaPriv := testissuer.Key(t, "key-a")
	ecPriv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edPub, edPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		method    jwt.SigningMethod
		priv, pub any
	}{
		{jwt.SigningMethodRS256, rsaPriv, &rsaPriv.PublicKey},
		{jwt.SigningMethodRS384, rsaPriv, &rsaPriv.PublicKey},
		{jwt.SigningMethodRS512, rsaPriv, &rsaPriv.PublicKey},
		{jwt.SigningMethodPS256, rsaPriv, &rsaPriv.PublicKey},
		{jwt.SigningMethodES256, ecPriv, &ecPriv.PublicKey},
		{jwt.SigningMethodEdDSA, edPriv, edPub},
	}
	for _, c := range cases {
		t.Run(c.method.Alg(), func(t *testing.T) {
			jwk, err := jwkset.NewJWKFromKey(c.pub, jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: "k", USE: jwkset.UseSig}})
			if err != nil {
				t.Fatal(err)
			}
			k, ok := usableKey(jwk.Marshal())
			if !ok {
				t.Fatal("key not usable")
			}
			if _, isRSA := c.pub.(*rsa.PublicKey); isRSA != (k.rsa != nil) {
				t.Fatalf("prepared RSA key: %v, want %v", k.rsa != nil, isRSA)
			}
			if _, err := k.check(c.method.Alg()); err != nil {
				t.Fatal(err)
			}
			s, err := jwt.NewWithClaims(c.method, jwt.MapClaims{"sub": "x"}).SignedString(c.priv)
			if err != nil {
				t.Fatal(err)
			}
			parts := strings.Split(s, ".")
			sig, err := base64.RawURLEncoding.DecodeString(parts[2])
			if err != nil {
				t.Fatal(err)
			}
			signed := parts[0] + "." + parts[1]
			if err := k.verify(c.method, signed, sig); err != nil {
				t.Fatalf("valid signature refused: %v", err)
			}
			if err := k.verify(c.method, signed+"A", sig); err == nil {
				t.Fatal("signature accepted for another signing input")
			}
		})
	}
}
