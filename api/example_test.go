package api_test

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/example/petstore-oidc/api"
)

// A proxy event as API Gateway sends it once the TOKEN authorizer has
// allowed the call: the authorizer's context is in requestContext.authorizer.
func ExampleNewLambdaHandler() {
	handler := api.NewLambdaHandler(api.NewRouter(api.Options{Logger: slog.New(slog.DiscardHandler)}))
	res, err := handler(context.Background(), events.APIGatewayProxyRequest{
		HTTPMethod: "POST",
		Path:       "/pets",
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       `{"type": "cat", "price": 19.99}`,
		RequestContext: events.APIGatewayProxyRequestContext{
			Stage:      "Prod",
			Path:       "/Prod/pets",
			RequestID:  "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
			Authorizer: map[string]any{"principalId": "alice", "scope": "pets:read pets:write"},
		},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.StatusCode, res.MultiValueHeaders["Location"])
	fmt.Println(res.Body)
	// Output:
	// 201 [/Prod/pets/4]
	// {"id":4,"type":"cat","price":19.99,"createdBy":"alice"}
}
