package authorizer

import "errors"

// ReasonError is a sentinel for one reason why a token was refused. Its Code
// is the reason code that appears in the decision log line.
type ReasonError struct{ Code string }

func (e *ReasonError) Error() string { return "token refused: " + e.Code }

// The reasons a token is refused. Callers branch with errors.Is; Reason turns
// any error from this package into its code.
var (
	ErrMissingToken     = &ReasonError{"missing_token"}      // empty authorizationToken
	ErrScheme           = &ReasonError{"scheme"}             // not "Bearer <token>"
	ErrOversized        = &ReasonError{"oversized"}          // over MaxTokenBytes
	ErrMalformed        = &ReasonError{"malformed"}          // not a JWS compact token, bad base64 or JSON
	ErrAlgorithm        = &ReasonError{"algorithm"}          // alg not allowed, or not the key's alg
	ErrCritical         = &ReasonError{"crit"}               // crit header parameter we do not understand
	ErrTokenType        = &ReasonError{"token_type"}         // typ header or token_use of a non-access token
	ErrMissingKID       = &ReasonError{"missing_kid"}        // no kid while the JWKS holds several keys
	ErrUnknownKID       = &ReasonError{"unknown_kid"}        // kid not in the JWKS, even after a refresh
	ErrJWKSUnavailable  = &ReasonError{"jwks_unavailable"}   // no usable keys: the JWKS could not be fetched
	ErrSignature        = &ReasonError{"signature"}          // signature does not verify
	ErrExpired          = &ReasonError{"expired"}            // exp in the past
	ErrMissingExpiry    = &ReasonError{"missing_exp"}        // no exp claim
	ErrNotYetValid      = &ReasonError{"not_yet_valid"}      // nbf or iat in the future
	ErrIssuer           = &ReasonError{"issuer"}             // iss missing or not the configured issuer
	ErrAudience         = &ReasonError{"audience"}           // no configured audience in aud (or Cognito client_id)
	ErrMissingSubject   = &ReasonError{"missing_sub"}        // no sub claim: no principal to report
	ErrInvalidMethodARN = &ReasonError{"invalid_method_arn"} // methodArn is not an execute-api method ARN
)

// Reason returns the reason code carried by err, or "internal" when err does
// not come from a refusal of this package.
func Reason(err error) string {
	var re *ReasonError
	if errors.As(err, &re) {
		return re.Code
	}
	return "internal"
}

// errUnauthorized is the only error API Gateway turns into a 401: the message
// must be exactly "Unauthorized". Anything else becomes a 500.
var errUnauthorized = errors.New("Unauthorized") //nolint:staticcheck // API Gateway matches this exact string.
