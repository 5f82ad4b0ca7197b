package samtemplate

import (
	"debug/elf"
	"encoding/json"
	"go/build"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/golang-jwt/jwt/v5"

	"github.com/example/petstore-oidc/api"
	"github.com/example/petstore-oidc/authorizer"
	"github.com/example/petstore-oidc/internal/lambdatest"
	"github.com/example/petstore-oidc/internal/testissuer"
)

// These tests check the repository's real template.yaml and samconfig.toml:
// what `sam build && sam deploy` would deploy, proven without an AWS account.

const root = "../.."

var required = map[string]string{"Issuer": "https://example.auth0.com/", "Audience": "https://petstore.example.com"}

func load(t *testing.T, extra map[string]string) *Template {
	t.Helper()
	params := map[string]string{}
	for k, v := range required {
		params[k] = v
	}
	for k, v := range extra {
		params[k] = v
	}
	tpl, err := Load(filepath.Join(root, "template.yaml"), params)
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

func TestTemplateResourcesAndOutputs(t *testing.T) {
	tpl := load(t, nil)
	for id, typ := range map[string]string{
		"Authorizer": typeFunction, "PetStoreFunction": typeFunction, "PetStoreApi": typeAPI,
		"AuthorizerLogGroup": "AWS::Logs::LogGroup", "PetStoreLogGroup": "AWS::Logs::LogGroup",
		"WebClient": typeFunction, "WebClientLogGroup": "AWS::Logs::LogGroup", "SessionsTable": typeTable,
	} {
		if got := tpl.Resources[id].Type; got != typ {
			t.Errorf("resource %s: type %q, want %s", id, got, typ)
		}
	}
	for id, fn := range map[string]string{"AuthorizerLogGroup": "Authorizer", "PetStoreLogGroup": "PetStoreFunction", "WebClientLogGroup": "WebClient"} {
		p := tpl.Resources[id].Properties
		if p["RetentionInDays"] != "14" || p["LogGroupName"] != "/aws/lambda/"+fn {
			t.Errorf("%s: %v", id, p)
		}
	}
	want := map[string]string{
		"ApiUrl":                 "https://PetStoreApi.execute-api.us-east-1.amazonaws.com/Prod",
		"AuthorizerFunctionName": "Authorizer",
		"AuthorizerName":         "OidcTokenAuthorizer",
		"PetsTableName":          "PetsTable",
		"PetsTableArn":           tableARNPrefix + "PetsTable",
		"WebClientUrl":           "https://webclient.lambda-url.us-east-1.on.aws/",
		"CallbackUrl":            "https://webclient.lambda-url.us-east-1.on.aws/callback",
		"SessionsTableName":      "SessionsTable",
		"WebClientEnvironment":   "API_URL=https://PetStoreApi.execute-api.us-east-1.amazonaws.com/Prod ISSUER=https://example.auth0.com/ AUDIENCE=https://petstore.example.com",
	}
	for name, value := range want {
		if got := tpl.Outputs[name].Value; got != value {
			t.Errorf("output %s = %q, want %q", name, got, value)
		}
	}
}

// TestPetsTable: the pets' table is on-demand, recoverable to any point of
// the last 35 days, kept when the stack is deleted or the table replaced,
// and keyed as api.DynamoStore expects; the PetStore finds it by !Ref.
func TestPetsTable(t *testing.T) {
	tpl := load(t, nil)
	tbl, err := tpl.Table("PetsTable")
	if err != nil {
		t.Fatal(err)
	}
	want := Table{
		LogicalID:            "PetsTable",
		BillingMode:          "PAY_PER_REQUEST",
		AttributeDefinitions: []AttributeDefinition{{"pk", "S"}, {"sk", "S"}},
		KeySchema:            []KeyElement{{"pk", "HASH"}, {"sk", "RANGE"}},
		PointInTimeRecovery:  true,
		DeletionPolicy:       "Retain",
		UpdateReplacePolicy:  "Retain",
	}
	if !reflect.DeepEqual(tbl, want) {
		t.Errorf("PetsTable %+v\nwant %+v", tbl, want)
	}
	fn, err := tpl.Function("PetStoreFunction")
	if err != nil {
		t.Fatal(err)
	}
	if fn.Environment[api.EnvPetsTable] != "PetsTable" {
		t.Errorf("%s = %q, want !Ref PetsTable", api.EnvPetsTable, fn.Environment[api.EnvPetsTable])
	}
}

// TestPetStoreMayUseItsTableOnly: PetStoreFunction's only policy allows
// what api.DynamoStore calls (GetItem, Query, UpdateItem, and
// TransactWriteItems, which IAM authorizes as its PutItem: PutItem only
// inside a transaction) on the pets' table, in the policy language's
// current Version, and
// nothing else: no Scan, no DeleteItem, no other table. The table has no
// index; an index would need its ARN (TABLE_ARN/index/NAME) here too.
func TestPetStoreMayUseItsTableOnly(t *testing.T) {
	tpl := load(t, nil)
	policies, _ := tpl.Resources["PetStoreFunction"].Properties["Policies"].([]any)
	b, _ := json.Marshal(policies)
	want := `[{"Statement":[{"Action":["dynamodb:GetItem","dynamodb:Query","dynamodb:UpdateItem"],"Effect":"Allow","Resource":"` + tableARNPrefix + `PetsTable"},` +
		`{"Action":"dynamodb:PutItem","Condition":{"ForAnyValue:StringEquals":{"dynamodb:EnclosingOperation":"TransactWriteItems"}},"Effect":"Allow","Resource":"` + tableARNPrefix + `PetsTable"}],"Version":"2012-10-17"}]`
	if string(b) != want {
		t.Errorf("PetStoreFunction's policies\n%s\nwant\n%s", b, want)
	}
	if _, ok := tpl.Resources["Authorizer"].Properties["Policies"]; ok {
		t.Error("the authorizer has policies: it needs none")
	}
	if tbl, _ := tpl.Table("PetsTable"); len(tbl.KeySchema) == 0 {
		t.Error("no PetsTable")
	}
}

// TestOneThrottledStage: PetStoreApi sets OpenApiVersion, without which SAM
// also deploys a stage named "Stage" that serves the API without the
// stage's settings; and every route is throttled.
func TestOneThrottledStage(t *testing.T) {
	p := load(t, nil).Resources["PetStoreApi"].Properties
	if v, _ := p["OpenApiVersion"].(string); !strings.HasPrefix(v, "3.") {
		t.Errorf("OpenApiVersion = %v: SAM would add a stage named Stage", p["OpenApiVersion"])
	}
	settings, _ := p["MethodSettings"].([]any)
	throttled := false
	for _, m := range settings {
		ms, _ := m.(map[string]any)
		rate, _ := ms["ThrottlingRateLimit"].(int)
		burst, _ := ms["ThrottlingBurstLimit"].(int)
		throttled = throttled || ms["ResourcePath"] == "/*" && ms["HttpMethod"] == "*" && rate > 0 && burst > 0
	}
	if !throttled {
		t.Errorf("no throttling on every route: MethodSettings %v", p["MethodSettings"])
	}
}

// TestParameterPatterns: CloudFormation refuses, before anything is
// deployed, an issuer that the authorizer would refuse at every cold start,
// and a scope that would break the route rules.
func TestParameterPatterns(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := decodeYAML(src)
	if err != nil {
		t.Fatal(err)
	}
	params := object(doc["Parameters"])
	tests := []struct {
		param, value string
		ok           bool
	}{
		{"Issuer", "https://example.auth0.com/", true},
		{"Issuer", "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC", true},
		{"Issuer", "http://example.auth0.com/", false},
		{"Issuer", "", true}, // the stack creates its own user pool
		{"Issuer", "example.auth0.com", false},
		{"Audience", "", true},
		{"Audience", "https://petstore.example.com,abc123", true},
		{"Audience", "a b", false},
		{"ReadScope", "https://petstore.example.com/pets:read", true},
		{"ReadScope", "pets.read", true},
		{"ReadScope", "pets:read pets:admin", false},
		{"WriteScope", "a,b", false},
		{"WriteScope", "", false},
	}
	for _, tt := range tests {
		pattern, ok := object(params[tt.param])["AllowedPattern"].(string)
		if !ok {
			t.Fatalf("parameter %s has no AllowedPattern", tt.param)
		}
		if got := regexp.MustCompile(pattern).MatchString(tt.value); got != tt.ok {
			t.Errorf("%s %q: allowed %v, want %v", tt.param, tt.value, got, tt.ok)
		}
	}
}

// functionDirs are the template's functions, the user pool's trigger
// included (it exists when Issuer is empty).
var functionDirs = map[string]string{"Authorizer": "cmd/authorizer/", "PetStoreFunction": "cmd/api/", "WebClient": "cmd/webclient/",
	"PreTokenGeneration": "cmd/pretoken/"}

func TestFunctionsAreBuiltAsSAMDoesForGo(t *testing.T) {
	tpl := loadCognito(t, nil)
	for id, codeURI := range functionDirs {
		fn, err := tpl.Function(id)
		if err != nil {
			t.Fatal(err)
		}
		if fn.CodeURI != codeURI || fn.Runtime != "provided.al2023" || fn.Handler != "bootstrap" ||
			!slices.Equal(fn.Architectures, []string{"arm64"}) || fn.BuildMethod != "go1.x" {
			t.Errorf("%s: %+v", id, fn)
		}
		pkg, err := build.ImportDir(filepath.Join(root, codeURI), 0)
		if err != nil || pkg.Name != "main" {
			t.Errorf("%s: CodeUri %s is not a main package: %v", id, codeURI, err)
		}
	}
}

func TestRoutesAndTheirAuthorizer(t *testing.T) {
	api, err := load(t, nil).RestAPI("PetStoreApi")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range api.Routes {
		got = append(got, r.Method+" "+r.Path+" -> "+r.Function+" auth="+r.Authorizer)
	}
	want := []string{
		"GET / -> PetStoreFunction auth=",
		"GET /me -> PetStoreFunction auth=OidcTokenAuthorizer",
		"GET /pets -> PetStoreFunction auth=OidcTokenAuthorizer",
		"POST /pets -> PetStoreFunction auth=OidcTokenAuthorizer",
		"GET /pets/{petId} -> PetStoreFunction auth=OidcTokenAuthorizer",
	}
	if !slices.Equal(got, want) {
		t.Errorf("routes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if api.StageName != "Prod" || api.DefaultAuthorizer != "OidcTokenAuthorizer" || api.AddDefaultAuthorizerToCorsPreflight {
		t.Errorf("api %+v", api)
	}
	a := api.Authorizers["OidcTokenAuthorizer"]
	if a.Function != "Authorizer" || a.PayloadType != "TOKEN" || a.Header != "Authorization" || a.ReauthorizeEvery != 300 {
		t.Errorf("authorizer %+v", a)
	}
	for _, ttl := range []string{"0", "3600"} {
		api, err := load(t, map[string]string{"AuthorizerCacheTtl": ttl}).RestAPI("PetStoreApi")
		if err != nil || (api.Authorizers["OidcTokenAuthorizer"].ReauthorizeEvery == 300) {
			t.Errorf("AuthorizerCacheTtl=%s not applied: %+v %v", ttl, api.Authorizers, err)
		}
	}
}

func TestValidationExpressionAcceptsRealTokensOnly(t *testing.T) {
	api, err := load(t, nil).RestAPI("PetStoreApi")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(api.Authorizers["OidcTokenAuthorizer"].ValidationExpression)

	iss := testissuer.New(t, "key-a")
	var dashes, underscores bool
	for i := range 40 {
		c := iss.Claims(time.Now(), required["Audience"])
		c["jti"] = strings.Repeat("j", i) // vary every segment's alphabet
		c["aud"] = []string{required["Audience"], "https://example.auth0.com/userinfo"}
		token := testissuer.Sign(t, "key-a", c, map[string]any{"typ": "at+jwt"})
		dashes = dashes || strings.Contains(token, "-")
		underscores = underscores || strings.Contains(token, "_")
		for _, scheme := range []string{"Bearer ", "bearer ", "BEARER "} {
			if !re.MatchString(scheme + token) {
				t.Fatalf("refuses a real token: %s%s", scheme, token)
			}
		}
	}
	if !dashes || !underscores {
		t.Fatal("the minted tokens never used - or _: the check proves too little")
	}
	unsigned, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "x"}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	for _, bad := range []string{
		"", "Basic dXNlcjpwYXNzd29yZA==", "Bearer", "Bearer ", "Bearer a.b", "Bearer a.b.c.d",
		"Bearer  a.b.c", "Bearer a.b.c ", "Bearer a b.c.d", "Bearer a+b.c.d", "Bearer a/b.c.d", "Bearer a.b.c==",
		"Bearer a^b.c.d", "Bearer a`b.c.d", "Bearer a[b].c.d", `Bearer a\b.c.d`, // what the popular A-z range lets through
		"Bearer " + unsigned, "Token a.b.c", "Bearer\ta.b.c",
	} {
		if re.MatchString(bad) {
			t.Errorf("accepts %q", bad)
		}
	}
}

func TestGatewayResponsesCarryCORSAndWWWAuthenticate(t *testing.T) {
	const origin = "https://app.example.com"
	api, err := load(t, map[string]string{"CorsAllowOrigin": origin}).RestAPI("PetStoreApi")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{
		"UNAUTHORIZED": 401, "ACCESS_DENIED": 403, "AUTHORIZER_CONFIGURATION_ERROR": 500,
		"AUTHORIZER_FAILURE": 500, "DEFAULT_4XX": 0, "DEFAULT_5XX": 0,
	}
	for typ, status := range want {
		gr, ok := api.GatewayResponses[typ]
		if !ok {
			t.Errorf("no gateway response %s", typ)
			continue
		}
		if gr.StatusCode != status || gr.Headers["Access-Control-Allow-Origin"] != origin || gr.Headers["Access-Control-Allow-Headers"] == "" {
			t.Errorf("%s: %+v", typ, gr)
		}
	}
	if got := api.GatewayResponses["UNAUTHORIZED"].Headers["WWW-Authenticate"]; got != "Bearer" {
		t.Errorf("401 WWW-Authenticate = %q", got)
	}
	if api.Cors == nil || api.Cors.AllowOrigin != origin || !strings.Contains(api.Cors.AllowHeaders, "Authorization") {
		t.Errorf("cors %+v", api.Cors)
	}
}

// TestAuthorizerConfigComesFromTheTemplate makes the template the one
// source of truth: the authorizer's configuration is loaded from the
// environment the template gives the function, so a renamed or missing
// variable fails here rather than in production.
func TestAuthorizerConfigComesFromTheTemplate(t *testing.T) {
	tpl := load(t, map[string]string{"JwksUri": "https://example.auth0.com/.well-known/jwks.json"})
	fn, err := tpl.Function("Authorizer")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := authorizer.ConfigFromEnv(func(k string) string { return fn.Environment[k] })
	if err != nil {
		t.Fatalf("the template's environment does not configure the authorizer: %v", err)
	}
	if cfg.Issuer != required["Issuer"] || !slices.Equal(cfg.Audiences, []string{required["Audience"]}) ||
		cfg.JWKSURI != "https://example.auth0.com/.well-known/jwks.json" {
		t.Errorf("config %+v", cfg)
	}
	known := []string{authorizer.EnvIssuer, authorizer.EnvTokenIssuer, authorizer.EnvAudience, authorizer.EnvJWKSURI,
		authorizer.EnvRouteScopes}
	for k := range fn.Environment {
		if !slices.Contains(known, k) {
			t.Errorf("the template sets %s, which the authorizer does not read", k)
		}
	}
	if got := fn.Environment[authorizer.EnvRouteScopes]; got != authorizer.DefaultRouteScopes {
		t.Errorf("ROUTE_SCOPES with the default parameters %q differs from the authorizer's default %q", got, authorizer.DefaultRouteScopes)
	}
}

// TestScopeParametersReachTheAuthorizerAndTheAPI: ReadScope and WriteScope
// (here as a Cognito user pool names its scopes) are the scopes both the
// authorizer's rules and the API's own check require, route by route.
func TestScopeParametersReachTheAuthorizerAndTheAPI(t *testing.T) {
	const read, write = "https://petstore.example.com/pets:read", "https://petstore.example.com/pets:write"
	tpl := load(t, map[string]string{"ReadScope": read, "WriteScope": write})
	authz, err := tpl.Function("Authorizer")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := authorizer.ConfigFromEnv(func(k string) string { return authz.Environment[k] })
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"GET /pets": read, "GET /pets/*": read, "POST /pets": write, "GET /me": ""}
	for _, rule := range cfg.Rules {
		scope, ok := want[rule.Method+" "+rule.Path]
		if !ok || !slices.Equal(rule.Scopes, strings.Fields(scope)) {
			t.Errorf("rule %s, want %s=%s", rule, rule.Method+" "+rule.Path, scope)
		}
		delete(want, rule.Method+" "+rule.Path)
	}
	if len(want) > 0 {
		t.Errorf("no rule for %v", want)
	}
	petstore, err := tpl.Function("PetStoreFunction")
	if err != nil {
		t.Fatal(err)
	}
	opts, err := api.OptionsFromEnv(func(k string) string { return petstore.Environment[k] })
	if err != nil || opts.ReadScope != read || opts.WriteScope != write {
		t.Errorf("the PetStore's options %+v, %v: want ReadScope %s and WriteScope %s", opts, err, read, write)
	}
}

