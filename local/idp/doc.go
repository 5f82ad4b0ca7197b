// Package idp is the development OpenID provider of the local stack: it lets
// the web client log in and the authorizer verify tokens on a laptop, with no
// cloud IdP. The protocol is zitadel/oidc's op package (OpenID Certified);
// this package only supplies its storage: two demo users, two clients, an
// RSA key made at start, and a login page. Everything lives in memory.
// Development only: its users and secrets are public. Never deploy it.
package idp
