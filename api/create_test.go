package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/example/petstore-oidc/internal/dynamotest"
)

// dynamoProxy forwards the calls to e. By the call's operation (GetItem,
// TransactWriteItems, ...), refuse may answer a status without forwarding
// the call, and answer may replace DynamoDB's answer by an empty one with
// another status; 0 lets the call through.
func dynamoProxy(t *testing.T, e dynamotest.Endpoint, refuse, answer func(op string) int) dynamotest.Endpoint {
	t.Helper()
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
		if status := refuse(op); status != 0 {
			w.WriteHeader(status)
			return
		}
		req, _ := http.NewRequest(r.Method, e.URL+r.URL.Path, r.Body)
		req.Header = r.Header.Clone()
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer res.Body.Close()
		if status := answer(op); status != 0 {
			w.WriteHeader(status)
			return
		}
		for k, v := range res.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(res.StatusCode)
		_, _ = io.Copy(w, res.Body)
	}))
	t.Cleanup(proxy.Close)
	return dynamotest.Endpoint{Name: "proxy", URL: proxy.URL}
}

func withIdempotencyKey(ev events.APIGatewayProxyRequest, key string) events.APIGatewayProxyRequest {
	ev.Headers = map[string]string{"Idempotency-Key": key, "Content-Type": "application/json"}
	ev.MultiValueHeaders = map[string][]string{"Idempotency-Key": {key}, "Content-Type": {"application/json"}}
	return ev
}

// A client that retries a create with the same Idempotency-Key gets the
// pet of its first create, also when the retries run at the same time;
// the key belongs to its caller.
func TestIdempotencyKeyGivesThePetOnce(t *testing.T) {
	s := newStore(t, dynamotest.Embedded(t), true)
	handler := NewLambdaHandler(NewRouter(Options{Store: s, Logger: discardLogger()}))
	create := withIdempotencyKey(event(t, "create-pet"), "order-7f3a")

	const n = 10
	results := make([]events.APIGatewayProxyResponse, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { results[i], _ = handler(context.Background(), create) })
	}
	wg.Wait()
	again, _ := handler(context.Background(), create)
	for i, res := range append(results, again) {
		if res.StatusCode != 201 || res.Body != results[0].Body {
			t.Errorf("create %d with the same key: %d %s, want 201 %s", i, res.StatusCode, res.Body, results[0].Body)
		}
	}
	var first Pet
	if err := json.Unmarshal([]byte(results[0].Body), &first); err != nil || first.CreatedBy != "alice" {
		t.Fatalf("%v %s", err, results[0].Body)
	}
	page, err := s.List(context.Background(), ListQuery{PageSize: 1000})
	if err != nil || page.Total != 4 || len(page.Pets) != 4 {
		t.Errorf("%d pets stored, %d counted (%v), want 4: one create for one key", len(page.Pets), page.Total, err)
	}

	// Another caller's key of the same name is another key.
	bob, err := s.Create(context.Background(), NewPet{Type: "cat", Price: 1, CreatedBy: "bob", IdempotencyKey: "order-7f3a"})
	if err != nil || bob.ID == first.ID || bob.CreatedBy != "bob" {
		t.Errorf("bob's create with alice's key = %+v, %v; want a pet of his own", bob, err)
	}

	for _, bad := range []string{"", "has space", strings.Repeat("k", MaxIdempotencyKey+1), "caf\u00e9"} {
		res, _ := handler(context.Background(), withIdempotencyKey(event(t, "create-pet"), bad))
		if res.StatusCode != 400 || !strings.Contains(res.Body, `"field":"Idempotency-Key"`) {
			t.Errorf("Idempotency-Key %q: %d %s, want 400 naming the header", bad, res.StatusCode, res.Body)
		}
	}
}

