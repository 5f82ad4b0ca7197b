// Package gateway emulates an API Gateway REST API with a Lambda TOKEN
// authorizer and Lambda proxy integrations, for the local stack and tests.
//
// It is configured from template.yaml (see local/samtemplate) and behaves as
// API Gateway does where this sample depends on it: the identity header and
// validation expression are checked before the authorizer runs; the
// authorizer's answer is cached per token for ReauthorizeEvery seconds and
// its policy evaluated against each request's method ARN; refusals get API
// Gateway's bodies, x-amzn-ErrorType and x-amzn-RequestId headers and the
// template's gateway response headers; allowed requests reach the function
// as events.APIGatewayProxyRequest. docs/local.md lists where it differs.
package gateway
