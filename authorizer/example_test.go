package authorizer_test

import (
	"encoding/json"
	"fmt"

	"github.com/example/petstore-oidc/authorizer"
)

// A read-only token's policy covers the whole stage: it may list and read
// pets and call /me, and is explicitly denied POST /pets, whatever route it
// was first checked for. API Gateway caches this answer per token.
func ExampleBuildPolicy() {
	rules, _ := authorizer.ParseRouteRules(authorizer.DefaultRouteScopes)
	arn, _ := authorizer.ParseMethodARN("arn:aws:execute-api:us-east-1:123456789012:abcdef1234/Prod/GET/pets")
	policy := authorizer.BuildPolicy(arn.StageARN(), rules, []string{"openid", "pets:read"})
	out, _ := json.MarshalIndent(policy, "", "  ")
	fmt.Println(string(out))

	decision, _ := authorizer.Evaluate(policy, "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/Prod/POST/pets")
	fmt.Println("POST /pets:", decision)
	// Output:
	// {
	//   "Version": "2012-10-17",
	//   "Statement": [
	//     {
	//       "Action": [
	//         "execute-api:Invoke"
	//       ],
	//       "Effect": "Allow",
	//       "Resource": [
	//         "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/Prod/GET/pets",
	//         "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/Prod/GET/pets/*",
	//         "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/Prod/GET/me"
	//       ]
	//     },
	//     {
	//       "Action": [
	//         "execute-api:Invoke"
	//       ],
	//       "Effect": "Deny",
	//       "Resource": [
	//         "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/Prod/POST/pets"
	//       ]
	//     }
	//   ]
	// }
	// POST /pets: ExplicitDeny
}
