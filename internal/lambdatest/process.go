package lambdatest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/example/petstore-oidc/internal/testlog"
)

// BuildFlags are the flags `sam build` cannot pass itself (SAM's go1.x
// builder runs a plain `go build` inside CodeUri): the Makefile and README
// put them in GOFLAGS, and so does Build.
const BuildFlags = "-tags=lambda.norpc -trimpath -ldflags=-s"

// Build compiles the main package in dir (a CodeUri such as cmd/authorizer)
// the way SAM's go1.x builder does: `go build` run inside dir, CGO_ENABLED=0,
// GOOS=linux, GOFLAGS=BuildFlags. goarch is Lambda's "arm64" for a
// deployment artifact, or runtime.GOARCH for a binary this machine can run.
// It returns the path of the bootstrap.
func Build(t testing.TB, dir, goarch string) string {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-o", out, ".")
	cmd.Dir = abs
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch, "GOFLAGS="+BuildFlags)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build in %s (GOARCH=%s): %v\n%s", dir, goarch, err, b)
	}
	return out
}

// BuildHost builds for this machine's architecture, to run in tests. On an
// arm64 machine it is byte for byte the deployment build.
func BuildHost(t testing.TB, dir string) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the bootstrap is a linux binary; run this test on linux")
	}
	return Build(t, dir, runtime.GOARCH)
}

// Process is a bootstrap running against a Runtime.
type Process struct {
	Started time.Time
	cmd     *exec.Cmd
	output  *testlog.Buffer
	exited  chan struct{}
	waitErr error
}

// Start runs the bootstrap with the Runtime's address, Lambda's own
// variables and the given environment (KEY=value; it wins over Lambda's),
// and kills it when the test ends.
func (r *Runtime) Start(t testing.TB, bootstrap string, env ...string) *Process {
	t.Helper()
	p := &Process{output: &testlog.Buffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(bootstrap)
	p.cmd.Env = append([]string{
		"AWS_LAMBDA_RUNTIME_API=" + r.Addr,
		"AWS_LAMBDA_FUNCTION_NAME=test",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_REGION=us-east-1",
		"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
		"_HANDLER=bootstrap",
		"TZ=UTC",
	}, env...)
	p.cmd.Stdout, p.cmd.Stderr = p.output, p.output
	p.Started = time.Now()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() { p.Stop() })
	return p
}

// Stop ends the process (SIGTERM, as Lambda does at shutdown, then SIGKILL)
// and waits for it.
func (p *Process) Stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(2 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// Output is what the process wrote to stdout and stderr so far: its logs.
func (p *Process) Output() string { return p.output.String() }

// PeakRSS is the process's peak resident set size in bytes so far (VmHWM
// of /proc/<pid>/status), read while it runs. The rusage of the reaped child
// is no use here: Linux carries the parent's high-water mark across
// fork+exec into the child's ru_maxrss, so it reports the test binary's RSS.
func (p *Process) PeakRSS() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// InvokeProcess sends one event through the Runtime to p and waits at most
// timeout; an exit of p before it answers is reported as ErrNoAnswer.
func (r *Runtime) InvokeProcess(p *Process, payload []byte, timeout time.Duration) (Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	go func() {
		select {
		case <-p.exited:
			cancel()
		case <-ctx.Done():
		}
	}()
	res, err := r.Invoke(ctx, payload)
	if err != nil && p.Exited() {
		return res, ErrNoAnswer
	}
	return res, err
}

// ErrNoAnswer reports a function that exited before answering.
var ErrNoAnswer = errors.New("function exited without answering")
