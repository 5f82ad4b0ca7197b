package api

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/example/petstore-oidc/internal/dynamotest"
)

// dynamoAnswering is a DynamoDB endpoint that answers every call with
// status and a DynamoDB error body of code (none when code is empty), and
// counts the calls.
func dynamoAnswering(t *testing.T, status int, code, message string) (dynamotest.Endpoint, *atomic.Int64) {
	t.Helper()
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		w.Header().Set("x-amzn-RequestId", fmt.Sprintf("FAKE-REQUEST-%d", n))
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(status)
		if code == "" {
			fmt.Fprint(w, "<html>upstream broke</html>")
			return
		}
		fmt.Fprintf(w, `{"__type":"com.amazonaws.dynamodb.v20120810#%s","message":%q}`, code, message)
	}))
	t.Cleanup(srv.Close)
	return dynamotest.Endpoint{Name: "fake", URL: srv.URL}, &calls
}

// closedEndpoint is an address where nothing listens.
func closedEndpoint(t *testing.T) dynamotest.Endpoint {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()
	return dynamotest.Endpoint{Name: "closed", URL: url}
}

// TestStoreFaults: what the caller and the log get when DynamoDB fails.
// A failure that may pass is a 503 with Retry-After; a configuration fault
// is a 500; both with the API's one error shape, the reason and the AWS
// request id in the log line, and never a stack trace.
func TestStoreFaults(t *testing.T) {
	unavailable := `{"error":"` + UnavailableMessage + `"}`
	internal := `{"error":"internal error"}`
	tests := []struct {
		name      string
		store     func(t *testing.T) (Store, *atomic.Int64)
		event     string
		status    int
		body      string
		reason    string
		requestID string
		calls     int64 // attempts the SDK made, when counted
	}{
		{
			name: "table missing",
			store: func(t *testing.T) (Store, *atomic.Int64) {
				return openStore(t, dynamotest.Embedded(t), "no-such-table", false), nil
			},
			event: "list-pets", status: 500, body: internal, reason: "ResourceNotFoundException",
		},
		{
			name: "endpoint down",
			store: func(t *testing.T) (Store, *atomic.Int64) {
				return openStore(t, closedEndpoint(t), "pets", false), nil
			},
			event: "get-pet", status: 503, body: unavailable, reason: "endpoint unreachable",
		},
		{
			name: "throttled, retried three times",
			store: func(t *testing.T) (Store, *atomic.Int64) {
				e, calls := dynamoAnswering(t, 400, "ThrottlingException", "Rate of requests exceeds the allowed throughput.")
				return openStore(t, e, "pets", false), calls
			},
			event: "list-pets", status: 503, body: unavailable, reason: "ThrottlingException", requestID: "FAKE-REQUEST-3", calls: sdkMaxAttempts,
		},
		{
			name: "throttled create",
			store: func(t *testing.T) (Store, *atomic.Int64) {
				e, calls := dynamoAnswering(t, 400, "ProvisionedThroughputExceededException", "The level of configured provisioned throughput for the table was exceeded.")
				return openStore(t, e, "pets", false), calls
			},
			event: "create-pet", status: 503, body: unavailable, reason: "ProvisionedThroughputExceededException", requestID: "FAKE-REQUEST-3", calls: sdkMaxAttempts,
		},
		{
			name: "a server error DynamoDB does not model",
			store: func(t *testing.T) (Store, *atomic.Int64) {
				e, calls := dynamoAnswering(t, 502, "", "")
				return openStore(t, e, "pets", false), calls
			},
			event: "get-pet", status: 503, body: unavailable, requestID: "FAKE-REQUEST-3", calls: sdkMaxAttempts,
		},
		{
			name: "missing permissions",
			store: func(t *testing.T) (Store, *atomic.Int64) {
				e, calls := dynamoAnswering(t, 400, "AccessDeniedException", "User: arn:aws:sts::123456789012:assumed-role/x is not authorized to perform: dynamodb:Query")
				return openStore(t, e, "pets", false), calls
			},
			event: "list-pets", status: 500, body: internal, reason: "AccessDeniedException", requestID: "FAKE-REQUEST-1", calls: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store, calls := tc.store(t)
			var logs bytes.Buffer
			handler := NewLambdaHandler(NewRouter(Options{Store: store, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}))
			res, err := handler(context.Background(), event(t, tc.event))
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tc.status || res.Body != tc.body {
				t.Errorf("%d %s, want %d %s", res.StatusCode, res.Body, tc.status, tc.body)
			}
			if retry := res.MultiValueHeaders["Retry-After"]; (tc.status == 503) != (len(retry) == 1 && retry[0] == "1") {
				t.Errorf("Retry-After %v with status %d", retry, res.StatusCode)
			}
			line := oneLogLine(t, logs.String())
			if line["level"] != "ERROR" || (tc.reason != "" && line["store_reason"] != tc.reason) || line["aws_request_id"] != tc.requestID {
				t.Errorf("log line %v: want level ERROR, store_reason %q, aws_request_id %q", line, tc.reason, tc.requestID)
			}
			if calls != nil && calls.Load() != tc.calls {
				t.Errorf("%d calls to DynamoDB, want %d", calls.Load(), tc.calls)
			}
			if strings.Contains(logs.String(), "goroutine") || strings.Contains(logs.String(), ".go:") || strings.Contains(res.Body, "Exception") {
				t.Errorf("a stack trace in the log, or DynamoDB's error in the answer:\n%s\n%s", logs.String(), res.Body)
			}
		})
	}
}

