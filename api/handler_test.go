package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// event reads testdata/events/<name>.json.
func event(t testing.TB, name string) events.APIGatewayProxyRequest {
	t.Helper()
	return readEvent(t, filepath.Join("testdata", "events", name+".json"))
}

// panickingStore fails the way a bug would.
type panickingStore struct{ Store }

func (panickingStore) List(context.Context, ListQuery) (PetPage, error) {
	panic("index out of range [7] with length 3")
}

func TestLambdaHandlerRecoversPanics(t *testing.T) {
	var logs bytes.Buffer
	handler := NewLambdaHandler(NewRouter(Options{Store: panickingStore{}, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}))
	res, err := handler(context.Background(), event(t, "list-pets"))
	if err != nil {
		t.Fatal(err)
	}
	want := events.APIGatewayProxyResponse{
		StatusCode:        500,
		MultiValueHeaders: map[string][]string{"Content-Type": {"application/json; charset=utf-8"}},
		Body:              `{"error":"internal error"}`,
	}
	if fmt.Sprint(res) != fmt.Sprint(want) {
		t.Errorf("got %+v\nwant %+v", res, want)
	}
	line := oneLogLine(t, logs.String())
	if line["level"] != "ERROR" || line["status"] != 500.0 || line["panic"] != "index out of range [7] with length 3" {
		t.Errorf("log line %v: want level ERROR, status 500 and the panic value", line)
	}
	if strings.Contains(logs.String(), "goroutine") || strings.Contains(logs.String(), ".go:") {
		t.Errorf("the log holds a stack trace:\n%s", logs.String())
	}
}

// TestConcurrentCreatesGiveDistinctPets runs 100 POST /pets at once, the
// stage's burst, through one handler, as concurrent invocations of the
// local gateway do. No create retries against another: each takes its id
// with one UpdateItem (docs/api.md, "Limits"), and all succeed.
func TestConcurrentCreatesGiveDistinctPets(t *testing.T) {
	const n = 100
	handler := NewLambdaHandler(NewRouter(Options{Store: testStore(t), Logger: discardLogger()}))
	create := event(t, "create-pet")
	var wg sync.WaitGroup
	results := make([]events.APIGatewayProxyResponse, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			ev := create
			ev.Body = fmt.Sprintf(`{"type": "dog", "price": %d.%02d}`, 1+i, i)
			results[i], errs[i] = handler(context.Background(), ev)
		})
	}
	wg.Wait()

	ids := map[int64]bool{}
	for i, res := range results {
		if errs[i] != nil || res.StatusCode != 201 {
			t.Fatalf("request %d: %v, %d %s", i, errs[i], res.StatusCode, res.Body)
		}
		var p Pet
		if err := json.Unmarshal([]byte(res.Body), &p); err != nil {
			t.Fatal(err)
		}
		if ids[p.ID] {
			t.Errorf("id %d given twice", p.ID)
		}
		ids[p.ID] = true
		if loc := res.MultiValueHeaders["Location"]; len(loc) != 1 || loc[0] != fmt.Sprintf("/Prod/pets/%d", p.ID) {
			t.Errorf("pet %d: Location %v", p.ID, loc)
		}
		if want := float64(1+i) + float64(i)/100; p.Price != want || p.CreatedBy != "alice" {
			t.Errorf("request %d stored %+v, want price %v by alice", i, p, want)
		}
	}
	for id := int64(4); id < 4+n; id++ {
		if !ids[id] {
			t.Errorf("id %d missing: want ids 4..%d", id, 3+n)
		}
	}
	list := event(t, "list-pets")
	res, _ := handler(context.Background(), list)
	if got := res.MultiValueHeaders["X-Total-Count"]; len(got) != 1 || got[0] != strconv.Itoa(3+n) {
		t.Errorf("X-Total-Count %v, want %d", got, 3+n)
	}
}

