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
	srv := &http.Server{Addr: cmp.Or(getenv("LISTEN_ADDR"), "localhost:8080"), Handler: app, ReadHeaderTimeout: 10 * time.Second}
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
