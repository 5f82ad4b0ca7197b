// Command webclient is the PetStore web client (logical id "WebClient" in
// template.yaml). In Lambda it serves function URL events through
// webclient.LambdaHandler, its client secret and the settings the stack
// writes after it (API URL; app client, with the stack's own user pool)
// read once from Secrets Manager (CLIENT_SECRET_ARN, SETTINGS_SECRET) and
// its sessions in DynamoDB (SESSIONS_TABLE).
// Elsewhere it is a plain HTTP server on LISTEN_ADDR (default
// localhost:8080), stopped by SIGINT or SIGTERM, configured by ISSUER,
// CLIENT_ID, CLIENT_SECRET (or CLIENT_SECRET_ARN), BASE_URL or
// REDIRECT_URL, API_URL, AUDIENCE, SCOPES, LOGOUT_URL and, optionally,
// SESSIONS_TABLE (else its sessions are in memory): see docs/webclient.md.
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

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/example/petstore-oidc/webclient"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	var err error
	if os.Getenv("AWS_LAMBDA_RUNTIME_API") != "" {
		err = runLambda(log, os.Getenv)
	} else {
		err = run(log, os.Getenv)
	}
	if err != nil {
		log.Error("cannot run", slog.String("error", err.Error()))
		fmt.Fprintln(os.Stderr, "webclient:", err)
		os.Exit(1)
	}
}

// runLambda reads the configuration and the secret at cold start, once for
// the instance's life, and serves events until Lambda stops the process.
func runLambda(log *slog.Logger, getenv func(string) string) error {
	ctx := context.Background()
	cfg, err := webclient.ConfigFromAWS(ctx, getenv, false)
	if webclient.OnlyNoClientID(err) {
		// Deployed before the provider was set up (tutorial part 2): a
		// clear 503 page on every request instead of a failed cold start.
		log.Warn("web client not configured: no client id; serving the 'not configured yet' page", slog.String("error", err.Error()))
		lambda.Start(webclient.NotConfigured(log))
		return nil
	}
	if err != nil {
		return err
	}
	if getenv(webclient.EnvSessionsTable) == "" {
		return errors.New(webclient.EnvSessionsTable + " is required in Lambda: every instance must see the same sessions (template.yaml's SessionsTable)")
	}
	cfg.Logger = log
	h, err := webclient.NewLambdaHandler(ctx, cfg)
	if err != nil {
		return err
	}
	lambda.Start(h.Invoke)
	return nil
}

func run(log *slog.Logger, getenv func(string) string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := webclient.ConfigFromAWS(ctx, getenv, true)
	if err != nil {
		return err
	}
	cfg.Logger = log
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
