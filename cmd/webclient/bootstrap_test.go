package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/example/petstore-oidc/internal/dynamotest"
	"github.com/example/petstore-oidc/internal/lambdatest"
	"github.com/example/petstore-oidc/local/idp"
	"github.com/example/petstore-oidc/local/tables"
)

// The function URL's domain, as AWS puts it in every event.
const domain = "abc123example.lambda-url.us-east-1.on.aws"

// The secret's value in the fake Secrets Manager: it must never be logged.
const clientSecret = "s3cret-value-never-logged"

var authRequestIDRe = regexp.MustCompile(`name="authRequestID" value="([^"]+)"`)

// fakeSecretsManager answers GetSecretValue for one secret, as the AWS SDK
// reaches it through AWS_ENDPOINT_URL_SECRETS_MANAGER, and counts the calls.
func fakeSecretsManager(t testing.TB, arn, value string, calls *atomic.Int64) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ SecretId string }
		json.NewDecoder(r.Body).Decode(&in)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" || in.SecretId != arn {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"__type":"ResourceNotFoundException","message":"no such secret"}`)
			return
		}
		calls.Add(1)
		json.NewEncoder(w).Encode(map[string]any{"ARN": arn, "Name": "petstore/webclient", "SecretString": value})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// functionURLEvent is the payload format 2.0 event a function URL sends.
func functionURLEvent(method, rawURL string, cookies ...string) events.APIGatewayV2HTTPRequest {
	u, _ := url.Parse(rawURL)
	return events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "$default", RawPath: u.Path, RawQueryString: u.RawQuery, Cookies: cookies,
		Headers: map[string]string{"host": domain, "user-agent": "test", "accept": "text/html"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			DomainName: domain, DomainPrefix: "abc123example", APIID: "abc123example", RequestID: "req",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: u.Path, Protocol: "HTTP/1.1", SourceIP: "203.0.113.7"},
		},
	}
}

