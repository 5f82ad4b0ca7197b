// Package idp is the development OpenID provider of the local stack, so the
// web client can log in and the authorizer verify tokens with no cloud IdP.
// The protocol is zitadel/oidc's op package (OpenID Certified); this package
// adds in-memory storage for two demo users and two clients, an RSA key made
// at start, a login page, and access tokens for the API separate from ID
// tokens. Development only: its passwords and secret are public.
package idp
