// Package stack runs the whole sample on one machine, in one process: the
// development OIDC provider (local/idp), the API Gateway emulator
// (local/gateway) configured from template.yaml, and behind it the
// authorizer and the PetStore through the very handlers their mains give
// to lambda.Start; the web client through its Lambda handler behind an
// emulated function URL (local/functionurl). The pets and the sessions are
// in DynamoDB: an embedded DynamoDB-protocol server in memory
// (local/tables), or an external endpoint such as DynamoDB Local, with
// PetsTable and SessionsTable created from the template. cmd/local is its
// command line; the end-to-end tests start it on free ports.
package stack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/gin-gonic/gin"

	"github.com/example/petstore-oidc/api"
	"github.com/example/petstore-oidc/authorizer"
	"github.com/example/petstore-oidc/local/functionurl"
	"github.com/example/petstore-oidc/local/gateway"
	"github.com/example/petstore-oidc/local/idp"
	"github.com/example/petstore-oidc/local/samtemplate"
	"github.com/example/petstore-oidc/local/tables"
	"github.com/example/petstore-oidc/webclient"
)

// DefaultAudience is the API identifier of the local stack: the idp puts it
// in access tokens, the authorizer expects it.
const DefaultAudience = "https://petstore.example.com"

// Options say where each part listens. An address with port 0 takes a free
// port (the tests do); cmd/local uses localhost:9000, :3000 and :8080.
type Options struct {
	TemplatePath string // default "template.yaml"
	IdPAddr      string // default "localhost:9000"
	// IdPExtraAddrs are more addresses for the IdP, e.g. the Docker bridge
	// (172.17.0.1:9000) so that `sam local invoke` on Linux reaches the JWKS.
	IdPExtraAddrs []string
	GatewayAddr   string // default "localhost:3000"
	// DynamoDBEndpoint is an external DynamoDB-compatible endpoint (e.g.
	// DynamoDB Local on http://localhost:8000) for the pets; empty: an
	// embedded server on a free loopback port, in memory. Either way the
	// table is created from the template if it does not exist, and seeded
	// with api.ExamplePets if it never held a pet.
	DynamoDBEndpoint string
	// DynamoDBAddr is where the embedded DynamoDB listens (default
	// "127.0.0.1:0", a free port); loopback only.
	DynamoDBAddr string
	WebAddr      string // default "localhost:8080"; the web client's address, used for redirect URIs and CORS
	// WebInstances is how many web client instances stand behind its
	// function URL, taking requests in turn and sharing SessionsTable
	// (default 1).
	WebInstances int
	Audience     string // default DefaultAudience
	// Parameters override more template parameters (Issuer, Audience and
	// CorsAllowOrigin are set from the addresses above).
	Parameters map[string]string
	Logger     *slog.Logger

	// For tests: Clock drives the gateway's authorizer cache (default
	// time.Now), and WrapAuthorizer can stand in for a failing authorizer.
	Clock          func() time.Time
	WrapAuthorizer func(gateway.AuthorizerFunc) gateway.AuthorizerFunc
}

// Stack is the running stack.
type Stack struct {
	IssuerURL  string // e.g. http://localhost:9000
	GatewayURL string // e.g. http://localhost:3000
	WebURL     string // e.g. http://localhost:8080
	Audience   string
	// DynamoDBURL is the endpoint holding the pets, and PetsTable their
	// table; Store is the PetStore's store on it.
	DynamoDBURL string
	PetsTable   string
	Store       api.Store
	// SessionsTable is the web client's sessions' table, on DynamoDBURL;
	// WebInstances how many web client instances share it.
	SessionsTable string
	WebInstances  int
	// EmbeddedDynamoDB says that DynamoDBURL is the stack's own, in memory.
	EmbeddedDynamoDB bool
	// Parameters are the template parameters the stack runs with.
	Parameters map[string]string

	servers  []*http.Server
	embedded *tables.Server
	done     chan error
}