// TestBootstrapUnderLambdaRuntimeAPI builds the WebClient bootstrap as sam
// build does and sends it function URL events through the Runtime API: the
// home page, the sign-in redirect with its cookie, the callback, a signed-in
// page. Its URL comes from the events' domain; its client secret from
// Secrets Manager, read once; its sessions from DynamoDB.
// deployment is what a deployed WebClient finds around it, on loopback: the
// development IdP (the callback registered on the function URL's domain),
// Secrets Manager with the client secret, DynamoDB with a sessions table.
// It returns the function's environment and the issuer.
func deployment(tb testing.TB, secretCalls *atomic.Int64) (env []string, issuer string) {
	tb.Helper()
	idpSrv := httptest.NewUnstartedServer(nil)
	issuer = "http://" + idpSrv.Listener.Addr().String()
	provider, err := idp.New(idp.Config{
		Issuer:          issuer,
		Audience:        "https://petstore.example.com",
		WebRedirectURIs: []string{"https://" + domain + "/callback"},
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		tb.Fatal(err)
	}
	idpSrv.Config.Handler = provider.Handler()
	idpSrv.Start()
	tb.Cleanup(idpSrv.Close)

	const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:petstore/webclient-AbCdEf"
	sm := fakeSecretsManager(tb, arn, `{"client_secret":"`+clientSecret+`","client_id":"`+idp.WebClientID+`"}`, secretCalls)
	db := dynamotest.Embedded(tb)
	table := dynamotest.NewSessionsTable(tb, db)
	return []string{
		"ISSUER=" + issuer,
		"CLIENT_SECRET_ARN=" + arn,
		"API_URL=http://127.0.0.1:3000",
		"SESSIONS_TABLE=" + table,
		"AWS_ENDPOINT_URL_DYNAMODB=" + db.URL,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER=" + sm.URL,
		"AWS_REGION=" + tables.LocalRegion,
		"AWS_ACCESS_KEY_ID=local",
		"AWS_SECRET_ACCESS_KEY=local",
	}, issuer
}

func TestBootstrapUnderLambdaRuntimeAPI(t *testing.T) {
	var secretCalls atomic.Int64
	env, issuer := deployment(t, &secretCalls)
	bootstrap := lambdatest.BuildHost(t, ".")
	rt := lambdatest.NewRuntime(t)
	proc := rt.Start(t, bootstrap, env...)
	invoke := func(ev events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
		t.Helper()
		payload, _ := json.Marshal(ev)
		res, err := rt.InvokeProcess(proc, payload, 10*time.Second)
		if err != nil || res.Err != nil {
			t.Fatalf("invoke %s: %v %v\n%s", ev.RawPath, err, res.Err, proc.Output())
		}
		var out events.APIGatewayV2HTTPResponse
		if err := json.Unmarshal(res.Payload, &out); err != nil {
			t.Fatalf("%v: %s", err, res.Payload)
		}
		return out
	}
	cookie := func(resp events.APIGatewayV2HTTPResponse, name string) string {
		for _, c := range resp.Cookies {
			if strings.HasPrefix(c, name+"=") {
				return strings.SplitN(c, ";", 2)[0]
			}
		}
		t.Fatalf("no %s cookie in %q", name, resp.Cookies)
		return ""
	}

	home := invoke(functionURLEvent(http.MethodGet, "/"))
	h := home.Headers
	if home.StatusCode != 200 || !strings.HasPrefix(h["Content-Type"], "text/html") || !strings.Contains(home.Body, "<html") {
		t.Fatalf("home: %d %v", home.StatusCode, h)
	}
	if !strings.Contains(h["Content-Security-Policy"], "frame-ancestors 'none'") || h["X-Frame-Options"] != "DENY" ||
		h["X-Content-Type-Options"] != "nosniff" || h["Strict-Transport-Security"] == "" || h["Cache-Control"] != "no-store" {
		t.Errorf("home page security headers: %v", h)
	}

	login := invoke(functionURLEvent(http.MethodGet, "/login"))
	authorize, _ := url.Parse(login.Headers["Location"])
	q := authorize.Query()
	if login.StatusCode != http.StatusFound || !strings.HasPrefix(authorize.String(), issuer+"/") ||
		q.Get("redirect_uri") != "https://"+domain+"/callback" || q.Get("client_id") != idp.WebClientID {
		t.Fatalf("sign-in redirect: %d to %s", login.StatusCode, authorize)
	}
	signin := cookie(login, "__Host-petstore_signin")
	if c := strings.Join(login.Cookies, " "); !strings.Contains(c, "HttpOnly") || !strings.Contains(c, "Secure") || !strings.Contains(c, "SameSite=Lax") {
		t.Errorf("sign-in cookie %q", c)
	}

	// Alice signs in at the IdP, which sends the browser to the callback.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), issuer) {
			return nil
		}
		return http.ErrUseLastResponse
	}}
	resp, err := browser.Get(authorize.String())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := authRequestIDRe.FindSubmatch(page)
	if m == nil {
		t.Fatalf("the IdP's login page: %d %s", resp.StatusCode, page)
	}
	resp, err = browser.PostForm(issuer+"/login", url.Values{"authRequestID": {string(m[1])}, "username": {"alice"}, "password": {"alice"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	callback := resp.Header.Get("Location")
	if !strings.HasPrefix(callback, "https://"+domain+"/callback?") {
		t.Fatalf("the IdP sent the browser to %q", callback)
	}

	// The callback event carries the sign-in cookie among others.
	done := invoke(functionURLEvent(http.MethodGet, callback, "unrelated=1", signin, "__Host-petstore_session=planted"))
	if done.StatusCode != http.StatusSeeOther || done.Headers["Location"] != "/" {
		t.Fatalf("callback: %d %v\n%s\n%s", done.StatusCode, done.Headers, done.Body, proc.Output())
	}
	session := cookie(done, "__Host-petstore_session")
	if session == "__Host-petstore_session=planted" {
		t.Error("the callback kept a planted session id")
	}
	profile := invoke(functionURLEvent(http.MethodGet, "/profile", signin, session))
	if profile.StatusCode != 200 || !strings.Contains(profile.Body, "Alice Example") {
		t.Errorf("profile: %d\n%s", profile.StatusCode, profile.Body)
	}

	if n := secretCalls.Load(); n != 1 {
		t.Errorf("the secret was read %d times, want once (at cold start)", n)
	}
	if out := proc.Output(); strings.Contains(out, clientSecret) {
		t.Errorf("the client secret is in the log:\n%s", out)
	}
}

// BenchmarkBootstrap is the web client's cold start as the Runtime API
// harness sees it: from the process's start to its first answer to GET /,
// which includes reading the secret from Secrets Manager, loading the AWS
// SDK's configuration and the provider's discovery document (all on
// loopback here; in AWS, network round trips more), next to the smallest Go
// function under the same harness.
func BenchmarkBootstrap(b *testing.B) {
	var secretCalls atomic.Int64
	env, _ := deployment(b, &secretCalls)
	bootstrap := lambdatest.BuildHost(b, ".")
	minimal := lambdatest.BuildHost(b, "../../internal/lambdatest/testdata/minimal")
	home, _ := json.Marshal(functionURLEvent(http.MethodGet, "/"))
	lambdatest.BenchFirstAnswer(b, bootstrap, minimal, lambdatest.Build(b, ".", "arm64"), home, env...)
}

// Deployed before the provider was set up (no WebClientId, no secret), the
// bootstrap starts anyway and answers every event with the 503 page that
// says what to set, not a failed cold start (a bare 502 at the URL).
func TestBootstrapNotConfiguredYet(t *testing.T) {
	var secretCalls atomic.Int64
	all, _ := deployment(t, &secretCalls)
	var env []string
	for _, kv := range all {
		if !strings.HasPrefix(kv, "CLIENT_SECRET_ARN=") && !strings.HasPrefix(kv, "CLIENT_ID=") {
			env = append(env, kv)
		}
	}
	bootstrap := lambdatest.BuildHost(t, ".")
	rt := lambdatest.NewRuntime(t)
	proc := rt.Start(t, bootstrap, env...)
	for _, path := range []string{"/", "/login"} {
		payload, _ := json.Marshal(functionURLEvent(http.MethodGet, path))
		res, err := rt.InvokeProcess(proc, payload, 10*time.Second)
		if err != nil || res.Err != nil {
			t.Fatalf("invoke %s: %v %v\n%s", path, err, res.Err, proc.Output())
		}
		var out events.APIGatewayV2HTTPResponse
		if err := json.Unmarshal(res.Payload, &out); err != nil {
			t.Fatalf("%v: %s", err, res.Payload)
		}
		if out.StatusCode != http.StatusServiceUnavailable || !strings.Contains(out.Body, "WebClientId") {
			t.Errorf("%s: %d %q", path, out.StatusCode, out.Body)
		}
	}
}
