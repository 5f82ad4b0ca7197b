package api

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestOptionsFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    Options
		wantErr string
	}{
		{"nothing set: no dev mode, no CORS", nil, Options{}, ""},
		{"dev mode true", map[string]string{EnvDevMode: "true"}, Options{DevMode: true}, ""},
		{"dev mode 1", map[string]string{EnvDevMode: "1"}, Options{DevMode: true}, ""},
		{"dev mode false", map[string]string{EnvDevMode: "false"}, Options{}, ""},
		{"dev mode not a boolean", map[string]string{EnvDevMode: "yes"}, Options{}, `PETSTORE_DEV_MODE must be true or false, not "yes"`},
		{"dev mode refused in Lambda", map[string]string{EnvDevMode: "true", EnvLambdaRuntimeAPI: "127.0.0.1:9001"}, Options{}, "PETSTORE_DEV_MODE must not be set in Lambda"},
		{"dev mode on loopback", map[string]string{EnvDevMode: "true", EnvHost: "::1"}, Options{DevMode: true}, ""},
		{"dev mode refused on a public address", map[string]string{EnvDevMode: "true", EnvHost: "0.0.0.0"}, Options{}, "PETSTORE_DEV_MODE is only allowed on a loopback HOST"},
		{"dev mode false is fine in Lambda", map[string]string{EnvDevMode: "false", EnvLambdaRuntimeAPI: "127.0.0.1:9001"}, Options{}, ""},
		{"an origin", map[string]string{EnvCORSAllowOrigin: "https://app.example.com"}, Options{AllowOrigin: "https://app.example.com"}, ""},
		{"an origin with a port", map[string]string{EnvCORSAllowOrigin: "http://localhost:8080"}, Options{AllowOrigin: "http://localhost:8080"}, ""},
		{"any origin", map[string]string{EnvCORSAllowOrigin: "*"}, Options{AllowOrigin: "*"}, ""},
		{"an origin with a path", map[string]string{EnvCORSAllowOrigin: "https://app.example.com/"}, Options{}, "CORS_ALLOW_ORIGIN: "},
		{"not an origin", map[string]string{EnvCORSAllowOrigin: "app.example.com"}, Options{}, "CORS_ALLOW_ORIGIN: "},
		{"a list", map[string]string{EnvCORSAllowOrigin: "https://a.example, https://b.example"}, Options{}, "CORS_ALLOW_ORIGIN: "},
		{"scope names", map[string]string{EnvReadScope: "https://petstore.example.com/pets:read", EnvWriteScope: "pets.write"},
			Options{ReadScope: "https://petstore.example.com/pets:read", WriteScope: "pets.write"}, ""},
		{"two read scopes", map[string]string{EnvReadScope: "pets:read pets:admin"}, Options{}, `READ_SCOPE "pets:read pets:admin": one scope name`},
		{"a write scope list", map[string]string{EnvWriteScope: "a,b"}, Options{}, `WRITE_SCOPE "a,b": one scope name`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := OptionsFromEnv(func(k string) string { return tc.env[k] })
			if got != tc.want || (err == nil) != (tc.wantErr == "") || err != nil && !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("got %v, %v; want %v, %q", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestListenAddrFromEnv(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{nil, "127.0.0.1:8081"},
		{map[string]string{EnvPort: "9999"}, "127.0.0.1:9999"},
		{map[string]string{EnvHost: "0.0.0.0", EnvPort: "80"}, "0.0.0.0:80"},
		{map[string]string{EnvHost: "::1"}, "[::1]:8081"},
	}
	for _, tc := range tests {
		if got := ListenAddrFromEnv(func(k string) string { return tc.env[k] }); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.env, got, tc.want)
		}
	}
}

// TestServeShutsDownGracefully: a request in flight when the context ends
// still gets its answer, and Serve returns nil once it has.
func TestServeShutsDownGracefully(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	inHandler, release := make(chan struct{}), make(chan struct{})
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(inHandler)
		<-release
		_, _ = io.WriteString(w, "done")
	})
	var logs bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, ln, slow, slog.New(slog.NewJSONHandler(&logs, nil))) }()

	answer := make(chan string, 1)
	go func() {
		res, err := http.Get("http://" + ln.Addr().String() + "/")
		if err != nil {
			answer <- err.Error()
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		answer <- string(b)
	}()
	<-inHandler
	cancel()
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v before the request in flight was answered", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if got := <-answer; got != "done" {
		t.Errorf("request in flight got %q", got)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after shutdown")
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("still accepting connections after shutdown")
	}
	for _, msg := range []string{`"msg":"listening"`, `"msg":"shutting down"`, `"msg":"stopped"`} {
		if !strings.Contains(logs.String(), msg) {
			t.Errorf("no %s in the log:\n%s", msg, logs.String())
		}
	}
}