// A create whose transaction is applied but whose every answer is lost
// (the SDK's retries and the store's own) is checked before the caller is
// answered: the pet is ours, so the answer is 201, not a 503 inviting a
// retry that would store it twice. When even the check fails, the 503
// says the pet may be stored, and no Retry-After invites a blind retry.
func TestAmbiguousCreateIsCheckedBeforeA503(t *testing.T) {
	e := dynamotest.Embedded(t)
	table := dynamotest.NewTable(t, e)
	var lostAnswers, failReads atomic.Int64
	proxy := dynamoProxy(t, e, func(string) int { return 0 }, func(op string) int {
		switch {
		case op == "TransactWriteItems" && lostAnswers.Load() > 0:
			lostAnswers.Add(1)
			return http.StatusInternalServerError // applied, but the caller never learns it
		case op == "GetItem" && failReads.Load() > 0:
			return http.StatusServiceUnavailable
		}
		return 0
	})
	s := openStore(t, proxy, table, true)
	var logs bytes.Buffer
	handler := NewLambdaHandler(NewRouter(Options{Store: s, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}))

	lostAnswers.Store(1)
	res, _ := handler(context.Background(), event(t, "create-pet"))
	if res.StatusCode != 201 || !strings.Contains(res.Body, `"id":4`) {
		t.Errorf("every answer lost, the pet stored: %d %s, want 201 pet 4", res.StatusCode, res.Body)
	}
	if lostAnswers.Load() < 3 {
		t.Fatalf("%d answers lost: the test proves nothing", lostAnswers.Load()-1)
	}

	failReads.Store(1)
	res, _ = handler(context.Background(), event(t, "create-pet"))
	want, _ := json.Marshal(ErrorBody{Error: OutcomeUnknownMessage})
	if res.StatusCode != 503 || res.Body != string(want) || len(res.MultiValueHeaders["Retry-After"]) != 0 {
		t.Errorf("every answer and the check lost: %d %v %s, want 503 %s without Retry-After", res.StatusCode, res.MultiValueHeaders, res.Body, want)
	}
	lostAnswers.Store(0)
	failReads.Store(0)
	page, err := s.List(context.Background(), ListQuery{PageSize: PageSize})
	if err != nil || len(page.Pets) != 5 {
		t.Errorf("%d pets (%v), want 5: each create stored its pet once", len(page.Pets), err)
	}
}

// A create whose pet is stored but whose count fails is still a 201: the
// pet is there. The log line (WARN) says that X-Total-Count lags.
func TestCreateNotCountedIsStillA201(t *testing.T) {
	e := dynamotest.Embedded(t)
	table := dynamotest.NewTable(t, e)
	var written atomic.Bool
	proxy := dynamoProxy(t, e, func(op string) int {
		if op == "UpdateItem" && written.Load() {
			return http.StatusBadRequest // the ADD created 1 never reaches DynamoDB
		}
		return 0
	}, func(op string) int {
		if op == "TransactWriteItems" {
			written.Store(true)
		}
		return 0
	})
	s := openStore(t, proxy, table, true)
	written.Store(false) // the seed's transaction
	var logs bytes.Buffer
	handler := NewLambdaHandler(NewRouter(Options{Store: s, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}))
	res, _ := handler(context.Background(), event(t, "create-pet"))
	if res.StatusCode != 201 || !strings.Contains(res.Body, `"id":4`) {
		t.Errorf("%d %s, want 201 pet 4", res.StatusCode, res.Body)
	}
	line := oneLogLine(t, logs.String())
	if msg, _ := line["error"].(string); line["level"] != "WARN" || !strings.Contains(msg, "pet 4 is stored but not counted") {
		t.Errorf("log line %v: want WARN naming pet 4 not counted", line)
	}
	written.Store(false)
	page, err := s.List(context.Background(), ListQuery{PageSize: PageSize})
	if err != nil || len(page.Pets) != 4 || page.Total != 3 {
		t.Errorf("%d pets listed, %d counted (%v); want 4 listed, 3 counted", len(page.Pets), page.Total, err)
	}
}

// An item where the counter points (a partial restore, a manual edit) is
// a 500 at once whose log line names the pet and the repair, not a loop
// of 503s.
func TestInconsistentTableIsA500(t *testing.T) {
	s := newStore(t, dynamotest.Embedded(t), true)
	putItem(t, s, encodePet(pkPet, Pet{ID: 4, Type: "dog", Price: 1}))
	var logs bytes.Buffer
	handler := NewLambdaHandler(NewRouter(Options{Store: s, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}))
	start := time.Now()
	res, _ := handler(context.Background(), event(t, "create-pet"))
	if res.StatusCode != 500 || res.Body != `{"error":"internal error"}` {
		t.Errorf("create onto an existing item: %d %s, want 500", res.StatusCode, res.Body)
	}
	line := oneLogLine(t, logs.String())
	if msg, _ := line["error"].(string); !strings.Contains(msg, "pet 4 already exists") || !strings.Contains(msg, "set next to the highest id") {
		t.Errorf("log line %v: want the pet and the repair named", line)
	}
	if d := time.Since(start); d > opTimeout {
		t.Errorf("the 500 took %v: the store retried", d)
	}
	// The next create takes the next id and succeeds.
	if p, err := s.Create(context.Background(), NewPet{Type: "cat", Price: 1}); err != nil || p.ID != 5 {
		t.Errorf("the next create: %+v, %v; want pet 5", p, err)
	}
}

