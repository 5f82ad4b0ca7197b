package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The environment cmd/api reads.
const (
	// EnvDevMode set to true starts the plain HTTP server in development
	// mode (Options.DevMode). Refused in Lambda.
	EnvDevMode = "PETSTORE_DEV_MODE"
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

// DevModeFromEnv reads EnvDevMode (strconv.ParseBool; empty is false). It
// is an error in Lambda, where every request comes through the gateway and
// the setting could only be a mistake worth stopping for.
func DevModeFromEnv(getenv func(string) string) (bool, error) {
	v := strings.TrimSpace(getenv(EnvDevMode))
	if v == "" {
		return false, nil
	}
	on, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s must be true or false, not %q", EnvDevMode, v)
	}
	if on && getenv(EnvLambdaRuntimeAPI) != "" {
		return false, fmt.Errorf("%s must not be set in Lambda: it is for running the API on a laptop", EnvDevMode)
	}
	return on, nil
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