// TestLocationResolvesToTheNewPet follows the Location of a POST the way
// the caller would: through the same stage, as a GET.
func TestLocationResolvesToTheNewPet(t *testing.T) {
	tests := []struct {
		name, create, ctxPath string // ctxPath: requestContext.path, if not the fixture's
		wantLocation, prefix  string
	}{
		{"execute-api domain: the stage is in the URL", "create-pet", "", "/Prod/pets/4", "/Prod"},
		{"custom domain without base path", "create-pet-custom-domain", "", "/pets/4", ""},
		{"custom domain with base path v1", "create-pet-custom-domain", "/v1/pets", "/v1/pets/4", "/v1"},
		{"a request context path that does not end with the path", "create-pet", "/elsewhere", "/pets/4", ""},
		{"a prefix a browser would read as a host", "create-pet", "//evil.example/pets", "/pets/4", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			handler := NewLambdaHandler(NewRouter(Options{Store: testStore(t), Logger: discardLogger()}))
			ev := event(t, tc.create)
			if tc.ctxPath != "" {
				ev.RequestContext.Path = tc.ctxPath
			}
			created, err := handler(context.Background(), ev)
			if err != nil || created.StatusCode != 201 {
				t.Fatalf("%v %d %s", err, created.StatusCode, created.Body)
			}
			loc := created.MultiValueHeaders["Location"]
			if len(loc) != 1 || loc[0] != tc.wantLocation {
				t.Fatalf("Location %v, want %s", loc, tc.wantLocation)
			}
			// The caller GETs the Location; API Gateway strips the prefix
			// from path and keeps it in requestContext.path.
			get := event(t, "get-pet")
			get.Path = strings.TrimPrefix(loc[0], tc.prefix)
			get.RequestContext.Path = loc[0]
			got, err := handler(context.Background(), get)
			if err != nil || got.StatusCode != 200 || got.Body != created.Body {
				t.Errorf("GET %s: %v %d %s, want the created pet %s", loc[0], err, got.StatusCode, got.Body, created.Body)
			}
		})
	}
}

func TestListLinksTheNextPage(t *testing.T) {
	handler := NewLambdaHandler(NewRouter(Options{Store: testStore(t), Logger: discardLogger()}))
	for range PageSize + 1 { // with pet 1, PageSize+2 dogs
		ev := event(t, "create-pet")
		ev.Body = `{"type": "dog", "price": 5}`
		if res, err := handler(context.Background(), ev); err != nil || res.StatusCode != 201 {
			t.Fatal(err, res.StatusCode)
		}
	}
	// The dogs are pets 1 and 4 to 14: page 1 ends with pet 12.
	tests := []struct {
		page     string // the cursor, ?after=
		wantIDs  int
		wantLink []string
	}{
		{"", PageSize, []string{`</Prod/pets?after=12&type=dog>; rel="next"`}},
		{"12", 2, nil},
		{"3", PageSize, []string{`</Prod/pets?after=13&type=dog>; rel="next"`}},
	}
	for _, tc := range tests {
		ev := event(t, "list-pets-dogs")
		ev.QueryStringParameters = map[string]string{"type": "dog", "after": tc.page}
		ev.MultiValueQueryStringParameters = map[string][]string{"type": {"dog"}, "after": {tc.page}}
		res, err := handler(context.Background(), ev)
		if err != nil || res.StatusCode != 200 {
			t.Fatal(err, res.StatusCode)
		}
		var pets []Pet
		if err := json.Unmarshal([]byte(res.Body), &pets); err != nil {
			t.Fatal(err)
		}
		if len(pets) != tc.wantIDs || fmt.Sprint(res.MultiValueHeaders["Link"]) != fmt.Sprint(tc.wantLink) ||
			fmt.Sprint(res.MultiValueHeaders["X-Total-Count"]) != fmt.Sprint([]string{fmt.Sprint(PageSize + 2)}) {
			t.Errorf("page %s: %d pets, headers %v; want %d pets, Link %v, X-Total-Count %d",
				tc.page, len(pets), res.MultiValueHeaders, tc.wantIDs, tc.wantLink, PageSize+2)
		}
	}
}

// TestDevModeNeverAppliesToGatewayRequests: a proxy event without an
// authorizer context stays anonymous even if DevMode was set by mistake.
func TestDevModeNeverAppliesToGatewayRequests(t *testing.T) {
	handler := NewLambdaHandler(NewRouter(Options{Store: testStore(t), Logger: discardLogger(), DevMode: true}))
	for _, name := range []string{"list-pets-no-identity", "create-pet-no-identity", "me-no-identity"} {
		res, err := handler(context.Background(), event(t, name))
		if err != nil || res.StatusCode != 401 {
			t.Errorf("%s: %v %d %s, want 401", name, err, res.StatusCode, res.Body)
		}
	}
}

