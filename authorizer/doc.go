// Package authorizer is an API Gateway Lambda TOKEN authorizer for OIDC
// access tokens: it verifies the bearer token against the issuer's JWKS with
// golang-jwt and the standard library's crypto, checks iss, aud, exp, nbf
// and iat, and answers with an IAM policy for the whole stage: Allow where
// the token's scopes permit, an explicit Deny elsewhere. API Gateway caches
// that answer per token; there is no other cache. A refused token gets
// exactly the error "Unauthorized" (a 401); each decision is one JSON log
// line with a reason code, never the token.
//
// To copy it, take this directory's non-test files and cmd/authorizer/main.go;
// they need github.com/aws/aws-lambda-go, github.com/golang-jwt/jwt/v5,
// github.com/MicahParks/jwkset and golang.org/x/time. Its tests also need
// internal/testissuer, internal/testlog and local/gateway (the IAM policy
// evaluator). docs/authorizer.md lists the settings.
package authorizer
