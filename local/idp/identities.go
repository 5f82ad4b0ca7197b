package idp

// The demo identities are fixed contracts (docs/architecture.md, "Contracts") that the tutorial,
// cmd/local and the tests rely on. DEVELOPMENT ONLY: their passwords and the
// client secret are published in this repository, so the provider that holds
// them must never run anywhere but on a developer's machine.

// The API scopes of the PetStore: reads need ScopeRead, writes ScopeWrite.
const (
	ScopeRead  = "pets:read"
	ScopeWrite = "pets:write"
)

// DemoUser is a user of the development provider. Development only.
type DemoUser struct {
	Username string // also the token's sub
	Password string // public: printed by cmd/local and shown on the login page
	Name     string // the name claim (scope profile)
	Email    string // the email claim (scope email)
	Scopes   []string
}

// DemoUsers can log in on the login page. Development only: alice may read
// and write pets, bob may only read them, so the tutorial can show a 403.
var DemoUsers = []DemoUser{
	{Username: "alice", Password: "alice", Name: "Alice Example", Email: "alice@example.com", Scopes: []string{ScopeRead, ScopeWrite}},
	{Username: "bob", Password: "bob", Name: "Bob Example", Email: "bob@example.com", Scopes: []string{ScopeRead}},
}

// WebClientID is the web client's id. It is a public client (RFC 6749 2.1,
// no secret): it must use the authorization code flow with PKCE S256 and
// may use refresh tokens. Its redirect URIs come from Config. Development
// only.
const WebClientID = "petstore-web"

// M2MClientID and M2MClientSecret identify the machine client, which gets
// tokens with the client_credentials grant (scopes pets:read pets:write).
// Development only: the secret is public.
const (
	M2MClientID     = "petstore-m2m"
	M2MClientSecret = "petstore-m2m-secret"
)
