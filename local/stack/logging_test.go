package stack

import (
	"bytes"
	"context"
	"log"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a log destination the server's goroutines and the test
// share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestAHandlerPanicIsLogged: a stack server whose handler panics leaves
// one log line naming the panic, at ERROR, with its component, and no
// goroutine dump.
func TestAHandlerPanicIsLogged(t *testing.T) {
	var logs syncBuffer
	s := &Stack{done: make(chan error, 1)}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.serve(l, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom in a handler") }),
		slog.New(slog.NewTextHandler(&logs, nil)).With("component", "idp"))
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	if _, err := http.Get("http://" + l.Addr().String() + "/"); err == nil {
		t.Error("the request succeeded; want the connection closed by the panic")
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "boom in a handler") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	got := logs.String()
	if !strings.Contains(got, "boom in a handler") || !strings.Contains(got, "level=ERROR") || !strings.Contains(got, "component=idp") {
		t.Fatalf("the panic left no ERROR line of the idp:\n%s", got)
	}
	if strings.Contains(got, "goroutine") || strings.Count(strings.TrimSpace(got), "\n") != 0 {
		t.Errorf("want one line without the goroutine dump:\n%s", got)
	}
}

// TestOnlyTheRouteLinesAreDropped: behind slog.SetDefault with the filter,
// the provider library's "registered route" records vanish and the log
// package's messages (what net/http writes without an ErrorLog) remain.
func TestOnlyTheRouteLinesAreDropped(t *testing.T) {
	var logs syncBuffer
	prev := slog.Default()
	t.Cleanup(func() { slog.SetDefault(prev) })
	slog.SetDefault(slog.New(WithoutRouteLines(slog.NewTextHandler(&logs, nil))).With("k", "v"))
	slog.Info("registered route", "endpoint", "/authorize")
	log.Print("http: superfluous response.WriteHeader call")
	slog.Info("something else")
	got := logs.String()
	if strings.Contains(got, "registered route") {
		t.Errorf("a route line passed:\n%s", got)
	}
	for _, want := range []string{"superfluous response.WriteHeader", "something else"} {
		if !strings.Contains(got, want) {
			t.Errorf("%q was dropped:\n%s", want, got)
		}
	}
}
