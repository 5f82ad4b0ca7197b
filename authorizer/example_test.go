package authorizer_test

import (
	"fmt"

	"github.com/example/petstore-oidc/authorizer"
)

// Route rules say which scopes each route needs; the authorizer turns them
// into one policy for the whole stage.
func ExampleParseRouteRules() {
	rules, err := authorizer.ParseRouteRules("GET /pets=pets:read,GET /pets/{petId}=pets:read,POST /pets=pets:write,GET /me=")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range rules {
		fmt.Printf("%s %s needs one of %q\n", r.Method, r.Path, r.Scopes)
	}
	// Output:
	// GET /pets needs one of ["pets:read"]
	// GET /pets/{petId} needs one of ["pets:read"]
	// POST /pets needs one of ["pets:write"]
	// GET /me needs one of []
}
