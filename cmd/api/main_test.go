package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/example/petstore-oidc/api"
	"github.com/example/petstore-oidc/internal/dynamotest"
	"github.com/example/petstore-oidc/internal/lambdatest"
	"github.com/example/petstore-oidc/internal/testlog"
	"github.com/example/petstore-oidc/local/tables"
)

func sampleEvent(t testing.TB, name string) events.APIGatewayProxyRequest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayProxyRequest
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func invoke(t *testing.T, rt *lambdatest.Runtime, proc *lambdatest.Process, ev events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	t.Helper()
	payload, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	res, err := rt.InvokeProcess(proc, payload, 10*time.Second)
	if err != nil || res.Err != nil {
		t.Fatalf("invoke: %v %v\n%s", err, res.Err, proc.Output())
	}
	var out events.APIGatewayProxyResponse
	if err := json.Unmarshal(res.Payload, &out); err != nil {
		t.Fatalf("%v: %s", err, res.Payload)
	}
	return out
}

// petsTable creates a seeded pets table on the embedded DynamoDB server and
// returns the environment that points a bootstrap at it, through the AWS
// SDK's standard variables as in any non-AWS deployment.
func petsTable(t *testing.T) []string { return benchTable(t) }

func benchTable(t testing.TB) []string {
	t.Helper()
	db := dynamotest.Embedded(t)
	table := dynamotest.NewTable(t, db)
	ctx := context.Background()
	client, err := api.LoadDynamoClient(ctx, tables.LocalConfig(db.URL)...)
	if err != nil {
		t.Fatal(err)
	}
	if err := api.NewDynamoStore(client, table).SeedExamplePets(ctx); err != nil {
		t.Fatal(err)
	}
	return []string{
		api.EnvPetsTable + "=" + table,
		"AWS_ENDPOINT_URL_DYNAMODB=" + db.URL,
		"AWS_REGION=" + tables.LocalRegion,
		"AWS_ACCESS_KEY_ID=local",
		"AWS_SECRET_ACCESS_KEY=local",
	}
}

// TestBootstrapUnderLambdaRuntimeAPI builds the bootstrap as sam build does
// and sends it the sample proxy events through the Runtime API, as Lambda
// would: the pet created by one invocation is there for the next.
func TestBootstrapUnderLambdaRuntimeAPI(t *testing.T) {
	bootstrap := lambdatest.BuildHost(t, ".")
	rt := lambdatest.NewRuntime(t)
	proc := rt.Start(t, bootstrap, petsTable(t)...)

	list := invoke(t, rt, proc, sampleEvent(t, "petstore-list-pets.json"))
	if list.StatusCode != 200 || list.Body != `[{"id":1,"type":"dog","price":249.99}]` {
		t.Errorf("list: %d %s", list.StatusCode, list.Body)
	}
	created := invoke(t, rt, proc, sampleEvent(t, "petstore-create-pet.json"))
	if created.StatusCode != 201 || created.Body != `{"id":4,"type":"dog","price":249.99,"createdBy":"alice"}` {
		t.Errorf("create: %d %s", created.StatusCode, created.Body)
	}
	if loc := created.MultiValueHeaders["Location"]; len(loc) != 1 || loc[0] != "/Prod/pets/4" {
		t.Errorf("Location %v, want /Prod/pets/4", loc)
	}
	again := invoke(t, rt, proc, sampleEvent(t, "petstore-list-pets.json"))
	if again.Body != `[{"id":1,"type":"dog","price":249.99},{"id":4,"type":"dog","price":249.99,"createdBy":"alice"}]` {
		t.Errorf("list after create: %s", again.Body)
	}
	me := invoke(t, rt, proc, sampleEvent(t, "petstore-me.json"))
	if me.StatusCode != 200 || me.Body != `{"principal":"petstore-m2m","scopes":["pets:read","pets:write"],"clientId":"petstore-m2m"}` {
		t.Errorf("me: %d %s", me.StatusCode, me.Body)
	}

	proc.Stop()
	logs := proc.Output()
	if n := strings.Count(logs, `"msg":"request"`); n != 4 {
		t.Errorf("%d request lines, want 4:\n%s", n, logs)
	}
	for _, id := range []string{"7d4c2a10-5b3e-4f6a-9c1d-2e8f0a6b4c31", "b1e5f3a2-8c47-4d9e-a0b6-3f2c1d7e9a58", "2f9a6c3e-1d58-4b7a-8e0c-5a4b3c2d1e6f"} {
		if !strings.Contains(logs, `"request_id":"`+id+`"`) {
			t.Errorf("no request line with API Gateway request id %s", id)
		}
	}
	if strings.Contains(logs, "[GIN") || strings.Contains(logs, "REPLACE_WITH_AN_ACCESS_TOKEN") {
		t.Errorf("Gin debug output or the Authorization header in the logs:\n%s", logs)
	}
}

