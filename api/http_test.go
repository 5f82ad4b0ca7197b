package api

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The same router as a plain HTTP server, outside Lambda.

type httpCase struct {
	name        string
	method      string
	path        string
	header      map[string]string
	body        string
	wantStatus  int
	wantBody    string
	wantHeaders map[string]string
}

func runHTTPCases(t *testing.T, srv *httptest.Server, cases []httpCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, body)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			got, _ := io.ReadAll(res.Body)
			if res.StatusCode != tc.wantStatus || (tc.wantBody != "" && string(got) != tc.wantBody) {
				t.Errorf("%s %s: %d %s\nwant %d %s", tc.method, tc.path, res.StatusCode, got, tc.wantStatus, tc.wantBody)
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			for k, v := range tc.wantHeaders {
				if res.Header.Get(k) != v {
					t.Errorf("%s: %q, want %q", k, res.Header.Get(k), v)
				}
			}
		})
	}
}

func TestPlainHTTPRefusesProtectedRoutes(t *testing.T) {
	srv := httptest.NewServer(NewRouter(Options{Store: testStore(t), Logger: discardLogger()}))
	defer srv.Close()
	// What the adapter would put in a header for a gateway request: sent
	// by a client, it must not count.
	forged := `{"requestId":"x","authorizer":{"principalId":"mallory","scope":"pets:read pets:write"}}`
	unauthorized := `{"error":"authentication required"}`
	runHTTPCases(t, srv, []httpCase{
		{name: "welcome is public", method: "GET", path: "/", wantStatus: 200},
		{name: "list", method: "GET", path: "/pets", wantStatus: 401, wantBody: unauthorized},
		{name: "get", method: "GET", path: "/pets/1", wantStatus: 401, wantBody: unauthorized},
		{name: "create", method: "POST", path: "/pets", header: map[string]string{"Content-Type": "application/json"}, body: `{"type":"dog","price":1}`, wantStatus: 401, wantBody: unauthorized},
		{name: "me", method: "GET", path: "/me", wantStatus: 401, wantBody: unauthorized},
		{name: "a bearer token is not verified here", method: "GET", path: "/me", header: map[string]string{"Authorization": "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJtYWxsb3J5In0."}, wantStatus: 401, wantBody: unauthorized},
		{name: "forged gateway context header", method: "GET", path: "/pets", header: map[string]string{"X-GoLambdaProxy-ApiGw-Context": forged}, wantStatus: 401, wantBody: unauthorized},
		{name: "unknown route", method: "GET", path: "/admin", wantStatus: 404, wantBody: `{"error":"no such route"}`},
	})
}

func TestPlainHTTPDevMode(t *testing.T) {
	srv := httptest.NewServer(NewRouter(Options{Store: testStore(t), Logger: discardLogger(), DevMode: true}))
	defer srv.Close()
	jsonCT := map[string]string{"Content-Type": "application/json"}
	runHTTPCases(t, srv, []httpCase{
		{name: "me is the development identity", method: "GET", path: "/me", wantStatus: 200,
			wantBody: `{"principal":"dev-mode-user","scopes":["pets:read","pets:write"],"development":true}`},
		{name: "list", method: "GET", path: "/pets?type=fish", wantStatus: 200, wantBody: `[{"id":3,"type":"fish","price":0.99}]`,
			wantHeaders: map[string]string{"X-Total-Count": "1"}},
		{name: "create", method: "POST", path: "/pets", header: jsonCT, body: `{"type":"bird","price":12.5}`, wantStatus: 201,
			wantBody: `{"id":4,"type":"bird","price":12.5,"createdBy":"dev-mode-user"}`, wantHeaders: map[string]string{"Location": "/pets/4"}},
		{name: "empty type and after are absent", method: "GET", path: "/pets?type=&after=", wantStatus: 200,
			wantHeaders: map[string]string{"X-Total-Count": "4"}},
		{name: "after not a number", method: "GET", path: "/pets?after=two", wantStatus: 400,
			wantBody: `{"error":"after must be a pet id: a positive whole number","field":"after"}`},
		{name: "after zero", method: "GET", path: "/pets?after=0", wantStatus: 400},
		{name: "a page number of the old paging", method: "GET", path: "/pets?page=2", wantStatus: 400,
			wantBody: `{"error":"page is not supported: follow the Link rel=\"next\" header (?after=ID)","field":"page"}`},
		{name: "after overflowing int64", method: "GET", path: "/pets?after=99999999999999999999", wantStatus: 400},
		{name: "type in capitals", method: "GET", path: "/pets?type=Dog", wantStatus: 400},
		{name: "pet id zero", method: "GET", path: "/pets/0", wantStatus: 400},
		{name: "pet id overflowing int64", method: "GET", path: "/pets/99999999999999999999", wantStatus: 400},
		{name: "charset utf-8 in any case", method: "POST", path: "/pets", header: map[string]string{"Content-Type": "Application/JSON; Charset=UTF-8"}, body: `{"type":"cat","price":1}`, wantStatus: 201},
		{name: "another charset", method: "POST", path: "/pets", header: map[string]string{"Content-Type": "application/json; charset=latin1"}, body: `{"type":"cat","price":1}`, wantStatus: 415},
		{name: "form post", method: "POST", path: "/pets", header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, body: `type=cat&price=1`, wantStatus: 415},
		{name: "HEAD is not served", method: "HEAD", path: "/pets", wantStatus: 405, wantHeaders: map[string]string{"Allow": "GET, POST"}},
	})
}

// TestPlainHTTPBodyLimit sends bodies without a Content-Length (chunked),
// so only the limited reader can catch them.
func TestPlainHTTPBodyLimit(t *testing.T) {
	srv := httptest.NewServer(NewRouter(Options{Store: testStore(t), Logger: discardLogger(), DevMode: true}))
	defer srv.Close()
	tests := []struct {
		name   string
		body   string
		status int
	}{
		{"object over the limit", `{"type":"dog","price":1,"x":"` + strings.Repeat("a", MaxBodyBytes) + `"}`, 413},
		{"valid object then padding over the limit", `{"type":"dog","price":1}` + strings.Repeat(" ", MaxBodyBytes), 413},
		{"just under the limit", `{"type":"dog","price":1}` + strings.Repeat(" ", MaxBodyBytes-100), 201},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pr, pw := io.Pipe()
			go func() {
				_, _ = io.Copy(pw, strings.NewReader(tc.body))
				pw.Close()
			}()
			req, _ := http.NewRequest("POST", srv.URL+"/pets", pr)
			req.Header.Set("Content-Type", "application/json")
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var body ErrorBody
			_ = json.NewDecoder(res.Body).Decode(&body)
			if res.StatusCode != tc.status {
				t.Errorf("status %d (%+v), want %d", res.StatusCode, body, tc.status)
			}
			if tc.status == 413 && body.Error != "request body is larger than 64 KiB" {
				t.Errorf("body %+v", body)
			}
		})
	}
}