// TestPetStoreConfigComesFromTheTemplate: the API's environment in the
// template configures it, and CORS follows the CorsAllowOrigin parameter.
func TestPetStoreConfigComesFromTheTemplate(t *testing.T) {
	fn, err := load(t, map[string]string{"CorsAllowOrigin": "https://app.example.com"}).Function("PetStoreFunction")
	if err != nil {
		t.Fatal(err)
	}
	opts, err := api.OptionsFromEnv(func(k string) string { return fn.Environment[k] })
	if err != nil {
		t.Fatalf("the template's environment does not configure the PetStore: %v", err)
	}
	if opts.AllowOrigin != "https://app.example.com" || opts.DevMode || opts.ReadScope != api.ScopeRead || opts.WriteScope != api.ScopeWrite {
		t.Errorf("options %+v", opts)
	}
	if table := fn.Environment[api.EnvPetsTable]; table != "PetsTable" {
		t.Errorf("%s = %q, want !Ref PetsTable", api.EnvPetsTable, table)
	}
	for k := range fn.Environment {
		if !slices.Contains([]string{api.EnvCORSAllowOrigin, api.EnvReadScope, api.EnvWriteScope, api.EnvPetsTable}, k) {
			t.Errorf("the template sets %s, which the PetStore does not read", k)
		}
	}
}

