package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/example/petstore-oidc/local/idp"
)

// MachineToken gets an access token from the running development IdP with
// the client_credentials grant of the demo machine client. scopes narrows
// the token (e.g. pets:read only); none gives all of the client's scopes.
func MachineToken(ctx context.Context, issuer string, scopes []string) (string, error) {
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		return "", fmt.Errorf("the IdP at %s does not answer (is `make local` running?): %w", issuer, err)
	}
	cc := clientcredentials.Config{
		ClientID:     idp.M2MClientID,
		ClientSecret: idp.M2MClientSecret,
		TokenURL:     provider.Endpoint().TokenURL,
		Scopes:       scopes,
	}
	tok, err := cc.Token(ctx)
	if err != nil {
		return "", fmt.Errorf("client_credentials token: %w", err)
	}
	return tok.AccessToken, nil
}

// MethodARN is the method ARN the local gateway gives the authorizer for a
// request (its account, region and API id are the emulator's defaults).
func MethodARN(stage, method, path string) string {
	return fmt.Sprintf("arn:aws:execute-api:us-east-1:123456789012:local/%s/%s/%s", stage, strings.ToUpper(method), strings.TrimPrefix(path, "/"))
}

// TokenEvent is a TOKEN authorizer event carrying token, as API Gateway
// sends it, for `sam local invoke Authorizer -e FILE`.
func TokenEvent(token, methodARN string) ([]byte, error) {
	b, err := json.MarshalIndent(events.APIGatewayCustomAuthorizerRequest{
		Type:               "TOKEN",
		AuthorizationToken: "Bearer " + token,
		MethodArn:          methodARN,
	}, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
