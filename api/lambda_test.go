package api

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

var update = flag.Bool("update", false, "rewrite testdata/responses/*.json from the handler's answers (review the diff!)")

// lambdaCases are the proxy events of testdata/events and the status each
// must get from a fresh router; the headers and body each must get, exactly,
// are in testdata/responses.
var lambdaCases = []struct {
	event  string
	status int
}{
	{"get-root-public", 200},

	{"list-pets", 200},
	{"list-pets-dogs", 200},
	{"list-pets-page-2", 200},
	{"list-pets-bad-type", 400},
	{"list-pets-bad-page", 400},
	{"list-pets-signed-page", 400},
	{"list-pets-repeated-page", 400},
	{"list-pets-no-identity", 401},
	{"list-pets-write-scope-only", 403},

	{"get-pet", 200},
	{"get-pet-unknown", 404},
	{"get-pet-bad-id", 400},
	{"get-pet-leading-zero", 400},
	{"get-pet-signed-id", 400},
	{"get-pet-decoded-path", 400},
	{"get-pet-stray-percent", 400},

	{"create-pet", 201},
	{"create-pet-custom-domain", 201},
	{"create-pet-base64-body", 201},
	{"create-pet-invalid-base64", 400},
	{"create-pet-read-scope-only", 403},
	{"create-pet-no-identity", 401},
	{"create-pet-malformed-json", 400},
	{"create-pet-empty-body", 400},
	{"create-pet-not-an-object", 400},
	{"create-pet-unknown-field", 400},
	{"create-pet-long-unknown-field", 400},
	{"create-pet-duplicate-field", 400},
	{"create-pet-field-case", 400},
	{"create-pet-trailing-data", 400},
	{"create-pet-missing-type", 400},
	{"create-pet-bad-type", 400},
	{"create-pet-null-price", 400},
	{"create-pet-negative-price", 400},
	{"create-pet-three-decimals", 400},
	{"create-pet-price-as-string", 400},
	{"create-pet-huge-price", 400},
	{"create-pet-too-large", 413},
	{"create-pet-text-plain", 415},
	{"create-pet-no-content-type", 415},

	{"me", 200},
	{"me-machine-client", 200},
	{"me-no-scopes", 200},
	{"me-no-identity", 401},

	{"unknown-route", 404},
	{"trailing-slash", 404},
	{"wrong-method-pets", 405},
	{"wrong-method-pet", 405},
	{"malformed-event-method", 400},
}

// wantResponse is a testdata/responses file: an APIGatewayProxyResponse with
// the body written as JSON, so that it can be read and reviewed.
type wantResponse struct {
	StatusCode        int                 `json:"statusCode"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Body              json.RawMessage     `json:"body"`
}

func TestLambdaHandlerAnswersProxyEvents(t *testing.T) {
	for _, tc := range lambdaCases {
		t.Run(tc.event, func(t *testing.T) {
			handler := NewLambdaHandler(NewRouter(Options{Store: testStore(t), Logger: discardLogger()}))
			got, err := handler(context.Background(), readEvent(t, filepath.Join("testdata", "events", tc.event+".json")))
			if err != nil {
				t.Fatalf("handler error %v: it must always answer", err)
			}
			if got.StatusCode != tc.status {
				t.Errorf("status %d, want %d; body %s", got.StatusCode, tc.status, got.Body)
			}
			wantFile := filepath.Join("testdata", "responses", tc.event+".json")
			if *update {
				writeResponse(t, wantFile, got)
			}
			want := readResponse(t, wantFile)
			if got.StatusCode != want.StatusCode {
				t.Errorf("status %d, %s says %d", got.StatusCode, wantFile, want.StatusCode)
			}
			if !reflect.DeepEqual(got.MultiValueHeaders, want.MultiValueHeaders) {
				t.Errorf("headers\n got %v\nwant %v", got.MultiValueHeaders, want.MultiValueHeaders)
			}
			if len(got.Headers) != 0 || got.IsBase64Encoded {
				t.Errorf("headers %v, isBase64Encoded %v: want only multiValueHeaders and a text body", got.Headers, got.IsBase64Encoded)
			}
			var wantBody bytes.Buffer
			if err := json.Compact(&wantBody, want.Body); err != nil {
				t.Fatalf("%s: body: %v", wantFile, err)
			}
			if got.Body != wantBody.String() {
				t.Errorf("body\n got %s\nwant %s", got.Body, wantBody.String())
			}
		})
	}
}

// TestEveryEventFixtureIsChecked keeps testdata/events and lambdaCases in
// step: a fixture nobody checks proves nothing.
func TestEveryEventFixtureIsChecked(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "events", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, tc := range lambdaCases {
		listed[tc.event] = true
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		if !listed[name] {
			t.Errorf("%s is not in lambdaCases", f)
		}
		delete(listed, name)
	}
	for name := range listed {
		t.Errorf("lambdaCases lists %s, which has no event file", name)
	}
}

func readEvent(t testing.TB, path string) events.APIGatewayProxyRequest {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayProxyRequest
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return ev
}

func readResponse(t *testing.T, path string) wantResponse {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./api -run TestLambdaHandlerAnswersProxyEvents -update to write it, then review it)", err)
	}
	var want wantResponse
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return want
}

func writeResponse(t *testing.T, path string, res events.APIGatewayProxyResponse) {
	t.Helper()
	body := json.RawMessage(res.Body)
	if !json.Valid(body) {
		t.Fatalf("body is not JSON: %q", res.Body)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // keep Link headers readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(wantResponse{res.StatusCode, res.MultiValueHeaders, body}); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