// TestEveryProtectedRouteHasARouteRule: a route of the template without its
// own rule in the authorizer's ROUTE_SCOPES would be refused (no Allow), or
// allowed by a wider wildcard rule; each must have a rule of its own.
func TestEveryProtectedRouteHasARouteRule(t *testing.T) {
	tpl := load(t, nil)
	api, err := tpl.RestAPI("PetStoreApi")
	if err != nil {
		t.Fatal(err)
	}
	fn, err := tpl.Function("Authorizer")
	if err != nil {
		t.Fatal(err)
	}
	rules, err := authorizer.ParseRouteRules(fn.Environment[authorizer.EnvRouteScopes])
	if err != nil {
		t.Fatal(err)
	}
	asRule := func(path string) string { return regexp.MustCompile(`\{[^}]+\}`).ReplaceAllString(path, "*") }
	for _, r := range api.Routes {
		if r.Authorizer == "" {
			continue
		}
		found := false
		for _, rule := range rules {
			found = found || rule.Method == r.Method && asRule(rule.Path) == asRule(r.Path)
		}
		if !found {
			t.Errorf("route %s %s has no rule of its own in ROUTE_SCOPES", r.Method, r.Path)
		}
	}
}

func TestSamconfig(t *testing.T) {
	var cfg struct {
		Version float64 `toml:"version"`
		Default struct {
			Global struct {
				Parameters struct {
					StackName string `toml:"stack_name"`
				} `toml:"parameters"`
			} `toml:"global"`
			Build struct {
				Parameters map[string]any `toml:"parameters"`
			} `toml:"build"`
			Deploy struct {
				Parameters map[string]any `toml:"parameters"`
			} `toml:"deploy"`
			LocalInvoke struct {
				Parameters map[string]any `toml:"parameters"`
			} `toml:"local_invoke"`
		} `toml:"default"`
	}
	if _, err := toml.DecodeFile(filepath.Join(root, "samconfig.toml"), &cfg); err != nil {
		t.Fatal(err)
	}
	d := cfg.Default
	if cfg.Version != 0.1 || d.Global.Parameters.StackName == "" {
		t.Errorf("version %v stack %q", cfg.Version, d.Global.Parameters.StackName)
	}
	if d.Build.Parameters["parallel"] != true || d.Build.Parameters["cached"] == true {
		t.Errorf("build parameters %v: want parallel, not cached", d.Build.Parameters)
	}
	dp := d.Deploy.Parameters
	if dp["capabilities"] != "CAPABILITY_IAM" || dp["confirm_changeset"] != true || dp["resolve_s3"] != true {
		t.Errorf("deploy parameters %v", dp)
	}
	// The overrides as `sam deploy` passes them: the template accepts
	// them (its Rules included), and they choose the stack's own user pool.
	overrides, _ := dp["parameter_overrides"].(string)
	params := map[string]string{}
	for _, m := range regexp.MustCompile(`(\w+)="([^"]*)"`).FindAllStringSubmatch(overrides, -1) {
		params[m[1]] = m[2]
	}
	if _, ok := params["Issuer"]; !ok || len(params) != strings.Count(overrides, "=") {
		t.Errorf("parameter_overrides %q: want KEY=\"VALUE\" pairs, Issuer among them", overrides)
	}
	tpl, err := Load(filepath.Join(root, "template.yaml"), params)
	if err != nil {
		t.Errorf("the template refuses samconfig.toml's parameter_overrides: %v", err)
	} else if _, ok := tpl.Resources["UserPool"]; !ok {
		t.Errorf("samconfig.toml's parameter_overrides do not create the stack's own user pool: %v", params)
	}
	envFile, _ := d.LocalInvoke.Parameters["env_vars"].(string)
	b, err := os.ReadFile(filepath.Join(root, envFile))
	if err != nil {
		t.Fatalf("local_invoke env_vars: %v", err)
	}
	var env map[string]map[string]string
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatal(err)
	}
	a := env["Authorizer"]
	if !strings.Contains(a["JWKS_URI"], "host.docker.internal") || a["ISSUER"] == "" || a["AUDIENCE"] == "" {
		t.Errorf("env vars for sam local invoke: %v", a)
	}
	t.Setenv("AWS_SAM_LOCAL", "true") // as sam local sets it: plain http to host.docker.internal is allowed then only
	if _, err := authorizer.ConfigFromEnv(func(k string) string { return a[k] }); err != nil {
		t.Errorf("the sam local invoke environment does not configure the authorizer: %v", err)
	}
}

