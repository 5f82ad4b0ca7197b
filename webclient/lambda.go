package webclient

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"sync"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
)

// LambdaHandler serves the web client in Lambda, behind a function URL:
// its events are payload format 2.0, the shape of HTTP API events, which
// aws-lambda-go-api-proxy's httpadapter turns into an http.Request for the
// App and back. The request's cookies arrive as the event's cookies list
// (the adapter makes them Cookie headers) and every Set-Cookie leaves as an
// element of the response's cookies list: a function URL keeps each one.
//
// The app's own URL is Config.BaseURL (or RedirectURL) when set; otherwise
// the function URL's domain as AWS puts it in the first event's request
// context (https://DOMAIN), never a Host header a client chose.
type LambdaHandler struct {
	cfg     Config
	log     *slog.Logger
	mu      sync.Mutex
	adapter *httpadapter.HandlerAdapterV2
}

// NewLambdaHandler builds the handler; with the app's URL configured it
// builds the app at once (at cold start), else on the first event.
func NewLambdaHandler(ctx context.Context, cfg Config) (*LambdaHandler, error) {
	if err := cfg.validate(false); err != nil {
		return nil, err
	}
	h := &LambdaHandler{cfg: cfg, log: cfg.Logger}
	if h.log == nil {
		h.log = slog.Default()
	}
	if cfg.BaseURL != "" || cfg.RedirectURL != "" {
		app, err := New(ctx, cfg)
		if err != nil {
			return nil, err
		}
		h.adapter = httpadapter.NewV2(app)
	}
	return h, nil
}

// functionURLDomain is what a function URL's domain looks like (and any
// host name): letters, digits, dots and dashes.
var functionURLDomain = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$`)

// Invoke answers one function URL event.
func (h *LambdaHandler) Invoke(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	adapter, err := h.app(ctx, ev.RequestContext.DomainName)
	if err != nil {
		h.log.Error("web client not started", slog.String("error", err.Error()))
		return events.APIGatewayV2HTTPResponse{
			StatusCode: http.StatusInternalServerError,
			Headers:    map[string]string{"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"},
			Body:       "The web client could not start: its log says why.\n",
		}, nil
	}
	resp, err := adapter.ProxyWithContext(ctx, ev)
	if err != nil {
		// An event the adapter cannot turn into a request (a body that is
		// not base64 although the event says so, a method or path that is
		// no HTTP): the client's fault, answered as such, not a function
		// error.
		h.log.Warn("event refused", slog.String("error", err.Error()))
		return events.APIGatewayV2HTTPResponse{
			StatusCode: http.StatusBadRequest,
			Headers:    map[string]string{"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"},
			Body:       "Bad request.\n",
		}, nil
	}
	return resp, nil
}

func (h *LambdaHandler) app(ctx context.Context, domain string) (*httpadapter.HandlerAdapterV2, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.adapter != nil {
		return h.adapter, nil
	}
	if !functionURLDomain.MatchString(domain) {
		return nil, errNoDomain
	}
	cfg := h.cfg
	cfg.BaseURL = "https://" + domain
	app, err := New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	h.log.Info("web client URL from the function URL's domain", slog.String("base_url", cfg.BaseURL))
	h.adapter = httpadapter.NewV2(app)
	return h.adapter, nil
}

var errNoDomain = errors.New("BASE_URL is not set and the event's requestContext.domainName is no host name: invoke the function through its function URL, or set BASE_URL")

// notConfiguredPage is the whole answer of a deployment without a client
// id yet: a fixed text, nothing from the request.
const notConfiguredPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Not configured yet</title></head>
<body><h1>The web client is not configured yet</h1>
<p>It has no client id at the identity provider. Register it with your provider and
deploy again with the parameter <code>WebClientId</code> set (and <code>ClientSecretArn</code>
for a confidential client): see docs/deploy.md, section "The web client".</p></body></html>
`

// NotConfigured answers every event with a 503 page saying that the web
// client has no client id yet: what a stack deployed before its provider
// was set up serves, rather than failing at every cold start.
func NotConfigured(log *slog.Logger) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		log.Warn("web client not configured", slog.String("reason", "no client id: set WebClientId"))
		return events.APIGatewayV2HTTPResponse{
			StatusCode: http.StatusServiceUnavailable,
			Headers: map[string]string{
				"Content-Type":            "text/html; charset=utf-8",
				"Cache-Control":           "no-store",
				"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
				"X-Content-Type-Options":  "nosniff",
				"X-Frame-Options":         "DENY",
				"Referrer-Policy":         "no-referrer",
				"Retry-After":             "3600",
			},
			Body: notConfiguredPage,
		}, nil
	}
}