// getPetEvent is GET /pets/{id} as API Gateway sends it for alice.
func getPetEvent(t *testing.T, id int64) events.APIGatewayProxyRequest {
	ev := sampleEvent(t, "petstore-list-pets.json")
	path := "/pets/" + strconv.FormatInt(id, 10)
	ev.Resource, ev.Path, ev.PathParameters = "/pets/{petId}", path, map[string]string{"petId": strconv.FormatInt(id, 10)}
	ev.QueryStringParameters, ev.MultiValueQueryStringParameters = nil, nil
	ev.RequestContext.ResourcePath, ev.RequestContext.Path = "/pets/{petId}", "/Prod"+path
	return ev
}

// listPageEvent is GET /pets?after=ID; after "" is the first page.
func listPageEvent(t *testing.T, after string) events.APIGatewayProxyRequest {
	ev := sampleEvent(t, "petstore-list-pets.json")
	ev.QueryStringParameters = map[string]string{"after": after}
	ev.MultiValueQueryStringParameters = map[string][]string{"after": {after}}
	return ev
}

// TestTwoInstancesShareThePets runs two bootstraps side by side on one
// table, as Lambda does when API Gateway sends it concurrent requests: a pet
// created on one is read on the other at once; 100 creates (the stage's burst), 50 on each
// instance at the same time, get distinct ids and are all listed; and a
// fresh instance, after both stopped, still reads them.
func TestTwoInstancesShareThePets(t *testing.T) {
	bootstrap := lambdatest.BuildHost(t, ".")
	env := petsTable(t)
	rtA, rtB := lambdatest.NewRuntime(t), lambdatest.NewRuntime(t)
	a, b := rtA.Start(t, bootstrap, env...), rtB.Start(t, bootstrap, env...)

	created := invoke(t, rtA, a, sampleEvent(t, "petstore-create-pet.json"))
	if created.StatusCode != 201 {
		t.Fatalf("create on A: %d %s", created.StatusCode, created.Body)
	}
	if got := invoke(t, rtB, b, getPetEvent(t, 4)); got.StatusCode != 200 || got.Body != created.Body {
		t.Errorf("GET /pets/4 on B: %d %s, want 200 %s", got.StatusCode, got.Body, created.Body)
	}

	const n = 100 // the stage's burst
	bodies := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		rt, proc := rtA, a
		if i%2 == 1 {
			rt, proc = rtB, b
		}
		ev := sampleEvent(t, "petstore-create-pet.json")
		ev.Body = fmt.Sprintf(`{"type": "cat", "price": %d}`, 100+i)
		payload, _ := json.Marshal(ev)
		wg.Go(func() { // t.Errorf only: t.Fatal must not run on this goroutine
			res, err := rt.InvokeProcess(proc, payload, 30*time.Second)
			var out events.APIGatewayProxyResponse
			if err == nil && res.Err == nil {
				err = json.Unmarshal(res.Payload, &out)
			}
			if err != nil || res.Err != nil || out.StatusCode != 201 {
				t.Errorf("create %d: %v %v %d %s", i, err, res.Err, out.StatusCode, out.Body)
			}
			bodies[i] = out.Body
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	ids := map[int64]bool{}
	for _, body := range bodies {
		var p api.Pet
		if err := json.Unmarshal([]byte(body), &p); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		if ids[p.ID] {
			t.Errorf("id %d handed out twice", p.ID)
		}
		ids[p.ID] = true
	}
	listed := listAll(t, rtB, b)
	if len(listed) != 4+n {
		t.Errorf("%d pets listed, want %d", len(listed), 4+n)
	}
	for id := range ids {
		if !listed[id] {
			t.Errorf("pet %d not listed", id)
		}
	}

	a.Stop()
	b.Stop()
	rtC := lambdatest.NewRuntime(t)
	c := rtC.Start(t, bootstrap, env...)
	if got := invoke(t, rtC, c, getPetEvent(t, 4)); got.StatusCode != 200 || got.Body != created.Body {
		t.Errorf("GET /pets/4 on a fresh instance: %d %s, want 200 %s", got.StatusCode, got.Body, created.Body)
	}
	if again := listAll(t, rtC, c); len(again) != 4+n {
		t.Errorf("a fresh instance lists %d pets, want %d", len(again), 4+n)
	}
}

// listAll follows the pages of GET /pets and returns the ids listed, after
// checking X-Total-Count on each page.
func listAll(t *testing.T, rt *lambdatest.Runtime, proc *lambdatest.Process) map[int64]bool {
	t.Helper()
	listed := map[int64]bool{}
	after := ""
	for page := 1; page < 100; page++ {
		res := invoke(t, rt, proc, listPageEvent(t, after))
		var pets []api.Pet
		if err := json.Unmarshal([]byte(res.Body), &pets); res.StatusCode != 200 || err != nil {
			t.Fatalf("page %d: %d %s", page, res.StatusCode, res.Body)
		}
		for _, p := range pets {
			listed[p.ID] = true
		}
		if len(res.MultiValueHeaders["Link"]) == 0 {
			if total := res.MultiValueHeaders["X-Total-Count"]; len(total) != 1 || total[0] != strconv.Itoa(len(listed)) {
				t.Errorf("X-Total-Count %v, %d listed", total, len(listed))
			}
			return listed
		}
		link := res.MultiValueHeaders["Link"][0]
		want := fmt.Sprintf(`</Prod/pets?after=%d>; rel="next"`, pets[len(pets)-1].ID)
		if link != want {
			t.Fatalf("page %d: Link %s, want %s", page, link, want)
		}
		after = strconv.FormatInt(pets[len(pets)-1].ID, 10)
	}
	t.Fatal("more than 99 pages")
	return nil
}

// TestBootstrapNeedsItsTable: without PETS_TABLE the function stops at
// start, and its log names the variable.
func TestBootstrapNeedsItsTable(t *testing.T) {
	bootstrap := lambdatest.BuildHost(t, ".")
	rt := lambdatest.NewRuntime(t)
	proc := rt.Start(t, bootstrap)
	payload, _ := json.Marshal(sampleEvent(t, "petstore-me.json"))
	if _, err := rt.InvokeProcess(proc, payload, 10*time.Second); !errors.Is(err, lambdatest.ErrNoAnswer) {
		t.Fatalf("err = %v, want the function to exit", err)
	}
	if !strings.Contains(proc.Output(), "PETS_TABLE is not set") {
		t.Errorf("the log should name the variable:\n%s", proc.Output())
	}
}

func TestBootstrapRefusesDevModeInLambda(t *testing.T) {
	bootstrap := lambdatest.BuildHost(t, ".")
	rt := lambdatest.NewRuntime(t)
	proc := rt.Start(t, bootstrap, "PETSTORE_DEV_MODE=true")
	payload, _ := json.Marshal(sampleEvent(t, "petstore-me.json"))
	_, err := rt.InvokeProcess(proc, payload, 10*time.Second)
	if !errors.Is(err, lambdatest.ErrNoAnswer) {
		t.Fatalf("err = %v, want the function to exit", err)
	}
	if !strings.Contains(proc.Output(), "PETSTORE_DEV_MODE must not be set in Lambda") {
		t.Errorf("the log should name the variable:\n%s", proc.Output())
	}
}

// TestPlainHTTPServer runs the same binary outside Lambda on a free
// loopback port, calls it, and stops it with SIGTERM as a container
// runtime would.
func TestPlainHTTPServer(t *testing.T) {
	bootstrap := lambdatest.BuildHost(t, ".")
	tests := []struct {
		name       string
		env        []string
		petsStatus int
		wantLog    string
	}{
		{"protected routes refused", nil, 401, ""},
		{"development mode", []string{"PETSTORE_DEV_MODE=true"}, 200, `"level":"WARN","msg":"DEV MODE`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			server, base := startServer(t, bootstrap, append(petsTable(t), tc.env...)...)
			for path, want := range map[string]int{"/": 200, "/pets": tc.petsStatus, "/nope": 404} {
				res, err := http.Get(base + path)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != want {
					t.Errorf("GET %s: %d %s, want %d", path, res.StatusCode, body, want)
				}
			}
			if err := server.stop(); err != nil {
				t.Errorf("exit after SIGTERM: %v\n%s", err, server.output.String())
			}
			logs := server.output.String()
			if !strings.Contains(logs, `"msg":"stopped"`) || !strings.Contains(logs, tc.wantLog) {
				t.Errorf("logs lack a graceful stop or %q:\n%s", tc.wantLog, logs)
			}
			if tc.wantLog == "" && strings.Contains(logs, "DEV MODE") {
				t.Errorf("development mode without PETSTORE_DEV_MODE:\n%s", logs)
			}
		})
	}
}

// TestPlainHTTPServerKeepsPetsInDynamoDB: outside Lambda the server uses
// the same store, found through AWS_ENDPOINT_URL_DYNAMODB: a pet created
// on one server is read by the next one on the same table.
func TestPlainHTTPServerKeepsPetsInDynamoDB(t *testing.T) {
	bootstrap := lambdatest.BuildHost(t, ".")
	env := append(petsTable(t), "PETSTORE_DEV_MODE=true")
	first, base := startServer(t, bootstrap, env...)
	res, err := http.Post(base+"/pets", "application/json", strings.NewReader(`{"type": "fish", "price": 2.5}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	want := `{"id":4,"type":"fish","price":2.5,"createdBy":"dev-mode-user"}`
	if res.StatusCode != 201 || string(body) != want {
		t.Fatalf("POST /pets: %d %s, want 201 %s", res.StatusCode, body, want)
	}
	if err := first.stop(); err != nil {
		t.Fatal(err)
	}
	_, base = startServer(t, bootstrap, env...)
	res, err = http.Get(base + "/pets/4")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(body) != want {
		t.Errorf("GET /pets/4 on the next server: %d %s, want 200 %s", res.StatusCode, body, want)
	}
}

// BenchmarkBootstrap is the PetStore's cold start with its DynamoDB store:
// from the process's start to its first answer to GET /pets (the AWS SDK's
// configuration, the first connection and call to the embedded DynamoDB
// included), next to the smallest Go function under the same harness; and
// its peak RSS and the size of its arm64 binary.
func BenchmarkBootstrap(b *testing.B) {
	bootstrap := lambdatest.BuildHost(b, ".")
	minimal := lambdatest.BuildHost(b, "../../internal/lambdatest/testdata/minimal")
	env := benchTable(b)
	payload, _ := json.Marshal(sampleEvent(b, "petstore-list-pets.json"))
	lambdatest.BenchFirstAnswer(b, bootstrap, minimal, lambdatest.Build(b, ".", "arm64"), payload, env...)
}

type server struct {
	cmd    *exec.Cmd
	output *testlog.Buffer
	exited chan error
}

var listening = regexp.MustCompile(`"msg":"listening","addr":"([^"]+)"`)

// startServer runs the binary on 127.0.0.1 with PORT=0 (a free port, which
// it logs) and kills it when the test ends if it still runs.
func startServer(t *testing.T, bin string, env ...string) (*server, string) {
	t.Helper()
	s := &server{cmd: exec.Command(bin), output: &testlog.Buffer{}, exited: make(chan error, 1)}
	s.cmd.Env = append([]string{"HOST=127.0.0.1", "PORT=0", "PATH=" + os.Getenv("PATH")}, env...)
	s.cmd.Stdout, s.cmd.Stderr = s.output, s.output
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.exited <- s.cmd.Wait() }()
	t.Cleanup(func() { _ = s.cmd.Process.Kill() })
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := listening.FindStringSubmatch(s.output.String()); m != nil {
			return s, "http://" + m[1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the server did not log its address:\n%s", s.output.String())
	return nil, ""
}

func (s *server) stop() error {
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case err := <-s.exited:
		return err
	case <-time.After(15 * time.Second):
		return errors.New("still running 15s after SIGTERM")
	}
}
