package api_test

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/example/petstore-oidc/api"
	"github.com/example/petstore-oidc/local/samtemplate"
	"github.com/example/petstore-oidc/local/tables"
)

// A proxy event as API Gateway sends it once the TOKEN authorizer has
// allowed the call: the authorizer's context is in requestContext.authorizer.
// The pets are in DynamoDB: here the embedded server of the local stack,
// with the table of template.yaml.
func ExampleNewLambdaHandler() {
	ctx := context.Background()
	db, err := tables.StartServer("127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer db.Close()
	tpl, err := samtemplate.Load("../template.yaml", map[string]string{"Issuer": "https://issuer.example.com/", "Audience": "petstore"})
	if err != nil {
		panic(err)
	}
	def, err := tpl.Table("PetsTable")
	if err != nil {
		panic(err)
	}
	if err := tables.CreateOn(ctx, db.URL, def, "pets"); err != nil {
		panic(err)
	}
	client, err := api.LoadDynamoClient(ctx, tables.LocalConfig(db.URL)...)
	if err != nil {
		panic(err)
	}
	store := api.NewDynamoStore(client, "pets")
	if err := store.SeedExamplePets(ctx); err != nil { // pets 1 to 3
		panic(err)
	}

	handler := api.NewLambdaHandler(api.NewRouter(api.Options{Store: store, Logger: slog.New(slog.DiscardHandler)}))
	res, err := handler(ctx, events.APIGatewayProxyRequest{
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
