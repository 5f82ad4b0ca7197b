package main

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/example/petstore-oidc/internal/lambdatest"
	"github.com/example/petstore-oidc/internal/testlog"
)

func sampleEvent(t *testing.T, name string) events.APIGatewayProxyRequest {
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

// TestBootstrapUnderLambdaRuntimeAPI builds the bootstrap as sam build does
// and sends it the sample proxy events through the Runtime API, as Lambda
// would: the pet created by one invocation is there for the next.
func TestBootstrapUnderLambdaRuntimeAPI(t *testing.T) {
	bootstrap := lambdatest.BuildHost(t, ".")
	rt := lambdatest.NewRuntime(t)
	proc := rt.Start(t, bootstrap)

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
			server, base := startServer(t, bootstrap, tc.env...)
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
