package functionurl_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/example/petstore-oidc/local/functionurl"
)

// Through the front door and aws-lambda-go-api-proxy's httpadapter (V2) and
// back, the two known failure points of such adapters hold: every request
// cookie reaches the handler, and several Set-Cookie headers all reach the
// browser. Query, method, binary bodies and status survive too.
func TestCookiesSurviveTheAdapter(t *testing.T) {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var names []string
		for _, c := range r.Cookies() {
			names = append(names, c.Name+"="+c.Value)
		}
		body, _ := io.ReadAll(r.Body)
		w.Header().Add("Set-Cookie", "one=1; Path=/; HttpOnly")
		w.Header().Add("Set-Cookie", "two=2; Path=/; Secure")
		http.SetCookie(w, &http.Cookie{Name: "three", Value: "3", Path: "/", MaxAge: -1})
		w.Header().Set("X-Seen", strings.Join(names, "&")+"|"+r.Method+"|"+r.URL.RawQuery+"|"+r.Host)
		w.WriteHeader(http.StatusTeapot)
		w.Write(body)
	})
	adapter := httpadapter.NewV2(app)
	var seen events.APIGatewayV2HTTPRequest
	door, err := functionurl.New(functionurl.Config{
		Domain: "abc.lambda-url.eu-west-1.on.aws",
		Instances: []functionurl.Handler{func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			seen = ev
			return adapter.ProxyWithContext(ctx, ev)
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(door)
	defer srv.Close()

	binary := []byte{0xff, 0x00, 0xfe, 'x'}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/form?a=1&b=two", bytes.NewReader(binary))
	req.Header.Add("Cookie", "a=1; b=2")
	req.Header.Add("Cookie", "c=3")
	req.Host = "attacker.example" // never becomes the domain
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)

	if !slices.Equal(seen.Cookies, []string{"a=1", "b=2", "c=3"}) || seen.Headers["cookie"] != "" {
		t.Errorf("event cookies %q, cookie header %q", seen.Cookies, seen.Headers["cookie"])
	}
	if !seen.IsBase64Encoded || seen.RequestContext.DomainName != "abc.lambda-url.eu-west-1.on.aws" {
		t.Errorf("event: base64 %v, domain %q", seen.IsBase64Encoded, seen.RequestContext.DomainName)
	}
	if want := "a=1&b=2&c=3|POST|a=1&b=two|abc.lambda-url.eu-west-1.on.aws"; resp.Header.Get("X-Seen") != want {
		t.Errorf("the handler saw %q, want %q", resp.Header.Get("X-Seen"), want)
	}
	var cookies []string
	for _, c := range resp.Cookies() {
		cookies = append(cookies, c.Name)
	}
	if !slices.Equal(cookies, []string{"one", "two", "three"}) {
		t.Errorf("Set-Cookie reached the browser for %v, want one, two, three", cookies)
	}
	if resp.StatusCode != http.StatusTeapot || !bytes.Equal(got, binary) {
		t.Errorf("answer %d %x", resp.StatusCode, got)
	}
}

// Instances take requests in turn; a handler that fails, panics or
// overruns its timeout is a 502.
func TestInstancesAndFailures(t *testing.T) {
	var calls [3]int
	ok := func(i int) functionurl.Handler {
		return func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			calls[i]++
			return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: "ok"}, nil
		}
	}
	door, _ := functionurl.New(functionurl.Config{Domain: "localhost", Instances: []functionurl.Handler{ok(0), ok(1), ok(2)}})
	for range 6 {
		rec := httptest.NewRecorder()
		door.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	}
	if calls != [3]int{2, 2, 2} {
		t.Errorf("calls per instance %v", calls)
	}
	for name, h := range map[string]functionurl.Handler{
		"error": func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			return events.APIGatewayV2HTTPResponse{}, io.ErrUnexpectedEOF
		},
		"panic": func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			panic("boom")
		},
		"timeout": func(ctx context.Context, _ events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			<-ctx.Done()
			return events.APIGatewayV2HTTPResponse{StatusCode: 200}, nil
		},
	} {
		door, _ := functionurl.New(functionurl.Config{Domain: "localhost", Timeout: 50 * time.Millisecond, Instances: []functionurl.Handler{h}})
		rec := httptest.NewRecorder()
		door.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		if rec.Code != http.StatusBadGateway || strings.Contains(rec.Body.String(), "boom") {
			t.Errorf("%s: %d %s", name, rec.Code, rec.Body)
		}
	}
}
