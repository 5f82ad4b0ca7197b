// Package api is the PetStore API behind PetStoreApi: a Gin router with the
// pets, /me and welcome endpoints, the Store of the pets in DynamoDB
// (DynamoStore, shared by every Lambda instance), and the adapter that
// serves API Gateway REST proxy events through it in Lambda. It trusts the
// identity the gateway's authorizer put in the request context, checks the
// route's scope again, and outside Lambda refuses protected routes unless
// started in the documented development mode.
package api
