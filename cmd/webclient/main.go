// Command webclient runs the PetStore web client alone, against any OpenID
// provider and a deployed API. Configuration comes from the environment
// (ISSUER, CLIENT_ID, CLIENT_SECRET, REDIRECT_URL, API_URL, AUDIENCE,
// SCOPES, SESSION_KEY, LOGOUT_URL, LISTEN_ADDR): see docs/webclient.md.
package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/example/petstore-oidc/webclient"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if err := run(log, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "webclient:", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger, getenv func(string) string) error {
	cfg, err := webclient.ConfigFromEnv(getenv)
	if err != nil {
		return err
	}
	cfg.Logger = log
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	app, err := webclient.New(ctx, cfg)
	if err != nil {
		return err
	}
	srv := newServer(cmp.Or(getenv("LISTEN_ADDR"), "localhost:8080"), app, log)
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("web client listening", slog.String("addr", srv.Addr), slog.String("issuer", cfg.Issuer), slog.String("api", cfg.APIURL))
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// newServer bounds slow and idle clients. The longest a page may take is a
// console call: a token refresh (10 s at most) then the API call (15 s).
func newServer(addr string, h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       20 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