// A store call against an endpoint that accepts the connection and never
// answers ends in opTimeout with a 503: each attempt is cut at
// attemptTimeout, and the SDK makes at most sdkMaxAttempts.
func TestHangingEndpointIsBoundedInTime(t *testing.T) {
	var calls atomic.Int64
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	s := openStore(t, dynamotest.Endpoint{Name: "hanging", URL: srv.URL}, "pets", false).WithTimeout(opTimeout)
	var logs bytes.Buffer
	handler := NewLambdaHandler(NewRouter(Options{Store: s, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}))
	start := time.Now()
	res, _ := handler(context.Background(), event(t, "list-pets"))
	elapsed := time.Since(start)
	if res.StatusCode != 503 {
		t.Errorf("%d %s, want 503", res.StatusCode, res.Body)
	}
	// Generous above: a busy machine may be late to wake up, but never
	// as late as another attempt would take.
	if elapsed < opTimeout-attemptTimeout || elapsed > opTimeout+attemptTimeout {
		t.Errorf("answered after %v, want about %v", elapsed, opTimeout)
	}
	if line := oneLogLine(t, logs.String()); line["store_reason"] != "timeout" {
		t.Errorf("log line %v: want store_reason timeout", line)
	}
	if n := calls.Load(); n < 2 || n > sdkMaxAttempts {
		t.Errorf("%d attempts, want 2 to %d", n, sdkMaxAttempts)
	}
}

// TestConcurrentCreatesBurst measures 100 concurrent POST /pets, the
// stage's burst, on two instances of the store (each as deployed, with
// opTimeout): all must be 201 with distinct ids. docs/api.md ("Limits")
// cites the time it logs:
//
//	go test -race -count=1 ./api -run TestConcurrentCreatesBurst -v
func TestConcurrentCreatesBurst(t *testing.T) {
	for name, start := range map[string]func(testing.TB) dynamotest.Endpoint{"embedded": dynamotest.Embedded, "DynamoDB Local": dynamotest.DynamoDBLocal} {
		t.Run(name, func(t *testing.T) {
			endpoint := start(t)
			a := newStore(t, endpoint, true)
			b := openStore(t, endpoint, a.Table(), false)
			handlers := []func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error){
				NewLambdaHandler(NewRouter(Options{Store: a.WithTimeout(opTimeout), Logger: discardLogger()})),
				NewLambdaHandler(NewRouter(Options{Store: b.WithTimeout(opTimeout), Logger: discardLogger()})),
			}
			const n = 100
			statuses := make([]int, n)
			ids := make([]int64, n)
			slowest := make([]time.Duration, n)
			start := time.Now()
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					began := time.Now()
					res, err := handlers[i%2](context.Background(), event(t, "create-pet"))
					slowest[i] = time.Since(began)
					var p Pet
					if err == nil && json.Unmarshal([]byte(res.Body), &p) == nil {
						statuses[i], ids[i] = res.StatusCode, p.ID
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			seen := map[int64]bool{}
			var errs []error
			worst := time.Duration(0)
			for i := range n {
				worst = max(worst, slowest[i])
				if statuses[i] != 201 || seen[ids[i]] {
					errs = append(errs, fmt.Errorf("create %d: status %d, id %d", i, statuses[i], ids[i]))
				}
				seen[ids[i]] = true
			}
			t.Logf("%s: %d concurrent creates on 2 instances in %v (slowest %v), %d failed",
				endpoint.Name, n, elapsed.Round(time.Millisecond), worst.Round(time.Millisecond), len(errs))
			if err := errors.Join(errs...); err != nil {
				t.Error(err)
			}
		})
	}
}
