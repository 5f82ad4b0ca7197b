package api

import (
	"net/http"
	"slices"
	"strings"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"
	"github.com/gin-gonic/gin"
)

// Identity is the caller as API Gateway's authorizer vouched for it.
type Identity struct {
	Principal string   `json:"principal"`
	Scopes    []string `json:"scopes"`
	ClientID  string   `json:"clientId,omitempty"`
	// Development marks DevIdentity: nobody was authenticated.
	Development bool `json:"development,omitempty"`
}

// HasScope reports whether the identity was granted scope.
func (id Identity) HasScope(scope string) bool { return slices.Contains(id.Scopes, scope) }

// DevIdentity is who every request is assumed to come from outside Lambda
// when Options.DevMode is set, with Options.ReadScope and WriteScope. It is
// never used for a gateway request.
var DevIdentity = Identity{
	Principal:   "dev-mode-user",
	Scopes:      []string{ScopeRead, ScopeWrite},
	Development: true,
}

// The scopes the API checks by default; they match the authorizer's
// default rules. Options.ReadScope and WriteScope replace them.
const (
	ScopeRead  = "pets:read"
	ScopeWrite = "pets:write"
)

const identityKey = "petstore.identity"

// IdentityFrom returns the identity the identify middleware found for this
// request, if any.
func IdentityFrom(c *gin.Context) (Identity, bool) {
	id, ok := c.Get(identityKey)
	if !ok {
		return Identity{}, false
	}
	return id.(Identity), true
}

// identify is the one middleware that tells handlers who is calling. A
// request that came through the Lambda handler carries the API Gateway
// request context, and only its authorizer map counts (a forged
// X-GoLambdaProxy-ApiGw-Context header is never read). Any other request is
// anonymous, unless devMode assumes dev (DevIdentity with the configured
// scopes) for it.
func identify(devMode bool, dev Identity) gin.HandlerFunc {
	return func(c *gin.Context) {
		if gw, ok := core.GetAPIGatewayContextFromContext(c.Request.Context()); ok {
			if id, ok := identityFromAuthorizer(gw.Authorizer); ok {
				c.Set(identityKey, id)
			}
		} else if devMode {
			c.Set(identityKey, dev)
		}
		c.Next()
	}
}

// identityFromAuthorizer reads the context the TOKEN authorizer returned:
// principalId (always set by API Gateway for a Lambda authorizer), scope
// (space-separated) and, for machine clients, client_id. API Gateway passes
// every value as a string; anything else is ignored.
func identityFromAuthorizer(ctx map[string]any) (Identity, bool) {
	principal, _ := ctx["principalId"].(string)
	if principal == "" {
		return Identity{}, false
	}
	scope, _ := ctx["scope"].(string)
	clientID, _ := ctx["client_id"].(string)
	return Identity{Principal: principal, Scopes: append([]string{}, strings.Fields(scope)...), ClientID: clientID}, true
}

// require lets a request through only with an identity (401 otherwise) and,
// when scope is not empty, only if that identity holds scope (403). The
// gateway has checked this already; checking again keeps a misconfigured
// template or a direct invocation from opening the API.
func require(scope string) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, ok := IdentityFrom(c)
		if !ok {
			abortWithError(c, http.StatusUnauthorized, "authentication required", "")
			return
		}
		if scope != "" && !id.HasScope(scope) {
			abortWithError(c, http.StatusForbidden, "missing scope "+scope, "")
			return
		}
		c.Next()
	}
}