// Start listens on every address, then builds and serves each part. On
// error it stops what it started.
func Start(ctx context.Context, opts Options) (_ *Stack, err error) {
	opts = opts.withDefaults()
	log := opts.Logger
	s := &Stack{Audience: opts.Audience, done: make(chan error, 8)}
	var listeners []net.Listener
	defer func() {
		if err != nil {
			s.Shutdown(context.Background())
			for _, l := range listeners {
				l.Close()
			}
		}
	}()
	// The development provider publishes its passwords: the stack serves on
	// loopback only (IdPExtraAddrs is the explicit exception, for Docker).
	for _, addr := range []string{opts.IdPAddr, opts.GatewayAddr, opts.WebAddr} {
		if !loopback(addr) {
			return nil, fmt.Errorf("%s is not a loopback address: the local stack listens on localhost, 127.0.0.1 or [::1] only", addr)
		}
	}
	for _, addr := range opts.IdPExtraAddrs {
		if err := checkExtraIdPAddr(addr, interfaceAddrs); err != nil {
			return nil, err
		}
	}
	listen := func(addr string) (net.Listener, string, error) {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, "", fmt.Errorf("listen on %s: %w (is another copy running? choose another port)", addr, err)
		}
		listeners = append(listeners, l)
		return l, "http://" + publicHostPort(addr, l.Addr()), nil
	}
	idpLn, issuer, err := listen(opts.IdPAddr)
	if err != nil {
		return nil, err
	}
	gwLn, gatewayURL, err := listen(opts.GatewayAddr)
	if err != nil {
		return nil, err
	}
	webLn, webURL, err := listen(opts.WebAddr)
	if err != nil {
		return nil, err
	}
	s.IssuerURL, s.GatewayURL, s.WebURL = issuer, gatewayURL, webURL

	// The identity provider first: the authorizer fetches its JWKS at start.
	idpLog := log.With("component", "idp")
	provider, err := idp.New(idp.Config{
		Issuer:                    issuer,
		Audience:                  opts.Audience,
		WebRedirectURIs:           []string{s.WebURL + "/callback"},
		WebPostLogoutRedirectURIs: []string{s.WebURL + "/"},
		Logger:                    idpLog,
	})
	if err != nil {
		return nil, err
	}
	s.serve(idpLn, provider.Handler(), idpLog)
	for _, addr := range opts.IdPExtraAddrs {
		l, _, err := listen(addr)
		if err != nil {
			return nil, err
		}
		s.serve(l, provider.Handler(), idpLog)
	}

	// The gateway and its functions, configured by the template.
	params := map[string]string{"Issuer": issuer, "Audience": opts.Audience, "CorsAllowOrigin": s.WebURL, "WebClientId": idp.WebClientID}
	for k, v := range opts.Parameters {
		params[k] = v
	}
	tpl, err := samtemplate.Load(opts.TemplatePath, params)
	if err != nil {
		return nil, err
	}
	s.Parameters = tpl.Parameters
	authz, err := newAuthorizer(ctx, tpl, log.With("component", "authorizer"))
	if err != nil {
		return nil, err
	}
	restAPI, err := tpl.RestAPI("PetStoreApi")
	if err != nil {
		return nil, err
	}
	router, err := s.newRouter(ctx, tpl, opts, log.With("component", "api"))
	if err != nil {
		return nil, err
	}
	var authorize gateway.AuthorizerFunc = authz.Handle
	if opts.WrapAuthorizer != nil {
		authorize = opts.WrapAuthorizer(authorize)
	}
	gwLog := log.With("component", "gateway")
	gw, err := gateway.New(gateway.Config{
		API:         restAPI,
		Now:         opts.Clock,
		Authorizers: map[string]gateway.AuthorizerFunc{"Authorizer": authorize},
		Functions:   map[string]gateway.ProxyFunc{"PetStoreFunction": api.NewLambdaHandler(router)},
		Logger:      gwLog,
	})
	if err != nil {
		return nil, err
	}
	s.serve(gwLn, gw, gwLog)
	webLog := log.With("component", "webclient")
	web, err := s.newWebClient(ctx, tpl, opts, webLog)
	if err != nil {
		return nil, err
	}
	s.serve(webLn, web, webLog)
	return s, nil
}

