// Package authorizer is an API Gateway Lambda TOKEN authorizer for OIDC access
// tokens.
//
// It takes the bearer token from the TOKEN event, verifies its signature
// against the issuer's JWKS (asymmetric algorithms only), checks iss, aud and
// the token's lifetime, and answers with an IAM policy that covers every route
// of the invoked stage: Allow for the routes the token's scopes permit, an
// explicit Deny for the rest. API Gateway caches that policy per token, so it
// must be right for every route, not only the one being called.
//
// Every authentication failure is answered with the exact error
// "Unauthorized" (API Gateway's 401); each decision is logged as one JSON line
// with a reason code and a short hash of the token, never the token.
package authorizer
