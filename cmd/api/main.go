// Command api is the PetStore API (logical id "PetStoreFunction" in
// template.yaml). In Lambda it serves API Gateway proxy events; elsewhere it
// is a plain HTTP server on HOST:PORT (default 127.0.0.1:8081), stopped by
// SIGINT or SIGTERM. Either way the pets are in the DynamoDB table named by
// PETS_TABLE, reached through the AWS SDK's standard settings
// (AWS_ENDPOINT_URL_DYNAMODB for a local endpoint). See docs/api.md.
package main

import (
	"context"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/example/petstore-oidc/api"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	opts, err := api.OptionsFromEnv(os.Getenv)
	if err != nil {
		fail(logger, err)
	}
	store, err := api.NewDynamoStoreFromEnv(context.Background(), os.Getenv)
	if err != nil {
		fail(logger, err)
	}
	opts.Store, opts.Logger = store, logger
	router := api.NewRouter(opts)
	if os.Getenv(api.EnvLambdaRuntimeAPI) != "" {
		lambda.Start(api.NewLambdaHandler(router))
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", api.ListenAddrFromEnv(os.Getenv))
	if err != nil {
		fail(logger, err)
	}
	if err := api.Serve(ctx, ln, router, logger); err != nil {
		fail(logger, err)
	}
}

func fail(logger *slog.Logger, err error) {
	logger.Error("cannot run", "error", err.Error())
	os.Exit(1)
}
