package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The documentation's shell commands, run against the local stack so that
// they cannot drift from what happens. Every command of a bash or sh block
// in README.md and docs/ is either run or skipped for a reason listed in
// skipReasons; a command that matches neither fails the test, so a new
// command gets classified when it is written.

const repoRoot = "../.."

// skipReasons are the commands that are not run, by what they start with,
// and why.
var skipReasons = []struct{ prefix, why string }{
	{"make local", "starts the stack on the fixed ports; the test starts it on free ones"},
	{"go run ./cmd/local &", "starts the stack on the fixed ports; the test starts it on free ones"},
	{"go run ./cmd/local -dynamodb-port", "starts the stack on the fixed ports; the test starts it on free ones, and gives cmd/api its DynamoDB"},
	{"make dynamodb-local", "installs DynamoDB Local with npm; TestStoreContractDynamoDBLocal (api) runs it"},
	{"export DYNAMODB_LOCAL_DIR=", "needs DynamoDB Local (make dynamodb-local); TestStoreContractDynamoDBLocal (api) runs it"},
	{`(cd "$DYNAMODB_LOCAL_DIR"`, "needs Java and DynamoDB Local; TestStoreContractDynamoDBLocal (api) runs it"},
	{"go run ./cmd/local -dynamodb-endpoint", "needs DynamoDB Local on port 8000; TestPetsOnAnExternalEndpoint (local/stack) starts the stack twice on one external endpoint"},
	{"aws dynamodb ", "needs a deployment on AWS"},
	{"aws secretsmanager ", "stores the web client's secret in an AWS account; TestConfigFromAWSReadsTheSecret (webclient) and the WebClient bootstrap test read such a secret from a stand-in Secrets Manager"},
	{"aws cognito-idp ", "needs a deployment on AWS with the stack's own user pool; TestCognitoOutputs (local/samtemplate) checks the commands the outputs give"},
	{"make deploy", "deploys to AWS with the SAM CLI"},
	{"make test", "is the test suite this test is part of"},
	{"make bench", "runs benchmarks for minutes"},
	{"make loadtest", "needs wrk and runs for minutes"},
	{"COLD=1 make smoke", "downloads and compiles everything from empty caches for minutes, on the fixed ports (run by hand, docs/benchmarks.md)"},
	{"sam ", "needs the SAM CLI with AWS or Docker"},
	{"export CGO_ENABLED=0", "sets up sam build, which needs the SAM CLI"},
	{"export ISSUER=https://YOUR_TENANT", "configures the web client for a real provider and a deployed API"},
	{"go run ./cmd/webclient", "needs a real provider and a deployed API"},
	{"ISSUER=https://", "configures the web client for a real provider"},
	{"CLIENT_ID=", "configures the web client for a real provider"},
	{"SCOPES=", "configures the web client for a real provider"},
	{"LOGOUT_URL=", "configures the web client for a real provider"},
	{"go test ", "is part of the test suite (make test)"},
	{"cat $(ls authorizer/", "is what TestAuthorizerStaysShort (internal/repocheck) measures and bounds"},
	{"make build", "cross-builds every function; TestAuthorizerBootstrapModules (internal/repocheck) builds and checks the bootstrap"},
	{"make screenshots", "runs the browser test on the fixed ports and writes docs/images"},
}

// deployedBlock marks a block that works on a deployed stack ($API from
// CloudFormation, a real provider): such a block needs AWS.
var deployedBlock = regexp.MustCompile(`aws cloudformation|YOUR_TENANT|\$API\b`)

// docCommand is one command of a block, continuation lines joined.
type docCommand struct {
	text       string // without its comment
	wantStatus string // for curl: the status the comment announces, "" for any 2xx
}

type docBlock struct {
	file     string
	commands []docCommand
}

var fenceRe = regexp.MustCompile("(?s)```(?:bash|sh)\n(.*?)```")

func docBlocks(t *testing.T) []docBlock {
	t.Helper()
	files := []string{filepath.Join(repoRoot, "README.md")}
	more, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	tutorial, _ := filepath.Glob(filepath.Join(repoRoot, "docs", "tutorial", "*.md"))
	var blocks []docBlock
	for _, f := range append(append(files, more...), tutorial...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range fenceRe.FindAllStringSubmatch(string(b), -1) {
			blocks = append(blocks, docBlock{file: f, commands: parseCommands(m[1])})
		}
	}
	return blocks
}

var statusRe = regexp.MustCompile(`\b[1-5]\d\d\b`)

