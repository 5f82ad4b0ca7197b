package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The environment cmd/api reads.
const (
	// EnvDevMode set to true starts the plain HTTP server in development
	// mode (Options.DevMode). Refused in Lambda.
	EnvDevMode = "PETSTORE_DEV_MODE"
	// EnvCORSAllowOrigin is Options.AllowOrigin: the browser origin allowed
	// to read the API's answers (template.yaml's CorsAllowOrigin).
	EnvCORSAllowOrigin = "CORS_ALLOW_ORIGIN"
	// EnvReadScope and EnvWriteScope are Options.ReadScope and WriteScope
	// (template.yaml's ReadScope and WriteScope).
	EnvReadScope  = "READ_SCOPE"
	EnvWriteScope = "WRITE_SCOPE"
	// EnvHost and EnvPort are where the plain HTTP server listens.
	EnvHost = "HOST"
	EnvPort = "PORT"
	// EnvLambdaRuntimeAPI is set by Lambda; its presence means "in Lambda".
	EnvLambdaRuntimeAPI = "AWS_LAMBDA_RUNTIME_API"
)

// Defaults of the plain HTTP server. It binds loopback unless told
// otherwise: in development mode it answers anyone as DevIdentity.
const (
	DefaultHost = "127.0.0.1"
	DefaultPort = "8081"
)

// OptionsFromEnv reads EnvDevMode (strconv.ParseBool; empty is false),
// EnvCORSAllowOrigin, EnvReadScope and EnvWriteScope; the error names the
// variable at fault. Development mode is an error in Lambda, where every
// request comes through the gateway and the setting could only be a mistake
// worth stopping for. Store and Logger are left for the caller.
func OptionsFromEnv(getenv func(string) string) (Options, error) {
	var opts Options
	if v := strings.TrimSpace(getenv(EnvDevMode)); v != "" {
		on, err := strconv.ParseBool(v)
		if err != nil {
			return Options{}, fmt.Errorf("%s must be true or false, not %q", EnvDevMode, v)
		}
		if on && getenv(EnvLambdaRuntimeAPI) != "" {
			return Options{}, fmt.Errorf("%s must not be set in Lambda: it is for running the API on a laptop", EnvDevMode)
		}
		if host := strings.TrimSpace(getenv(EnvHost)); on && host != "" && !isLoopback(host) {
			return Options{}, fmt.Errorf("%s is only allowed on a loopback %s (127.0.0.1, ::1 or localhost), not %q: it lets anyone who reaches the server write pets without a token", EnvDevMode, EnvHost, host)
		}
		opts.DevMode = on
	}
	if v := strings.TrimSpace(getenv(EnvCORSAllowOrigin)); v != "" {
		if err := checkOrigin(v); err != nil {
			return Options{}, fmt.Errorf("%s: %w", EnvCORSAllowOrigin, err)
		}
		opts.AllowOrigin = v
	}
	for _, s := range []struct {
		env  string
		into *string
	}{{EnvReadScope, &opts.ReadScope}, {EnvWriteScope, &opts.WriteScope}} {
		v := getenv(s.env)
		if strings.ContainsAny(v, " \t\r\n,=") {
			return Options{}, fmt.Errorf("%s %q: one scope name, as the access tokens carry it, without spaces, commas or \"=\"", s.env, v)
		}
		*s.into = v
	}
	return opts, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkOrigin accepts "*" or one origin: scheme://host[:port], nothing else.
func checkOrigin(origin string) error {
	if origin == "*" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%q is not * or an origin such as https://app.example.com", origin)
	}
	return nil
}

// ListenAddrFromEnv is EnvHost:EnvPort with the defaults.
func ListenAddrFromEnv(getenv func(string) string) string {
	host, port := getenv(EnvHost), getenv(EnvPort)
	if host == "" {
		host = DefaultHost
	}
	if port == "" {
		port = DefaultPort
	}
	return net.JoinHostPort(host, port)
}

// Serve runs h on ln until ctx is done, then shuts down gracefully: it stops
// accepting, lets requests in flight finish for up to 10 seconds, and
// returns nil. The timeouts bound slow or idle clients.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("listening", "addr", ln.Addr().String())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}
