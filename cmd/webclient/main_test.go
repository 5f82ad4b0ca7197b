package main

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// A missing or wrong variable stops the command before it listens, with
// an error that names the variable.
func TestRunRefusesABadEnvironment(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"empty", map[string]string{}, []string{"ISSUER", "CLIENT_ID", "REDIRECT_URL", "API_URL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(slog.New(slog.NewTextHandler(io.Discard, nil)), func(k string) string { return tt.env[k] })
			if err == nil {
				t.Fatal("run accepted the environment")
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %s", err, want)
				}
			}
		})
	}
}

// The server closes slow and idle connections, but never cuts short a page
// that takes as long as a console call may (refresh 10 s, API call 15 s).
func TestServerBoundsSlowClients(t *testing.T) {
	srv := newServer("localhost:0", nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for name, d := range map[string]time.Duration{
		"ReadHeaderTimeout": srv.ReadHeaderTimeout, "ReadTimeout": srv.ReadTimeout, "IdleTimeout": srv.IdleTimeout,
	} {
		if d <= 0 || d > 2*time.Minute {
			t.Errorf("%s = %v, want a bound of at most 2 minutes", name, d)
		}
	}
	if srv.WriteTimeout < 25*time.Second+5*time.Second {
		t.Errorf("WriteTimeout = %v: a console call may take 25 s", srv.WriteTimeout)
	}
	if srv.MaxHeaderBytes <= 0 || srv.MaxHeaderBytes > 1<<20 {
		t.Errorf("MaxHeaderBytes = %d", srv.MaxHeaderBytes)
	}
}

// In Lambda the sessions must be in the shared table: without
// SESSIONS_TABLE the function refuses to start, naming the variable.
func TestLambdaNeedsTheSessionsTable(t *testing.T) {
	env := map[string]string{"ISSUER": "https://idp.example.com", "CLIENT_ID": "c", "API_URL": "https://api.example.com/Prod"}
	err := runLambda(slog.New(slog.NewTextHandler(io.Discard, nil)), func(k string) string { return env[k] })
	if err == nil || !strings.Contains(err.Error(), "SESSIONS_TABLE is required") {
		t.Fatalf("runLambda without SESSIONS_TABLE: %v", err)
	}
}
