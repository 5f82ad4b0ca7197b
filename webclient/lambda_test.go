package webclient_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/example/petstore-oidc/internal/testlog"
	"github.com/example/petstore-oidc/local/idp"
	"github.com/example/petstore-oidc/webclient"
)

// The Lambda handler: the app's URL from the event's domain when BASE_URL
// is unset (never from the Host header), a clear answer to an event without
// a usable domain, and a 400, not a function error, for an event the
// adapter cannot read.
func TestLambdaHandler(t *testing.T) {
	e := newEnv(t, envOptions{extraRedirectTo: []string{"https://fn.lambda-url.eu-west-1.on.aws/callback"}})
	logs := &testlog.Buffer{}
	h, err := webclient.NewLambdaHandler(context.Background(), webclient.Config{
		Issuer: e.issuer, ClientID: idp.WebClientID, APIURL: e.api.URL, Logger: newLogger(logs),
	})
	if err != nil {
		t.Fatal(err)
	}
	event := func(domain, path string) events.APIGatewayV2HTTPRequest {
		return events.APIGatewayV2HTTPRequest{
			Version: "2.0", RawPath: path,
			Headers: map[string]string{"host": "attacker.example"},
			RequestContext: events.APIGatewayV2HTTPRequestContext{
				DomainName: domain,
				HTTP:       events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: http.MethodGet, Path: path},
			},
		}
	}

	// No domain yet: nothing to build the redirect URL from.
	resp, err := h.Invoke(context.Background(), event("", "/login"))
	if err != nil || resp.StatusCode != http.StatusInternalServerError || !strings.Contains(resp.Body, "could not start") {
		t.Errorf("event without a domain: %d %q %v", resp.StatusCode, resp.Body, err)
	}
	resp, err = h.Invoke(context.Background(), event("fn.lambda-url.eu-west-1.on.aws", "/login"))
	if err != nil || resp.StatusCode != http.StatusFound ||
		!strings.Contains(resp.Headers["Location"], "redirect_uri=https%3A%2F%2Ffn.lambda-url.eu-west-1.on.aws%2Fcallback") {
		t.Errorf("sign-in redirect: %d %v %v", resp.StatusCode, resp.Headers, err)
	}
	bad := event("fn.lambda-url.eu-west-1.on.aws", "/console")
	bad.RequestContext.HTTP.Method = http.MethodPost
	bad.Body, bad.IsBase64Encoded = "%%% not base64", true
	resp, err = h.Invoke(context.Background(), bad)
	if err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unreadable event: %d %v", resp.StatusCode, err)
	}
	if strings.Contains(logs.String(), "attacker.example") {
		t.Error("the Host header reached the app's URL")
	}
}

// A deployment without a client id answers a clear 503 page.
func TestNotConfigured(t *testing.T) {
	logs := &testlog.Buffer{}
	resp, err := webclient.NotConfigured(newLogger(logs))(context.Background(), events.APIGatewayV2HTTPRequest{RawPath: "/login"})
	if err != nil || resp.StatusCode != http.StatusServiceUnavailable ||
		!strings.Contains(resp.Body, "WebClientId") || !strings.HasPrefix(resp.Headers["Content-Type"], "text/html") ||
		resp.Headers["Content-Security-Policy"] == "" {
		t.Errorf("not configured: %d %v %q %v", resp.StatusCode, resp.Headers, resp.Body, err)
	}
	if !strings.Contains(logs.String(), "web client not configured") {
		t.Error("not logged")
	}
}
