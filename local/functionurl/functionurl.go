// Package functionurl emulates a Lambda function URL, the web client's front
// door, for the local stack and tests: each HTTP request becomes a payload
// format 2.0 event (cookies in the event's cookies list, other headers
// lower-cased and joined by commas, a binary body in base64), goes to the
// function's handler, and its answer becomes the HTTP response (each element
// of the cookies list a Set-Cookie header). Several handlers stand for
// several Lambda instances: requests go to them in turn.
package functionurl

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// Handler is a function's handler for function URL events.
type Handler func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// MaxRequestBody is a function URL's limit on a request's payload (6 MB).
const MaxRequestBody = 6 << 20

// Config configures the front door.
type Config struct {
	// Instances are the function's instances; requests go to each in turn.
	Instances []Handler
	// Domain is the event's requestContext.domainName, what AWS sets to
	// the function URL's host (e.g. localhost:8080 locally). It comes from
	// here, never from a request's Host header.
	Domain string
	// Timeout is the function's Timeout (default 30 s).
	Timeout time.Duration
	Logger  *slog.Logger
}

// FrontDoor is the emulated function URL, an http.Handler.
type FrontDoor struct {
	cfg  Config
	next atomic.Uint64
}

// New returns the front door of cfg's instances.
func New(cfg Config) (*FrontDoor, error) {
	if len(cfg.Instances) == 0 {
		return nil, errors.New("functionurl: no instance")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &FrontDoor{cfg: cfg}, nil
}

// ServeHTTP turns the request into an event, invokes the next instance and
// writes its answer. A handler error, panic or timeout is a 502, as a
// function URL answers.
func (f *FrontDoor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ev, err := f.event(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
		return
	}
	instance := int((f.next.Add(1) - 1) % uint64(len(f.cfg.Instances)))
	resp, err := invoke(r.Context(), f.cfg.Instances[instance], f.cfg.Timeout, ev)
	if err != nil {
		f.cfg.Logger.Error("function error", "instance", instance, "request_id", ev.RequestContext.RequestID, "error", err.Error())
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, `{"Message":"Internal Server Error"}`)
		return
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		if body, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			f.cfg.Logger.Error("function answer", "error", "body is not base64")
			http.Error(w, "Internal Server Error", http.StatusBadGateway)
			return
		}
	}
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		w.Header().Add("Set-Cookie", c)
	}
	status := resp.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	w.Write(body)
}

// event is the payload format 2.0 event of r.
func (f *FrontDoor) event(r *http.Request) (events.APIGatewayV2HTTPRequest, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxRequestBody+1))
	if err != nil {
		return events.APIGatewayV2HTTPRequest{}, fmt.Errorf("request body: %w", err)
	}
	if len(body) > MaxRequestBody {
		return events.APIGatewayV2HTTPRequest{}, errors.New("request body larger than 6 MB")
	}
	now := time.Now()
	ev := events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RouteKey:       "$default",
		RawPath:        r.URL.EscapedPath(),
		RawQueryString: r.URL.RawQuery,
		Headers:        map[string]string{},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     "$default",
			AccountID:    "anonymous",
			Stage:        "$default",
			RequestID:    rand.Text(),
			APIID:        "local",
			DomainName:   f.cfg.Domain,
			DomainPrefix: strings.SplitN(f.cfg.Domain, ".", 2)[0],
			Time:         now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.Path,
				Protocol:  r.Proto,
				SourceIP:  sourceIP(r.RemoteAddr),
				UserAgent: r.UserAgent(),
			},
		},
	}
	if r.URL.RawQuery != "" {
		ev.QueryStringParameters = map[string]string{}
		for k, vs := range r.URL.Query() {
			ev.QueryStringParameters[k] = strings.Join(vs, ",")
		}
	}
	for k, vs := range r.Header {
		if strings.EqualFold(k, "Cookie") {
			for _, line := range vs {
				for _, c := range strings.Split(line, ";") {
					if c = strings.TrimSpace(c); c != "" {
						ev.Cookies = append(ev.Cookies, c)
					}
				}
			}
			continue
		}
		ev.Headers[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	ev.Headers["host"] = f.cfg.Domain
	if len(body) > 0 {
		if utf8.Valid(body) {
			ev.Body = string(body)
		} else {
			ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
		}
	}
	return ev, nil
}

func sourceIP(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return remoteAddr
	}
	return host
}

// invoke calls h with the function's timeout; a panic or an answer after
// the deadline is an error.
func invoke(ctx context.Context, h Handler, timeout time.Duration, ev events.APIGatewayV2HTTPRequest) (resp events.APIGatewayV2HTTPResponse, err error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			resp, err = events.APIGatewayV2HTTPResponse{}, fmt.Errorf("handler panicked: %v", p)
		}
	}()
	resp, err = h(ctx, ev)
	if err == nil && ctx.Err() != nil {
		return events.APIGatewayV2HTTPResponse{}, fmt.Errorf("handler timed out: %w", ctx.Err())
	}
	return resp, err
}
