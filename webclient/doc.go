// Package webclient is the PetStore sample's web client: a small server-side
// app that signs a person in with OpenID Connect (authorization code + PKCE),
// keeps the tokens in a server-side session, and calls the protected API
// through API Gateway on the user's behalf (backend for frontend), showing
// what the gateway and the authorizer answered and why. It works with any
// standard OIDC provider; cmd/webclient runs it, local/stack embeds it.
package webclient
