// Command minimal is the smallest Go Lambda function that answers a TOKEN
// authorizer event: the floor against which the authorizer's cold start is
// measured (process start, Go runtime, aws-lambda-go, one invocation).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, events.APIGatewayCustomAuthorizerRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
		return events.APIGatewayCustomAuthorizerResponse{PrincipalID: "minimal"}, nil
	})
}