// TestCrossBuildAsSAM builds each function as SAM's go1.x builder does (go
// build inside CodeUri, GOOS=linux GOARCH=arm64 CGO_ENABLED=0, the flags in
// GOFLAGS) and checks the result is a static, stripped arm64 executable.
func TestCrossBuildAsSAM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds three binaries")
	}
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil || !strings.Contains(string(makefile), "LAMBDA_GOFLAGS := "+lambdatest.BuildFlags+"\n") {
		t.Errorf("the Makefile's LAMBDA_GOFLAGS differ from %q", lambdatest.BuildFlags)
	}
	tpl := loadCognito(t, nil)
	for _, id := range slices.Sorted(maps.Keys(functionDirs)) {
		fn, err := tpl.Function(id)
		if err != nil {
			t.Fatal(err)
		}
		bin := lambdatest.Build(t, filepath.Join(root, fn.CodeURI), "arm64")
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		if f.Machine != elf.EM_AARCH64 {
			t.Errorf("%s: machine %v", id, f.Machine)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
				t.Errorf("%s: not static (%v)", id, p.Type)
			}
		}
		if f.Section(".symtab") != nil {
			t.Errorf("%s: not stripped (-ldflags=-s)", id)
		}
		f.Close()
	}
}

// TestOnlyAPIGatewayInvokesTheFunctions: the PetStore trusts the identity
// in requestContext, which whoever invokes it directly could forge; so the
// only invoke permission of the authorizer and the PetStore must be the one
// SAM creates for API Gateway from the functions' Api events. No function
// URL, no other event source, no permission of the template's own. (A
// principal of the account granted lambda:InvokeFunction by IAM can still
// invoke a function: no template can prevent that, docs/security.md says
// so.) The web client is the one exception, by design: a public web site
// behind its function URL (which SAM makes from FunctionUrlConfig, with its
// permissions), with no event source; it takes no identity from the event,
// only the function URL's domain.
func TestOnlyAPIGatewayInvokesTheFunctions(t *testing.T) {
	t.Run("with an Issuer", func(t *testing.T) { onlyAPIGatewayInvokes(t, load(t, nil)) })
	// The user pool's trigger is invoked by the pool alone
	// (TestTheTriggerIsInvokedByThePoolOnly).
	t.Run("the stack's own user pool", func(t *testing.T) { onlyAPIGatewayInvokes(t, loadCognito(t, nil)) })
}

