package idp_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/example/petstore-oidc/local/idp"
)

// golang.org/x/oauth2, which a Go web client uses, works with the provider
// as is: PKCE code exchange and refresh for the public client (client
// authentication auto-detected), client_credentials for the machine.
func TestWithGolangOAuth2(t *testing.T) {
	e := startIDP(t)
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, e.client)
	conf := &oauth2.Config{
		ClientID:    idp.WebClientID,
		Endpoint:    oauth2.Endpoint{AuthURL: e.issuer + "/authorize", TokenURL: e.issuer + "/oauth/token"},
		RedirectURL: webRedirectURI,
		Scopes:      strings.Fields(allScopes),
	}
	verifier := oauth2.GenerateVerifier()
	authURL, err := url.Parse(conf.AuthCodeURL(testState, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", testNonce)))
	if err != nil {
		t.Fatal(err)
	}
	resp, body := e.submitLogin(t, e.openLoginPage(t, authURL.Query()), "alice", "alice")
	code := redirectTo(t, resp, body, webRedirectURI).Query().Get("code")

	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if idToken, _ := tok.Extra("id_token").(string); idToken == "" || tok.RefreshToken == "" {
		t.Fatalf("Exchange gave no ID token or no refresh token")
	}
	wantClaim(t, e.verifyJWT(t, tok.AccessToken, testAudience), "sub", "alice")

	tok.Expiry = time.Now().Add(-time.Minute) // make the token source refresh
	refreshed, err := conf.TokenSource(ctx, tok).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if refreshed.AccessToken == tok.AccessToken || refreshed.RefreshToken == tok.RefreshToken {
		t.Error("refresh gave the same tokens")
	}

	machine := clientcredentials.Config{
		ClientID: idp.M2MClientID, ClientSecret: idp.M2MClientSecret,
		TokenURL: e.issuer + "/oauth/token", Scopes: []string{idp.ScopeRead},
	}
	m2m, err := machine.Token(ctx)
	if err != nil {
		t.Fatalf("client_credentials: %v", err)
	}
	wantClaim(t, e.verifyJWT(t, m2m.AccessToken, testAudience), "scope", idp.ScopeRead)

	machine.ClientSecret = "wrong"
	if _, err := machine.Token(ctx); err == nil {
		t.Error("client_credentials with a wrong secret succeeded")
	}
}
