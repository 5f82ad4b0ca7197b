// Package authorizer is an API Gateway Lambda TOKEN authorizer for OIDC
// access tokens: it verifies the bearer token against the issuer's JWKS with
// golang-jwt and the standard library's crypto (asymmetric algorithms only,
// RSA keys of 2048 bits or more), checks iss, aud, exp, nbf and iat, and
// answers with an IAM policy for every route of the stage: Allow where the
// token's scopes permit, an explicit Deny elsewhere. API Gateway caches that
// answer per token and reuses it for every route; there is no other cache.
// A refused token gets exactly the error "Unauthorized" (a 401); each
// decision is one JSON log line with a reason code, never the token.
//
// To copy it into another service, take this directory's non-test files and
// cmd/authorizer/main.go; they need github.com/aws/aws-lambda-go,
// github.com/golang-jwt/jwt/v5, github.com/MicahParks/jwkset and
// golang.org/x/time. docs/authorizer.md lists the settings.
package authorizer
