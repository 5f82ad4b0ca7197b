package authorizer

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/fips140"
	"crypto/rand"
	"crypto/rsa"
	_ "crypto/sha512" // SHA-384 and SHA-512 for crypto.Hash.New
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
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
	rsaTestKeysErr  error
)

// testRSAKeys are the fixed test keys of testdata/rsa-test-keys.pem: 2048
// bits, 2050 bits (a modulus whose first byte is 0x02 or 0x03, so that
// signatures one byte short or long still fit it) and 3072 bits. Fixed, so
// that a failing fuzz input saved in testdata replays.
func testRSAKeys(t testing.TB) []*rsa.PrivateKey {
	t.Helper()
	rsaTestKeysOnce.Do(func() {
		rest, err := os.ReadFile("testdata/rsa-test-keys.pem")
		if err != nil {
			rsaTestKeysErr = err
			return
		}
		for {
			var block *pem.Block
			if block, rest = pem.Decode(rest); block == nil {
				break
			}
			k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
			if err != nil {
				rsaTestKeysErr = err
				return
			}
			rsaTestKeys = append(rsaTestKeys, k)
		}
	})
	if rsaTestKeysErr != nil || len(rsaTestKeys) != 3 || rsaTestKeys[1].N.BitLen() != 2050 {
		t.Fatalf("testdata/rsa-test-keys.pem: %d keys, %v", len(rsaTestKeys), rsaTestKeysErr)
	}
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

// rawSign is the RSA private operation on an arbitrary block em < N: the
// "signature" of an encoded message no signer would produce, to hand the
// verifiers forged encodings. It uses the key's CRT values, as crypto/rsa
// does, to stay fast enough for fuzzing.
func rawSign(k *rsa.PrivateKey, em []byte) []byte {
	c := new(big.Int).SetBytes(em)
	p, q := k.Primes[0], k.Primes[1]
	m1 := new(big.Int).Exp(c, k.Precomputed.Dp, p)
	m2 := new(big.Int).Exp(c, k.Precomputed.Dq, q)
	h := m1.Sub(m1, m2)
	h.Mul(h, k.Precomputed.Qinv).Mod(h, p)
	s := h.Mul(h, q).Add(h, m2)
	return s.FillBytes(make([]byte, k.Size()))
}

// encodePKCS1v15 builds 00 01 FF..FF 00 prefix hashed trailer, psLen bytes
// of FF: with the right lengths, the block RFC 8017 9.2 prescribes.
func encodePKCS1v15(blockType byte, psLen int, prefix, hashed, trailer []byte) []byte {
	em := []byte{0x00, blockType}
	em = append(em, bytes.Repeat([]byte{0xff}, psLen)...)
	em = append(em, 0x00)
	em = append(em, prefix...)
	em = append(em, hashed...)
	return append(em, trailer...)
}

// agree fails the test unless the prepared key and crypto/rsa give the same
// answer, and returns it.
func agree(t *testing.T, key *rsa.PrivateKey, prepared *rsaKey, h crypto.Hash, hashed, sig []byte) bool {
	t.Helper()
	want := rsa.VerifyPKCS1v15(&key.PublicKey, h, hashed, sig) == nil
	if got := prepared.verifyPKCS1v15(h, hashed, sig) == nil; got != want {
		t.Fatalf("%d-bit key, %v, sig %x: prepared key accepts: %v, crypto/rsa: %v", key.N.BitLen(), h, sig, got, want)
	}
	return want
}

// FuzzRSAKeyAgreesWithCryptoRSA: the prepared key accepts exactly what
// crypto/rsa.VerifyPKCS1v15 accepts, for the three test keys and SHA-256,
// SHA-384 and SHA-512. Three kinds of input, chosen by mode:
//
//   - 0: a real signature of msg, with the byte at flip (if any) changed;
//     the same signature with a zero byte in front, or, when it starts
//     with one, without it, must be refused by both;
//   - 1: block, a forged encoded message, is signed raw (rawSign), so the
//     fuzzer explores malformed paddings and DigestInfos that a random
//     signature would almost never decrypt to; the seeds are well-formed
//     blocks for it to mutate;
//   - 2: block is taken as the signature itself.
//
// It finds any difference in what the two accept; it cannot find a flaw
// both share.
func FuzzRSAKeyAgreesWithCryptoRSA(f *testing.F) {
	keys := testRSAKeys(f)
	prepared := make([]*rsaKey, len(keys))
	for i, k := range keys {
		prepared[i] = mustRSAKey(f, &k.PublicKey)
	}
	msg := []byte("header.payload")
	for i, key := range keys {
		for j, h := range rsaTestHashes {
			sel := uint8(i + len(keys)*j)
			prefix, hashed := digestInfoPrefixes[h], hashOf(h, msg)
			block := encodePKCS1v15(0x01, key.Size()-3-len(prefix)-len(hashed), prefix, hashed, nil)
			f.Add(uint8(0), sel, msg, []byte(nil), uint16(0))
			f.Add(uint8(0), sel, msg, []byte(nil), uint16(0x0101))
			f.Add(uint8(1), sel, msg, block, uint16(0))
			f.Add(uint8(2), sel, msg, bytes.Repeat([]byte{0xff}, key.Size()), uint16(0))
		}
	}
	f.Fuzz(func(t *testing.T, mode, sel uint8, msg, block []byte, flip uint16) {
		i := int(sel) % len(keys)
		key, h := keys[i], rsaTestHashes[int(sel)/len(keys)%len(rsaTestHashes)]
		hashed := hashOf(h, msg)
		switch mode % 3 {
		case 0:
			sig, err := rsa.SignPKCS1v15(nil, key, h, hashed)
			if err != nil {
				t.Fatal(err)
			}
			if flip != 0 {
				sig[int(flip)%len(sig)] ^= byte(flip>>8) | 1
			}
			agree(t, key, prepared[i], h, hashed, sig)
			if agree(t, key, prepared[i], h, hashed, append([]byte{0}, sig...)) {
				t.Fatal("a signature one byte long was accepted")
			}
			if sig[0] == 0 && agree(t, key, prepared[i], h, hashed, sig[1:]) {
				t.Fatal("a signature one byte short was accepted")
			}
		case 1:
			em := make([]byte, key.Size())
			copy(em, block)
			if new(big.Int).SetBytes(em).Cmp(key.N) >= 0 {
				return // no signature decrypts to a block of N or more
			}
			agree(t, key, prepared[i], h, hashed, rawSign(key, em))
		case 2:
			agree(t, key, prepared[i], h, hashed, block)
		}
	})
}

// TestRSAKeyRefusesForgedEncodings: signatures whose encoded message is not
// exactly 00 01 FF..FF 00 DigestInfo hash (the forms lax PKCS#1 v1.5
// parsers have accepted, Bleichenbacher 2006 and after) are refused, as
// crypto/rsa refuses them, with every test key and hash; the well-formed
// one is accepted by both.
func TestRSAKeyRefusesForgedEncodings(t *testing.T) {
	sha1Prefix := []byte{0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14}
	for _, key := range testRSAKeys(t) {
		prepared := mustRSAKey(t, &key.PublicKey)
		size := key.Size()
		for _, h := range rsaTestHashes {
			hashed := hashOf(h, []byte("header.payload"))
			prefix := digestInfoPrefixes[h]
			psLen := size - 3 - len(prefix) - len(hashed)
			// The DigestInfo with its NULL parameters left out (a second
			// DER form some parsers accept): two bytes shorter.
			noNull := append([]byte{prefix[0], prefix[1] - 2, prefix[2], prefix[3] - 2}, prefix[4:15]...)
			noNull = append(noNull, prefix[17:]...)
			valid := rawSign(key, encodePKCS1v15(0x01, psLen, prefix, hashed, nil))
			zeroInPadding := encodePKCS1v15(0x01, psLen, prefix, hashed, nil)
			zeroInPadding[5] = 0x00
			noSeparator := append([]byte{0x00, 0x01}, bytes.Repeat([]byte{0xff}, psLen+1)...)
			noSeparator = append(append(noSeparator, prefix...), hashed...)
			cases := []struct {
				name string
				sig  []byte
				ok   bool
			}{
				{"well formed", valid, true},
				{"block type 2", rawSign(key, encodePKCS1v15(0x02, psLen, prefix, hashed, nil)), false},
				{"garbage after the hash (short padding)", rawSign(key, encodePKCS1v15(0x01, 8, prefix, hashed, bytes.Repeat([]byte{0x42}, psLen-8))), false},
				{"a zero inside the padding", rawSign(key, zeroInPadding), false},
				{"no zero after the padding", rawSign(key, noSeparator), false},
				{"SHA-1 DigestInfo", rawSign(key, encodePKCS1v15(0x01, size-3-len(sha1Prefix)-20, sha1Prefix, hashed[:20], nil)), false},
				{"DigestInfo without NULL parameters", rawSign(key, encodePKCS1v15(0x01, psLen+2, noNull, hashed, nil)), false},
				{"another message", rawSign(key, encodePKCS1v15(0x01, psLen, prefix, hashOf(h, []byte("other")), nil)), false},
				{"zero", make([]byte, size), false},
				{"one", append(make([]byte, size-1), 1), false},
				{"N-1", new(big.Int).Sub(key.N, big.NewInt(1)).FillBytes(make([]byte, size)), false},
			}
			for _, c := range cases {
				t.Run(fmt.Sprintf("%d/%v/%s", key.N.BitLen(), h, c.name), func(t *testing.T) {
					if got := agree(t, key, prepared, h, hashed, c.sig); got != c.ok {
						t.Fatalf("both accept: %v, want %v", got, c.ok)
					}
				})
			}
		}
	}
	if err := mustRSAKey(t, &testRSAKeys(t)[0].PublicKey).verifyPKCS1v15(crypto.SHA1, make([]byte, 20), make([]byte, 256)); err == nil {
		t.Fatal("a hash other than SHA-256/384/512 was accepted")
	}
}

// TestRSAKeySignatureLength: with the 2050-bit key (257-byte signatures,
// modulus under 2^2051), a valid signature one byte short, one byte long,
// or plus the modulus (the same number modulo N, but not under N) fits the
// big-number arithmetic; only RFC 8017's length and range checks refuse
// it, in both verifiers.
func TestRSAKeySignatureLength(t *testing.T) {
	key := testRSAKeys(t)[1]
	prepared := mustRSAKey(t, &key.PublicKey)
	h := crypto.SHA256
	var hashed, sig []byte
	for i := 0; sig == nil || sig[0] != 0; i++ { // a signature whose first byte is 0
		hashed = hashOf(h, []byte(fmt.Sprint("message ", i)))
		var err error
		if sig, err = rsa.SignPKCS1v15(nil, key, h, hashed); err != nil {
			t.Fatal(err)
		}
	}
	if !agree(t, key, prepared, h, hashed, sig) {
		t.Fatal("the valid signature was refused")
	}
	overN := new(big.Int).Add(new(big.Int).SetBytes(sig), key.N)
	if overN.BitLen() > 8*len(sig) {
		t.Fatalf("%d-bit key: s+N does not fit %d bytes", key.N.BitLen(), len(sig))
	}
	for name, forged := range map[string][]byte{
		"one byte short":     sig[1:],
		"one byte long":      append([]byte{0}, sig...),
		"plus the modulus":   overN.FillBytes(make([]byte, len(sig))),
		"two bytes long":     append([]byte{0, 0}, sig...),
		"empty":              {},
		"the modulus itself": key.N.FillBytes(make([]byte, len(sig))),
	} {
		if agree(t, key, prepared, h, hashed, forged) {
			t.Errorf("%s: accepted", name)
		}
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
// RS256, RS384 and RS512 through the prepared RSA key (golang-jwt and
// crypto/rsa in FIPS 140 mode), PS256, ES256 and EdDSA through golang-jwt;
// a changed signing input fails each.
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
		prepared  bool
	}{
		{jwt.SigningMethodRS256, rsaPriv, &rsaPriv.PublicKey, true},
		{jwt.SigningMethodRS384, rsaPriv, &rsaPriv.PublicKey, true},
		{jwt.SigningMethodRS512, rsaPriv, &rsaPriv.PublicKey, true},
		{jwt.SigningMethodPS256, rsaPriv, &rsaPriv.PublicKey, false},
		{jwt.SigningMethodES256, ecPriv, &ecPriv.PublicKey, false},
		{jwt.SigningMethodEdDSA, edPriv, edPub, false},
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
			if _, err := k.check(c.method.Alg()); err != nil {
				t.Fatal(err)
			}
			if _, got := k.prepared(c.method); got != (c.prepared && !fips140.Enabled()) {
				t.Fatalf("prepared RSA key used: %v (FIPS 140 mode: %v)", got, fips140.Enabled())
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

// TestFIPS140ModeUsesCryptoRSA runs TestEveryAlgorithmVerifiesThroughItsKey
// again in a process with GODEBUG=fips140=on: there, RS256 must go through
// crypto/rsa, and still verify.
func TestFIPS140ModeUsesCryptoRSA(t *testing.T) {
	if fips140.Enabled() {
		t.Skip("already in FIPS 140 mode")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run", "^TestEveryAlgorithmVerifiesThroughItsKey$", "-test.v", "-test.count", "1")
	cmd.Env = append(os.Environ(), "GODEBUG=fips140=on")
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("--- PASS: TestEveryAlgorithmVerifiesThroughItsKey")) {
		t.Fatalf("in FIPS 140 mode: %v\n%s", err, out)
	}
}
