package api

import (
	"cmp"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// Options configure NewRouter.
type Options struct {
	// Store keeps the pets (required: NewRouter panics without one).
	Store Store
	// Logger receives one JSON line per request (default slog.Default()).
	Logger *slog.Logger
	// DevMode assumes DevIdentity for requests that did not come through
	// the Lambda handler, so the API can be tried without a gateway. It
	// never applies to gateway requests. Never enable it in a deployment.
	DevMode bool
	// AllowOrigin, when set ("*" or one origin), is sent as
	// Access-Control-Allow-Origin on every answer. API Gateway answers CORS
	// preflights itself, but with a proxy integration the actual answers
	// come from here, and a browser hides any answer without it.
	AllowOrigin string
	// ReadScope and WriteScope are the scopes the API checks again behind
	// the authorizer: reading pets needs ReadScope, adding one WriteScope.
	// Default ScopeRead and ScopeWrite; set them to the names your access
	// tokens carry, as the authorizer's route rules do (template.yaml passes
	// both from its ReadScope and WriteScope parameters).
	ReadScope, WriteScope string
}

// access says who may call a route.
type access int

const (
	public   access = iota // anyone, no authorizer in front
	anyToken               // any identity the authorizer verified
	scoped                 // an identity holding the route's scope
)

// route is one endpoint: it registers the handler and describes itself in
// the welcome document, so the two cannot drift apart.
type route struct {
	method, ginPath, path string
	access                access
	scope                 string
	description           string
	handle                func(*handlers, *gin.Context)
}

var routes = []route{
	{http.MethodGet, "/", "/", public, "", "this document", (*handlers).getWelcome},
	{http.MethodGet, "/pets", "/pets", scoped, ScopeRead, "list pets, pageSize per page, by id; ?type=dog|cat|fish|bird, ?after=ID (the Link rel=next header gives it)", (*handlers).listPets},
	{http.MethodPost, "/pets", "/pets", scoped, ScopeWrite, `add a pet: {"type": "dog", "price": 249.99}`, (*handlers).createPet},
	{http.MethodGet, "/pets/:petId", "/pets/{petId}", scoped, ScopeRead, "one pet", (*handlers).getPet},
	{http.MethodGet, "/me", "/me", anyToken, "", "who the gateway says is calling", (*handlers).me},
}

// NewRouter returns the PetStore API as a Gin engine, ready for
// NewLambdaHandler or an http.Server. It sets Gin's global mode to release:
// no debug output, in Lambda or in tests.
func NewRouter(opts Options) *gin.Engine {
	if opts.Store == nil {
		panic("api.NewRouter: Options.Store is nil")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	// The routes name their scope by ScopeRead or ScopeWrite; the names the
	// tokens carry are the options'.
	scopes := map[string]string{ScopeRead: cmp.Or(opts.ReadScope, ScopeRead), ScopeWrite: cmp.Or(opts.WriteScope, ScopeWrite)}
	dev := DevIdentity
	dev.Scopes = []string{scopes[ScopeRead], scopes[ScopeWrite]}
	if opts.DevMode {
		opts.Logger.Warn("DEV MODE: every request outside API Gateway is treated as the development identity " +
			dev.Principal + " with scopes " + strings.Join(dev.Scopes, " and ") + ", without any token. Never use this in a deployment.")
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	// Routes are matched exactly: Gin's redirects would drop the stage
	// prefix behind API Gateway and send the caller to a wrong URL.
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	r.HandleMethodNotAllowed = true
	// No client IP is taken from headers; the API does not use it.
	_ = r.SetTrustedProxies(nil)

	r.Use(logRequests(opts.Logger))
	if opts.AllowOrigin != "" {
		r.Use(allowOrigin(opts.AllowOrigin))
	}
	r.Use(recoverPanics(), identify(opts.DevMode, dev))
	r.NoRoute(notFound)
	r.NoMethod(methodNotAllowed)

	h := &handlers{store: opts.Store, welcome: newWelcome(routes, scopes)}
	for _, rt := range routes {
		chain := []gin.HandlerFunc{}
		switch rt.access {
		case anyToken:
			chain = append(chain, require(""))
		case scoped:
			chain = append(chain, require(scopes[rt.scope]))
		}
		handle := rt.handle
		chain = append(chain, func(c *gin.Context) { handle(h, c) })
		r.Handle(rt.method, rt.ginPath, chain...)
	}
	return r
}

// allowOrigin lets browser code from origin read every answer, including
// the headers a client of the API needs.
func allowOrigin(origin string) gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Expose-Headers", "Location, Link, X-Total-Count")
		c.Next()
	}
}
