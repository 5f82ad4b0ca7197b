// Command authorizer is the Lambda TOKEN authorizer of PetStoreApi
// (logical id "Authorizer" in template.yaml). Configuration comes from the
// environment; see docs/authorizer.md.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/example/petstore-oidc/authorizer"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	cfg, err := authorizer.ConfigFromEnv(os.Getenv)
	if err != nil {
		logger.Error("cannot start", "error", err.Error())
		os.Exit(1)
	}
	cfg.Logger = logger
	a, err := authorizer.New(context.Background(), cfg)
	if err != nil {
		logger.Error("cannot start", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(a.Handle)
}
