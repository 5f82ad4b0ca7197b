// Package lambdatest runs a built Lambda bootstrap the way the Lambda service
// does: it serves the Runtime API (version 2018-06-01: invocation/next,
// invocation/{id}/response, invocation/{id}/error and init/error) on
// loopback, starts the binary with AWS_LAMBDA_RUNTIME_API pointing at it, and
// hands it events. It also builds bootstraps exactly as `sam build` does.
// Test support only.
package lambdatest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// FunctionError is the body the runtime posts to invocation/{id}/error or
// init/error.
type FunctionError struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// Result is the outcome of one invocation: a payload, or the function's
// error.
type Result struct {
	Payload []byte
	Err     *FunctionError
}

type invocation struct {
	id      string
	payload []byte
	done    chan Result
}

// Runtime is a Lambda Runtime API on loopback.
type Runtime struct {
	Addr string // host:port, the value of AWS_LAMBDA_RUNTIME_API

	// OnNext, when set (before the function starts), is called each time
	// the function asks for its next event: the end of its initialisation,
	// the first time.
	OnNext func()

	srv     *httptest.Server
	queue   chan *invocation
	mu      sync.Mutex
	pending map[string]*invocation
	nextID  atomic.Int64
	initErr chan *FunctionError
}

// NewRuntime starts a Runtime API that stops when the test ends.
func NewRuntime(t testing.TB) *Runtime {
	r := &Runtime{
		queue:   make(chan *invocation, 16),
		pending: map[string]*invocation{},
		initErr: make(chan *FunctionError, 1),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", r.next)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", r.respond)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", r.respond)
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", r.initError)
	r.srv = httptest.NewServer(mux)
	r.Addr = strings.TrimPrefix(r.srv.URL, "http://")
	t.Cleanup(r.srv.Close)
	return r
}

// Invoke queues an event and waits for the function's answer.
func (r *Runtime) Invoke(ctx context.Context, payload []byte) (Result, error) {
	inv := &invocation{
		id:      fmt.Sprintf("00000000-0000-4000-8000-%012d", r.nextID.Add(1)),
		payload: payload,
		done:    make(chan Result, 1),
	}
	select {
	case r.queue <- inv:
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	select {
	case res := <-inv.done:
		return res, nil
	case fe := <-r.initErr:
		return Result{}, fmt.Errorf("function failed to initialise: %w", fe)
	case <-ctx.Done():
		return Result{}, fmt.Errorf("no answer from the function: %w", ctx.Err())
	}
}

func (r *Runtime) next(w http.ResponseWriter, req *http.Request) {
	if r.OnNext != nil {
		r.OnNext()
	}
	var inv *invocation
	select {
	case inv = <-r.queue:
	case <-req.Context().Done():
		return
	}
	r.mu.Lock()
	r.pending[inv.id] = inv
	r.mu.Unlock()
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(30*time.Second).UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:test")
	h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0")
	_, _ = w.Write(inv.payload)
}

func (r *Runtime) respond(w http.ResponseWriter, req *http.Request) {
	id := req.PathValue("id")
	r.mu.Lock()
	inv, ok := r.pending[id]
	delete(r.pending, id)
	r.mu.Unlock()
	if !ok {
		http.Error(w, `{"errorMessage":"unknown request id","errorType":"InvalidRequestID"}`, http.StatusBadRequest)
		return
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	res := Result{Payload: body}
	if strings.HasSuffix(req.URL.Path, "/error") {
		res = Result{Err: decodeError(body)}
	}
	w.WriteHeader(http.StatusAccepted)
	inv.done <- res
}

func (r *Runtime) initError(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	select {
	case r.initErr <- decodeError(body):
	default:
	}
	w.WriteHeader(http.StatusAccepted)
}

func decodeError(body []byte) *FunctionError {
	var fe FunctionError
	if err := json.Unmarshal(body, &fe); err != nil || fe.Message == "" && fe.Type == "" {
		return &FunctionError{Message: string(body), Type: "Unparsable"}
	}
	return &fe
}