// A full store answers POST /pets with 507 and keeps every pet it holds.
func TestFullStoreAnswers507(t *testing.T) {
	s := newStore(t, dynamotest.Embedded(t), true)
	setLastID(t, s, MaxPets)
	handler := NewLambdaHandler(NewRouter(Options{Store: s, Logger: discardLogger()}))
	res, err := handler(context.Background(), event(t, "create-pet"))
	if err != nil || res.StatusCode != 507 || res.Body != `{"error":"the store is full: it holds at most 10000 pets"}` {
		t.Errorf("POST /pets to a full store: %v %d %s, want 507", err, res.StatusCode, res.Body)
	}
	if p, err := s.Get(context.Background(), 1); err != nil || p.ID != 1 {
		t.Errorf("pet 1 after a refused create: %+v, %v", p, err)
	}
}

// A create whose answer is lost after DynamoDB applied it (here: a proxy
// that turns the first TransactWriteItems answer into a 500, so the SDK
// tries again and finds the count moved) gives the created pet once, not a
// second pet.
func TestCreateWhoseAnswerWasLost(t *testing.T) {
	e := dynamotest.Embedded(t)
	table := dynamotest.NewTable(t, e)
	var failed atomic.Bool
	none := func(string) int { return 0 }
	proxy := dynamoProxy(t, e, none, func(op string) int {
		if op == "TransactWriteItems" && failed.CompareAndSwap(false, true) {
			return http.StatusInternalServerError // applied, but the caller never learns it
		}
		return 0
	})
	s := openStore(t, proxy, table, true)
	failed.Store(false) // the seed went through; the next create loses its answer

	p, err := s.Create(context.Background(), NewPet{Type: "bird", Price: 5, CreatedBy: "alice"})
	if want := (Pet{ID: 4, Type: "bird", Price: 5, CreatedBy: "alice"}); err != nil || p != want {
		t.Fatalf("Create = %+v, %v; want %+v", p, err, want)
	}
	if !failed.Load() {
		t.Fatal("the proxy did not lose an answer: the test proves nothing")
	}
	page, err := s.List(context.Background(), ListQuery{PageSize: PageSize})
	if err != nil || page.Total != 4 || len(page.Pets) != 4 {
		t.Errorf("after one create: %d pets (%v), want 4", page.Total, err)
	}
}