// parseCommands splits a block into commands. A comment that follows a
// command on its line, or alone on the next line, may announce a curl
// command's status ("# 401 ...").
func parseCommands(block string) []docCommand {
	var out []docCommand
	lines := strings.Split(block, "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		for strings.HasSuffix(strings.TrimSpace(stripComment(line)), `\`) && i+1 < len(lines) {
			line = strings.TrimSuffix(strings.TrimSpace(stripComment(line)), `\`) + " " + strings.TrimSpace(lines[i+1])
			i++
		}
		text := strings.TrimSpace(stripComment(line))
		comment := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), text))
		if text == "" {
			if strings.HasPrefix(comment, "#") && len(out) > 0 && out[len(out)-1].wantStatus == "" && strings.HasPrefix(out[len(out)-1].text, "curl") {
				out[len(out)-1].wantStatus = statusRe.FindString(comment)
			}
			continue
		}
		c := docCommand{text: text}
		if strings.HasPrefix(text, "curl") || strings.HasPrefix(text, "for ") {
			c.wantStatus = statusRe.FindString(comment)
		}
		out = append(out, c)
	}
	return out
}

// stripComment removes a # comment that starts outside quotes after a
// space (or at the start of the line).
func stripComment(line string) string {
	var quote rune
	for i, r := range line {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t'):
			return line[:i]
		}
	}
	return line
}

func skipReason(c docCommand) string {
	for _, s := range skipReasons {
		if strings.HasPrefix(c.text, s.prefix) {
			return s.why
		}
	}
	return ""
}

// runnable are the commands this test runs, by what they start with.
var runnable = regexp.MustCompile(`^(curl |for p in [a-z/0-9 ]+; do curl |[A-Z_]+=\$\(go run \./cmd/local token|API=http://localhost:3000$|go run \./cmd/local( |$)|PETSTORE_DEV_MODE=true go run \./cmd/api( &)?$|export PETS_TABLE=PetsTable AWS_ENDPOINT_URL_DYNAMODB=http://127\.0\.0\.1:8001 )`)

// script turns commands into one bash script that stops at the first
// failure, naming it: a non-zero status, or a curl answer whose status is
// not the one the docs announce (any 2xx when they announce none).
func script(commands []docCommand, rewrite func(string) string) string {
	var b strings.Builder
	b.WriteString("set -u\ntrap 'kill $(jobs -p) 2>/dev/null' EXIT\n")
	for _, c := range commands {
		cmd := rewrite(c.text)
		quoted := shellQuote(c.text) // never expanded: a token in a variable stays out of the message
		if strings.HasPrefix(c.text, "for ") {
			// A loop of curl commands that each print their status first.
			fmt.Fprintf(&b, "out=$(%s)\nst=$?\n", cmd)
			fmt.Fprintf(&b, "if [ $st -ne 0 ]; then echo \"exit status $st: \"%s >&2; exit 1; fi\n", quoted)
			fmt.Fprintf(&b, "if [ -z \"$out\" ] || grep -qv '^%s ' <<<\"$out\"; then echo \"statuses $out, want %s each: \"%s >&2; exit 1; fi\n", c.wantStatus, c.wantStatus, quoted)
			continue
		}
		if strings.HasPrefix(c.text, "curl") {
			want := c.wantStatus
			if want == "" {
				want = "2[0-9][0-9]"
			}
			fmt.Fprintf(&b, "out=$(%s -o /dev/null -w '%%{http_code}')\nst=$?\n", cmd)
			fmt.Fprintf(&b, "if [ $st -ne 0 ]; then echo \"exit status $st: \"%s >&2; exit 1; fi\n", quoted)
			fmt.Fprintf(&b, "if ! [[ $out =~ ^%s$ ]]; then echo \"status $out, want %s: \"%s >&2; exit 1; fi\n", want, want, quoted)
			continue
		}
		server := strings.Contains(c.text, "go run ./cmd/api")
		if server && !strings.HasSuffix(cmd, "&") {
			cmd += " &" // a server the docs start in the foreground: here it must answer, then stop with the script
		}
		fmt.Fprintf(&b, "%s\nst=$?\n", cmd)
		fmt.Fprintf(&b, "if [ $st -ne 0 ]; then echo \"exit status $st: \"%s >&2; exit 1; fi\n", quoted)
		if server {
			b.WriteString("for i in $(seq 1 100); do curl -s -o /dev/null \"$DEV_API\" && break; sleep 0.1; done\n")
			fmt.Fprintf(&b, "curl -s -o /dev/null \"$DEV_API\" || { echo \"never answered: \"%s >&2; exit 1; }\n", quoted)
		}
	}
	return b.String()
}

// shellQuote quotes s for bash, with no expansion.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// runScript runs a script with bash in dir; the error holds its stderr.
func runScript(dir, script string, env []string) error {
	cmd := exec.Command("bash", "--noprofile", "--norc", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v\n%s", err, out)
	}
	return nil
}

// TestDocsCommandRunnerFails proves the runner can fail: a failing
// command, and curl answers with another status than the docs announce.
func TestDocsCommandRunnerFails(t *testing.T) {
	gw := httpStatusServer(t)
	noRewrite := func(s string) string { return s }
	tests := []struct {
		name, block string
		fails       bool
	}{
		{"false", "false\n", true},
		{"a failing command before a passing one", "false\ntrue\n", true},
		{"true", "true\n", false},
		{"200 when the docs say 401", "curl -s " + gw + "/200   # 401\n", true},
		{"401 when the docs announce none", "curl -s " + gw + "/401\n", true},
		{"401 announced on the next line", "curl -s " + gw + "/401\n# 401 Unauthorized\n", false},
		{"200", "curl -s " + gw + "/200\n", false},
		{"unreachable", "curl -s http://127.0.0.1:1/   # 200\n", true},
		{"a loop with a 401", "for p in 200 401; do curl -s -o /dev/null -w \"%{http_code} /$p\\n\" " + gw + "/$p; done   # 200 each\n", true},
		{"a loop of 200s", "for p in 200 200; do curl -s -o /dev/null -w \"%{http_code} /$p\\n\" " + gw + "/$p; done   # 200 each\n", false},
	}
	for _, tt := range tests {
		err := runScript(t.TempDir(), script(parseCommands(tt.block), noRewrite), nil)
		if (err != nil) != tt.fails {
			t.Errorf("%s: error %v, want failure %v", tt.name, err, tt.fails)
		}
	}
}

// httpStatusServer answers /NNN with status NNN.
func httpStatusServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		if err != nil {
			code = http.StatusNotFound
		}
		w.WriteHeader(code)
	}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

func TestDocsCommandsWorkAgainstTheLocalStack(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cmd/local and cmd/api and runs the docs' commands")
	}
	s := startStack(t, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	bins := buildCommands(t)
	devPort := freePort(t)
	devAPI := "http://localhost:" + devPort
	dir := t.TempDir()
	rewrite := strings.NewReplacer(
		"go run ./cmd/local token", bins["local"]+" token -issuer "+s.IssuerURL,
		"go run ./cmd/local event", bins["local"]+" event -issuer "+s.IssuerURL+" -out "+filepath.Join(dir, "event.json"),
		"go run ./cmd/local", bins["local"],
		"go run ./cmd/api", bins["api"],
		"http://localhost:3000", s.GatewayURL,
		"http://localhost:9000", s.IssuerURL,
		"http://localhost:8080", s.WebURL,
		"localhost:8081", "localhost:"+devPort,
		"http://127.0.0.1:8001", s.DynamoDBURL, // the stack's embedded DynamoDB, which the docs give a fixed port
	).Replace
	// cmd/api keeps its pets in the stack's table, as the docs' exports
	// say; every block gets them, since each runs in a shell of its own.
	env := []string{"PORT=" + devPort, "HOST=127.0.0.1", "DEV_API=" + devAPI + "/",
		"PETS_TABLE=" + s.PetsTable, "AWS_ENDPOINT_URL_DYNAMODB=" + s.DynamoDBURL,
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local"}

	ran := 0
	for _, b := range docBlocks(t) {
		var run []docCommand
		all := strings.Join(commandTexts(b.commands), "\n")
		deployed := deployedBlock.MatchString(all) && !strings.Contains(all, "API=http://localhost:3000")
		for _, c := range b.commands {
			switch {
			case deployed:
				t.Logf("skipped (%s): %s: needs a deployment on AWS", filepath.Base(b.file), c.text)
			case skipReason(c) != "":
				t.Logf("skipped (%s): %s: %s", filepath.Base(b.file), c.text, skipReason(c))
			case runnable.MatchString(c.text):
				run = append(run, c)
			default:
				t.Errorf("%s: %q is neither run by this test nor skipped for a reason: add it to runnable or skipReasons", b.file, c.text)
			}
		}
		if len(run) == 0 {
			continue
		}
		ran += len(run)
		if err := runScript(repoRoot, script(run, rewrite), env); err != nil {
			t.Errorf("%s: %v", b.file, err)
		}
	}
	if ran < 20 {
		t.Errorf("only %d commands ran: the docs lost their commands, or the parser broke", ran)
	}
	t.Logf("%d documented commands ran", ran)
}

func commandTexts(cs []docCommand) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.text
	}
	return out
}

var builtCommands = sync.OnceValues(func() (map[string]string, error) {
	dir, err := os.MkdirTemp("", "docs-commands")
	if err != nil {
		return nil, err
	}
	bins := map[string]string{}
	for _, name := range []string{"local", "api"} {
		bin := filepath.Join(dir, name)
		cmd := exec.Command("go", "build", "-o", bin, "./cmd/"+name)
		cmd.Dir = repoRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, errors.New(string(out))
		}
		bins[name] = bin
	}
	return bins, nil
})

func buildCommands(t *testing.T) map[string]string {
	t.Helper()
	bins, err := builtCommands()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(filepath.Dir(bins["local"])) })
	return bins
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr, ok := ln.Addr().(*net.TCPAddr)
	if !ok {
		t.Fatalf("listener address %v", ln.Addr())
	}
	return strconv.Itoa(addr.Port)
}
