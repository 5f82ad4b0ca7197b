package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// FuzzLambdaHandler feeds arbitrary requests from an identity with both
// scopes: whatever the event holds, the handler answers with no Go error,
// no 5xx, and a JSON body (an ErrorBody on failure).
func FuzzLambdaHandler(f *testing.F) {
	f.Add("POST", "/pets", "", "application/json", `{"type":"dog","price":1}`, false, "abcdef1234.execute-api.us-east-1.amazonaws.com")
	f.Add("GET", "/pets", "type=dog&page=2", "", "", false, "localhost:3000")
	f.Add("GET", "/pets/1?x#y", "page=99999999999999999999", "", "", false, "")
	f.Add("POST", "/pets", "", "application/json; charset=utf-8", `{"type":"cat","price":1e999}`, false, "a%zz")
	f.Add("POST", "/pets", "", "application/json", `eyJ0eXBlIjoiZG9nIiwicHJpY2UiOjF9`, true, "[::1]:3000")
	f.Add("DELETE", "/pets/%zz", "", "text/plain", "\x00\xff", false, "host with space")
	f.Add("G\xffT", "/me", "", "", "", false, "localhost")
	handler := NewLambdaHandler(NewRouter(Options{Store: testStore(f), Logger: discardLogger()}))
	base := event(f, "create-pet")
	f.Fuzz(func(t *testing.T, method, path, query, contentType, body string, b64 bool, domain string) {
		ev := base
		ev.HTTPMethod, ev.Path, ev.Body, ev.IsBase64Encoded = method, path, body, b64
		ev.RequestContext.DomainName = domain
		ev.Headers = map[string]string{"Content-Type": contentType}
		ev.MultiValueHeaders = map[string][]string{"Content-Type": {contentType}}
		ev.QueryStringParameters, ev.MultiValueQueryStringParameters = nil, nil
		for _, kv := range strings.Split(query, "&") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				if ev.MultiValueQueryStringParameters == nil {
					ev.MultiValueQueryStringParameters = map[string][]string{}
				}
				ev.MultiValueQueryStringParameters[k] = append(ev.MultiValueQueryStringParameters[k], v)
			}
		}
		res, err := handler(context.Background(), ev)
		if err != nil {
			t.Fatalf("error %v", err)
		}
		// 507: a long run can fill the worker's one store, which is no bug.
		if res.StatusCode >= 500 && res.StatusCode != http.StatusInsufficientStorage {
			t.Fatalf("%s %q: %d %s", method, path, res.StatusCode, res.Body)
		}
		if !json.Valid([]byte(res.Body)) {
			t.Fatalf("%s %q: body is not JSON: %q", method, path, res.Body)
		}
		if res.StatusCode >= 400 {
			var eb ErrorBody
			if json.Unmarshal([]byte(res.Body), &eb) != nil || eb.Error == "" {
				t.Fatalf("%d with body %s, want an ErrorBody", res.StatusCode, res.Body)
			}
		}
	})
}
