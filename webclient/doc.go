// Package webclient is the PetStore sample's web client: a small server-side
// app that signs a person in with OpenID Connect (authorization code + PKCE),
// keeps the tokens in a server-side session, and calls the protected API
// through API Gateway on the user's behalf (backend for frontend), showing
// what the gateway and the authorizer answered and why. It works with any
// standard OIDC provider. Sessions and sign-ins in progress live in a
// SessionStore (DynamoDB deployed, memory on a laptop) whose deleted ids can
// never be written again. New builds the http.Handler; LambdaHandler serves
// it behind a Lambda function URL; cmd/webclient runs either, local/stack
// runs the Lambda handler behind an emulated function URL.
package webclient