// TestRequestLog checks the one line per request: what it has, and that it
// never has the token of the Authorization header.
func TestRequestLog(t *testing.T) {
	tests := []struct {
		event string
		want  map[string]any
	}{
		{"create-pet", map[string]any{
			"level": "INFO", "msg": "request", "request_id": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
			"lambda_request_id": "8476a536-e9f4-11e8-9739-2dfe598c3fcd", "principal": "alice",
			"method": "POST", "route": "/pets", "path": "/pets", "status": 201.0,
		}},
		{"get-pet-unknown", map[string]any{
			"level": "INFO", "principal": "bob", "method": "GET", "route": "/pets/:petId", "path": "/pets/99",
			"status": 404.0, "error": "pet 99 not found",
		}},
		{"list-pets-no-identity", map[string]any{
			"principal": "", "route": "/pets", "status": 401.0, "error": "authentication required",
		}},
		{"unknown-route", map[string]any{"route": "", "path": "/owners", "status": 404.0}},
	}
	for _, tc := range tests {
		t.Run(tc.event, func(t *testing.T) {
			var logs bytes.Buffer
			handler := NewLambdaHandler(NewRouter(Options{Store: testStore(t), Logger: slog.New(slog.NewJSONHandler(&logs, nil))}))
			ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "8476a536-e9f4-11e8-9739-2dfe598c3fcd"})
			ev := event(t, tc.event)
			if _, err := handler(ctx, ev); err != nil {
				t.Fatal(err)
			}
			line := oneLogLine(t, logs.String())
			for k, v := range tc.want {
				if line[k] != v {
					t.Errorf("%s = %#v, want %#v", k, line[k], v)
				}
			}
			if _, ok := line["latency_us"].(float64); !ok {
				t.Errorf("no latency_us in %v", line)
			}
			if token := ev.Headers["Authorization"]; token != "" {
				_, jws, _ := strings.Cut(token, " ")
				if strings.Contains(logs.String(), jws[:20]) || strings.Contains(strings.ToLower(logs.String()), "authorization") {
					t.Errorf("the log holds the Authorization header:\n%s", logs.String())
				}
			}
		})
	}
}

func oneLogLine(t *testing.T, logs string) map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(logs), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d log lines, want 1:\n%s", len(lines), logs)
	}
	var line map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &line); err != nil {
		t.Fatalf("log line is not JSON: %v\n%s", err, lines[0])
	}
	return line
}

// TestAllowOrigin: with Options.AllowOrigin every answer, errors included,
// carries the CORS headers a browser needs; without it, none does (the
// fixtures of TestLambdaHandlerAnswersProxyEvents have none).
func TestAllowOrigin(t *testing.T) {
	handler := NewLambdaHandler(NewRouter(Options{Store: testStore(t), Logger: discardLogger(), AllowOrigin: "https://app.example.com"}))
	for _, name := range []string{"list-pets", "create-pet", "list-pets-no-identity", "create-pet-bad-type", "unknown-route", "wrong-method-pets"} {
		res, err := handler(context.Background(), event(t, name))
		if err != nil {
			t.Fatal(err)
		}
		h := res.MultiValueHeaders
		if fmt.Sprint(h["Access-Control-Allow-Origin"]) != "[https://app.example.com]" ||
			fmt.Sprint(h["Access-Control-Expose-Headers"]) != "[Location, Link, X-Total-Count]" {
			t.Errorf("%s: %d with headers %v", name, res.StatusCode, h)
		}
	}
}

// With ReadScope and WriteScope set (a Cognito user pool names its scopes
// after its resource server), the API checks those names and no others;
// the welcome document and the development identity name them too.
func TestScopeNamesFromOptions(t *testing.T) {
	const read, write = "https://petstore.example.com/pets:read", "https://petstore.example.com/pets:write"
	handler := NewLambdaHandler(NewRouter(Options{Store: testStore(t), Logger: discardLogger(), ReadScope: read, WriteScope: write}))
	withScope := func(name, scope string) events.APIGatewayProxyRequest {
		ev := event(t, name)
		ev.RequestContext.Authorizer["scope"] = scope
		return ev
	}
	tests := []struct {
		event, scope string
		want         int
	}{
		{"list-pets", read, 200},
		{"get-pet", read, 200},
		{"create-pet", write, 201},
		{"list-pets", "pets:read", 403},
		{"get-pet", "openid pets:read pets:write", 403},
		{"create-pet", "pets:write " + read, 403},
		{"list-pets", write, 403},
	}
	for _, tt := range tests {
		res, err := handler(context.Background(), withScope(tt.event, tt.scope))
		if err != nil || res.StatusCode != tt.want {
			t.Errorf("%s with scope %q: %v %d %s, want %d", tt.event, tt.scope, err, res.StatusCode, res.Body, tt.want)
		}
	}

	res, err := handler(context.Background(), event(t, "get-root-public"))
	if err != nil || !strings.Contains(res.Body, `"scope":"`+read+`"`) || !strings.Contains(res.Body, `"scope":"`+write+`"`) ||
		strings.Contains(res.Body, `"scope":"pets:read"`) {
		t.Errorf("the welcome document does not name the configured scopes: %v %s", err, res.Body)
	}

	srv := httptest.NewServer(NewRouter(Options{Store: testStore(t), Logger: discardLogger(), DevMode: true, ReadScope: read, WriteScope: write}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/pets")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("dev mode with configured scopes: GET /pets answered %d", resp.StatusCode)
	}
}