// newWebClient runs the web client as it is deployed: configured from the
// environment the template gives WebClient (the stack's own URLs in place
// of the gateway's and the function URL's), its sessions in SessionsTable
// on the stack's DynamoDB, served through webclient.LambdaHandler, the
// handler the deployed bootstrap gives lambda.Start, behind an emulated
// function URL. opts.WebInstances instances share the table, as Lambda's
// would.
func (s *Stack) newWebClient(ctx context.Context, tpl *samtemplate.Template, opts Options, log *slog.Logger) (http.Handler, error) {
	fn, err := tpl.Function("WebClient")
	if err != nil {
		return nil, err
	}
	env := maps.Clone(fn.Environment)
	env["API_URL"], env["BASE_URL"] = s.GatewayURL, s.WebURL
	cfg, err := webclient.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		return nil, fmt.Errorf("%s: WebClient: %w", opts.TemplatePath, err)
	}
	s.SessionsTable = env[webclient.EnvSessionsTable]
	if s.SessionsTable == "" {
		return nil, fmt.Errorf("%s: WebClient has no %s in its environment", opts.TemplatePath, webclient.EnvSessionsTable)
	}
	def, err := tpl.Table(s.SessionsTable)
	if err != nil {
		return nil, err
	}
	if err := tables.CreateOn(ctx, s.DynamoDBURL, def, s.SessionsTable); err != nil {
		return nil, fmt.Errorf("DynamoDB at %s: %w", s.DynamoDBURL, err)
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, tables.LocalConfig(s.DynamoDBURL)...)
	if err != nil {
		return nil, err
	}
	cfg.Store = webclient.NewDynamoSessionStore(dynamodb.NewFromConfig(awsCfg), s.SessionsTable, cfg.SessionLifetime)
	var note strings.Builder
	note.WriteString("Local stack, development only: sign in as")
	for i, u := range idp.DemoUsers {
		if i > 0 {
			note.WriteString(" or")
		}
		fmt.Fprintf(&note, " %s / %s (%s)", u.Username, u.Password, strings.Join(u.Scopes, " "))
	}
	note.WriteString(".")
	cfg.HomeNote = note.String()
	s.WebInstances = max(opts.WebInstances, 1)
	var instances []functionurl.Handler
	for i := range max(opts.WebInstances, 1) {
		c := cfg
		c.Logger = log.With("instance", i)
		h, err := webclient.NewLambdaHandler(ctx, c)
		if err != nil {
			return nil, err
		}
		instances = append(instances, h.Invoke)
	}
	timeout := 30 * time.Second
	if secs, ok := tpl.Resources["WebClient"].Properties["Timeout"].(int); ok && secs > 0 {
		timeout = time.Duration(secs) * time.Second
	}
	u, _ := url.Parse(s.WebURL)
	log.Info("web client behind a function URL", "url", s.WebURL, "instances", len(instances), "sessions_table", s.SessionsTable)
	return functionurl.New(functionurl.Config{Instances: instances, Domain: u.Host, Timeout: timeout, Logger: log})
}

// newAuthorizer configures the authorizer from the environment the template
// gives its function, as Lambda would.
func newAuthorizer(ctx context.Context, tpl *samtemplate.Template, log *slog.Logger) (*authorizer.Authorizer, error) {
	fn, err := tpl.Function("Authorizer")
	if err != nil {
		return nil, err
	}
	cfg, err := authorizer.ConfigFromEnv(func(k string) string { return fn.Environment[k] })
	if err != nil {
		return nil, err
	}
	cfg.Logger = log
	return authorizer.New(ctx, cfg)
}

// newRouter configures the PetStore from the environment the template
// gives its function, as Lambda would, on the DynamoDB endpoint of opts.
func (s *Stack) newRouter(ctx context.Context, tpl *samtemplate.Template, opts Options, log *slog.Logger) (*gin.Engine, error) {
	fn, err := tpl.Function("PetStoreFunction")
	if err != nil {
		return nil, err
	}
	env := func(k string) string { return fn.Environment[k] }
	apiOpts, err := api.OptionsFromEnv(env)
	if err != nil {
		return nil, err
	}
	if s.Store, err = s.openStore(ctx, tpl, opts, env(api.EnvPetsTable), log); err != nil {
		return nil, err
	}
	apiOpts.Store, apiOpts.Logger = s.Store, log
	return api.NewRouter(apiOpts), nil
}