func onlyAPIGatewayInvokes(t *testing.T, tpl *Template) {
	for id, res := range tpl.Resources {
		if id == "PreTokenGenerationPermission" || id == "PreTokenGeneration" {
			if _, ok := res.Properties["Events"]; ok || res.Properties["FunctionUrlConfig"] != nil {
				t.Errorf("%s has event sources or a function URL", id)
			}
			continue
		}
		if res.Type == "AWS::Lambda::Permission" || res.Type == "AWS::Lambda::Url" {
			t.Errorf("resource %s (%s) lets more than API Gateway invoke a function", id, res.Type)
		}
		if res.Type != typeFunction {
			continue
		}
		if id == "WebClient" {
			if _, ok := res.Properties["Events"]; ok {
				t.Error("WebClient has event sources besides its function URL")
			}
			continue
		}
		if _, ok := res.Properties["FunctionUrlConfig"]; ok {
			t.Errorf("%s has a function URL", id)
		}
		events, _ := res.Properties["Events"].(map[string]any)
		for name, e := range events {
			ev, _ := e.(map[string]any)
			props, _ := ev["Properties"].(map[string]any)
			if ev["Type"] != "Api" || props["RestApiId"] != "PetStoreApi" {
				t.Errorf("%s: event %s (%v) is not an Api event of PetStoreApi", id, name, ev["Type"])
			}
		}
	}
	if events, _ := tpl.Resources["PetStoreFunction"].Properties["Events"].(map[string]any); len(events) == 0 {
		t.Error("PetStoreFunction has no Api events")
	}
}
