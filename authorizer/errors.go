package authorizer

import "errors"

// reasonError is one reason why a token was refused; its code is the
// decision log line's reason. Handle never returns one: API Gateway only
// distinguishes "Unauthorized" from anything else.
type reasonError struct{ code string }

func (e *reasonError) Error() string { return "token refused: " + e.code }

// The reasons a token is refused.
var (
	errMissingToken     = &reasonError{"missing_token"}      // empty authorizationToken
	errScheme           = &reasonError{"scheme"}             // not "Bearer <token>"
	errOversized        = &reasonError{"oversized"}          // over maxTokenBytes
	errMalformed        = &reasonError{"malformed"}          // not a JWS compact token, bad base64 or JSON
	errAlgorithm        = &reasonError{"algorithm"}          // alg not allowed, or not the key's alg
	errCritical         = &reasonError{"crit"}               // crit header parameter we do not understand
	errTokenType        = &reasonError{"token_type"}         // typ header or token_use of a non-access token
	errMissingKID       = &reasonError{"missing_kid"}        // no kid in the header
	errUnknownKID       = &reasonError{"unknown_kid"}        // kid not in the JWKS, even after a refresh
	errJWKSUnavailable  = &reasonError{"jwks_unavailable"}   // no usable keys: the JWKS could not be fetched
	errSignature        = &reasonError{"signature"}          // signature does not verify
	errExpired          = &reasonError{"expired"}            // exp in the past
	errMissingExpiry    = &reasonError{"missing_exp"}        // no exp claim
	errNotYetValid      = &reasonError{"not_yet_valid"}      // nbf or iat in the future
	errIssuer           = &reasonError{"issuer"}             // iss missing or not the configured issuer
	errAudience         = &reasonError{"audience"}           // no configured audience in aud (or Cognito client_id)
	errMissingSubject   = &reasonError{"missing_sub"}        // no sub claim: no principal to report
	errInvalidMethodARN = &reasonError{"invalid_method_arn"} // methodArn is not an execute-api method ARN
	errNoScope          = &reasonError{"scope"}              // scopes permit no route: a Deny-only policy
)

// errUnauthorized is the only error API Gateway answers with a 401; it
// turns any other error, or a malformed answer, into a 500.
var errUnauthorized = errors.New("Unauthorized") //nolint:staticcheck // API Gateway matches this exact string.