// openStore starts the embedded DynamoDB unless opts name an endpoint,
// creates the table from the template's definition and seeds it. The
// template's !Ref gives the table's logical id as its name, as a local
// stand-in for the name CloudFormation would generate.
func (s *Stack) openStore(ctx context.Context, tpl *samtemplate.Template, opts Options, table string, log *slog.Logger) (*api.DynamoStore, error) {
	if table == "" {
		return nil, fmt.Errorf("%s: PetStoreFunction has no %s in its environment", opts.TemplatePath, api.EnvPetsTable)
	}
	s.DynamoDBURL, s.PetsTable = opts.DynamoDBEndpoint, table
	if s.DynamoDBURL == "" {
		srv, err := tables.StartServer(opts.DynamoDBAddr)
		if err != nil {
			return nil, err
		}
		s.embedded, s.DynamoDBURL, s.EmbeddedDynamoDB = srv, srv.URL, true
	}
	def, err := tpl.Table(table)
	if err != nil {
		return nil, err
	}
	if err := tables.CreateOn(ctx, s.DynamoDBURL, def, table); err != nil {
		return nil, fmt.Errorf("DynamoDB at %s: %w", s.DynamoDBURL, err)
	}
	client, err := api.LoadDynamoClient(ctx, tables.LocalConfig(s.DynamoDBURL)...)
	if err != nil {
		return nil, err
	}
	store := api.NewDynamoStore(client, table)
	if err := store.SeedExamplePets(ctx); err != nil {
		return nil, fmt.Errorf("DynamoDB at %s: %w", s.DynamoDBURL, err)
	}
	log.Info("pets in DynamoDB", "endpoint", s.DynamoDBURL, "table", table, "embedded", s.embedded != nil)
	return store, nil
}

func (s *Stack) serve(l net.Listener, h http.Handler, log *slog.Logger) {
	srv := &http.Server{
		Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: serverErrorLog(log),
	}
	s.servers = append(s.servers, srv)
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.done <- err
		}
	}()
}

// Done reports a server that stopped by itself.
func (s *Stack) Done() <-chan error { return s.done }

// Shutdown stops every server, letting requests in flight finish until ctx
// ends.
func (s *Stack) Shutdown(ctx context.Context) error {
	var errs []error
	for _, srv := range s.servers {
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if s.embedded != nil {
		errs = append(errs, s.embedded.Close())
	}
	return errors.Join(errs...)
}

func (o Options) withDefaults() Options {
	if o.TemplatePath == "" {
		o.TemplatePath = "template.yaml"
	}
	if o.IdPAddr == "" {
		o.IdPAddr = "localhost:9000"
	}
	if o.GatewayAddr == "" {
		o.GatewayAddr = "localhost:3000"
	}
	if o.WebAddr == "" {
		o.WebAddr = "localhost:8080"
	}
	if o.DynamoDBAddr == "" {
		o.DynamoDBAddr = "127.0.0.1:0"
	}
	if o.Audience == "" {
		o.Audience = DefaultAudience
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return host == "localhost" || ip != nil && ip.IsLoopback()
}

// dockerBridge names the interfaces Docker creates for its networks: the
// default bridge and a user network's bridge.
var dockerBridge = regexp.MustCompile(`^(docker0|br-[0-9a-f]{12})$`)

// checkExtraIdPAddr allows an extra IdP address on loopback or on a Docker
// bridge of this machine: a private address reachable by this host's
// containers, and by the local link too if someone routes the bridge's
// subnet to this host (Linux accepts a packet for any of its addresses on
// any interface): firewall it if that matters. Anything else (0.0.0.0, a
// LAN or public address, a host name) would publish the development
// provider's public passwords and client secret to a network.
func checkExtraIdPAddr(addr string, interfaces func() (map[string][]net.IP, error)) error {
	if loopback(addr) {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	ip := net.ParseIP(host)
	if err != nil || ip == nil || !ip.IsPrivate() {
		return fmt.Errorf("extra IdP address %q refused: give a loopback address or the address of a Docker bridge (docker0 or br-...), e.g. 172.17.0.1:9000", addr)
	}
	byName, err := interfaces()
	if err != nil {
		return fmt.Errorf("extra IdP address %q: %w", addr, err)
	}
	for name, ips := range byName {
		if dockerBridge.MatchString(name) && slices.ContainsFunc(ips, ip.Equal) {
			return nil
		}
	}
	return fmt.Errorf("extra IdP address %q refused: %s is not the address of a Docker bridge (docker0 or br-...) of this machine", addr, ip)
}

// interfaceAddrs lists this machine's IP addresses by interface name.
func interfaceAddrs() (map[string][]net.IP, error) {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	out := map[string][]net.IP{}
	for _, i := range ifaces {
		addrs, err := i.Addrs()
		if err != nil {
			return nil, err
		}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				out[i.Name] = append(out[i.Name], n.IP)
			}
		}
	}
	return out, nil
}

// publicHostPort is the host:port to put in URLs: the host as given (so
// "localhost" stays localhost, which browsers treat as a secure context),
// with the port actually bound when 0 was asked.
func publicHostPort(addr string, bound net.Addr) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if tcp, ok := bound.(*net.TCPAddr); ok {
		port = fmt.Sprint(tcp.Port)
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return host + ":" + port
}
