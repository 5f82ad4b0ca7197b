package samtemplate

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/example/petstore-oidc/api"
	"github.com/example/petstore-oidc/authorizer"
	"github.com/example/petstore-oidc/webclient"
)

// With Issuer empty the stack creates its own Cognito user pool. These
// tests resolve the template in that mode (and check the other mode has
// none of it), as `sam deploy` with Issuer="" would deploy it.

// cognitoOnly are the resources the stack creates for its own user pool.
var cognitoOnly = []string{"UserPool", "PetStoreResourceServer", "WebAppClient", "UserPoolDomain", "WritersGroup",
	"ReadersGroup", "PreTokenGeneration", "PreTokenGenerationPermission", "PreTokenGenerationLogGroup"}

func loadCognito(t *testing.T, extra map[string]string) *Template {
	t.Helper()
	params := map[string]string{}
	for k, v := range extra {
		params[k] = v
	}
	tpl, err := Load(filepath.Join(root, "template.yaml"), params)
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

func rawTemplate(t *testing.T) map[string]any {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := decodeYAML(src)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestCognitoResourcesOnlyWithoutIssuer: every Cognito resource, and
// everything that serves only the pool, carries the CreateUserPool
// condition (the machine client CreateMachineClient, which implies it);
// with an Issuer none of them is created, without one all of them are.
func TestCognitoResourcesOnlyWithoutIssuer(t *testing.T) {
	doc := rawTemplate(t)
	resources := object(doc["Resources"])
	conditions := object(doc["Conditions"])
	if got, _ := json.Marshal(conditions["CreateUserPool"]); string(got) != `{"Fn::Equals":[{"Ref":"Issuer"},""]}` {
		t.Errorf("CreateUserPool is %s, want Issuer == \"\"", got)
	}
	if got, _ := json.Marshal(conditions["CreateMachineClient"]); !strings.Contains(string(got), `{"Condition":"CreateUserPool"}`) {
		t.Errorf("CreateMachineClient %s does not imply CreateUserPool", got)
	}
	for id, r := range resources {
		typ, _ := object(r)["Type"].(string)
		cond := object(r)["Condition"]
		if strings.HasPrefix(typ, "AWS::Cognito::") || slices.Contains(cognitoOnly, id) {
			if cond != "CreateUserPool" && cond != "CreateMachineClient" {
				t.Errorf("%s (%s) has condition %v, want CreateUserPool", id, typ, cond)
			}
		}
	}
	withIssuer := load(t, nil)
	own := loadCognito(t, nil)
	both := loadCognito(t, map[string]string{"MachineClient": "true"})
	for id, r := range both.Resources {
		if _, ok := withIssuer.Resources[id]; strings.HasPrefix(r.Type, "AWS::Cognito::") && ok {
			t.Errorf("with an Issuer the stack still creates %s", id)
		}
	}
	for _, id := range cognitoOnly {
		if _, ok := own.Resources[id]; !ok {
			t.Errorf("without an Issuer the stack does not create %s", id)
		}
		if _, ok := withIssuer.Resources[id]; ok {
			t.Errorf("with an Issuer the stack creates %s", id)
		}
	}
	if _, ok := own.Resources["MachineAppClient"]; ok {
		t.Error("the machine client is created without MachineClient=true")
	}
	if _, ok := both.Resources["MachineAppClient"]; !ok {
		t.Error("MachineClient=true creates no machine client")
	}
	if _, ok := load(t, map[string]string{"MachineClient": "true"}).Resources["MachineAppClient"]; ok {
		t.Error("MachineClient=true with an Issuer creates a machine client")
	}
}

// TestUserPool: sign-in by username or e-mail, no self sign-up, a password
// policy, and the scope trigger; no password or secret anywhere.
func TestUserPool(t *testing.T) {
	p := loadCognito(t, nil).Resources["UserPool"].Properties
	b, _ := json.Marshal(p)
	for _, want := range []string{
		`"AliasAttributes":["email"]`,
		// V2_0 access-token customization needs Essentials or Plus.
		`"UserPoolTier":"ESSENTIALS"`,
		`"AdminCreateUserConfig":{"AllowAdminCreateUserOnly":true}`,
		`"LambdaConfig":{"PreTokenGenerationConfig":{"LambdaArn":"` + functionARNPrefix + `PreTokenGeneration","LambdaVersion":"V2_0"}}`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("UserPool lacks %s:\n%s", want, b)
		}
	}
	policy := object(object(p["Policies"])["PasswordPolicy"])
	if n, _ := policy["MinimumLength"].(int); n < 12 || policy["RequireLowercase"] != true || policy["RequireUppercase"] != true || policy["RequireNumbers"] != true {
		t.Errorf("PasswordPolicy %v", policy)
	}
	src, _ := os.ReadFile(filepath.Join(root, "template.yaml"))
	for _, line := range strings.Split(string(src), "\n") {
		if strings.Contains(line, "--password") && !strings.Contains(line, `--password "$DEMO_PASSWORD"`) ||
			regexp.MustCompile(`(?i)^\s*(Temporary)?Password\s*:`).MatchString(line) {
			t.Errorf("a password in the template: %s", strings.TrimSpace(line))
		}
	}
}

// TestAppClientsAfterTheResourceServer: Cognito refuses a client's custom
// scopes until the resource server exists (ScopeDoesNotExistException),
// so each app client DependsOn it, and asks only for scopes it defines
// (IDENTIFIER/NAME) or OIDC's own.
func TestAppClientsAfterTheResourceServer(t *testing.T) {
	resources := object(rawTemplate(t)["Resources"])
	tpl := loadCognito(t, map[string]string{"MachineClient": "true"})
	rs := tpl.Resources["PetStoreResourceServer"].Properties
	defined := []string{}
	for _, s := range rs["Scopes"].([]any) {
		defined = append(defined, rs["Identifier"].(string)+"/"+object(s)["ScopeName"].(string))
	}
	if !slices.Equal(defined, []string{"petstore/pets:read", "petstore/pets:write"}) || rs["UserPoolId"] != "UserPool" {
		t.Errorf("resource server %v", rs)
	}
	for id, wantFlows := range map[string]string{"WebAppClient": "code", "MachineAppClient": "client_credentials"} {
		if dep := object(resources[id])["DependsOn"]; dep != "PetStoreResourceServer" {
			t.Errorf("%s DependsOn %v, want PetStoreResourceServer", id, dep)
		}
		p := tpl.Resources[id].Properties
		if flows, _ := json.Marshal(p["AllowedOAuthFlows"]); string(flows) != `["`+wantFlows+`"]` ||
			p["AllowedOAuthFlowsUserPoolClient"] != true || p["GenerateSecret"] != true || p["UserPoolId"] != "UserPool" {
			t.Errorf("%s: %v", id, p)
		}
		for _, s := range p["AllowedOAuthScopes"].([]any) {
			if !slices.Contains(defined, s.(string)) && (id != "WebAppClient" || !slices.Contains([]string{"openid", "email", "profile"}, s.(string))) {
				t.Errorf("%s asks for the scope %v", id, s)
			}
		}
	}
	web, _ := json.Marshal(tpl.Resources["WebAppClient"].Properties["AllowedOAuthScopes"])
	if string(web) != `["openid","email","profile","petstore/pets:read","petstore/pets:write"]` {
		t.Errorf("the web client's scopes %s", web)
	}
	if idp, _ := json.Marshal(tpl.Resources["WebAppClient"].Properties["SupportedIdentityProviders"]); string(idp) != `["COGNITO"]` {
		t.Errorf("SupportedIdentityProviders %s", idp)
	}
}

// TestCallbackIsTheWebClientsURL: the app client's callback is the web
// client's function URL + "callback" (the URL ends with "/"), its sign-out
// URL the function URL itself, which is where the web client sends them
// (its RedirectURL and PostLogoutRedirectURL by default).
func TestCallbackIsTheWebClientsURL(t *testing.T) {
	tpl := loadCognito(t, nil)
	base := tpl.Outputs["WebClientUrl"].Value
	if !strings.HasSuffix(base, "/") {
		t.Fatalf("WebClientUrl %q does not end with /", base)
	}
	p := tpl.Resources["WebAppClient"].Properties
	if got, _ := json.Marshal(p["CallbackURLs"]); string(got) != `["`+base+`callback"]` || tpl.Outputs["CallbackUrl"].Value != base+"callback" {
		t.Errorf("CallbackURLs %s, CallbackUrl %q, want %scallback", got, tpl.Outputs["CallbackUrl"].Value, base)
	}
	if got, _ := json.Marshal(p["LogoutURLs"]); string(got) != `["`+base+`"]` {
		t.Errorf("LogoutURLs %s, want [%s]", got, base)
	}
	cfg := webClientConfig(t, tpl)
	app, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	// Deployed, the web client learns its origin from the function URL's
	// domain (BASE_URL stays empty); here it is given.
	cfg.BaseURL = app.Scheme + "://" + app.Host
	redirect := cfg.BaseURL + "/callback"
	if redirect != base+"callback" {
		t.Errorf("the web client's callback %s, registered %scallback", redirect, base)
	}
	logout, err := url.Parse(cfg.LogoutURL)
	if err != nil || logout.Query().Get("logout_uri") != base || logout.Query().Get("client_id") != "WebAppClient" ||
		logout.Host != tpl.Resources["UserPoolDomain"].Properties["Domain"].(string)+".auth.us-east-1.amazoncognito.com" {
		t.Errorf("LOGOUT_URL %q", cfg.LogoutURL)
	}
	// Both URLs carry the web client's URL percent-encoded, as a query
	// value must be: copied into a browser, nothing of it is misread.
	signIn, err := url.Parse(tpl.Outputs["HostedSignInUrl"].Value)
	if err != nil || signIn.Query().Get("redirect_uri") != base+"callback" {
		t.Errorf("HostedSignInUrl %q: redirect_uri is not %scallback", tpl.Outputs["HostedSignInUrl"].Value, base)
	}
	for name, raw := range map[string]string{"HostedSignInUrl": signIn.RawQuery, "logout_url": logout.RawQuery} {
		for _, kv := range strings.Split(raw, "&") {
			k, v, _ := strings.Cut(kv, "=")
			if decoded, err := url.QueryUnescape(v); err != nil || url.QueryEscape(decoded) != v {
				t.Errorf("%s: %s=%s is not percent-encoded", name, k, v)
			}
		}
	}
}

// webClientConfig configures the web client exactly as it starts in
// Lambda: its environment from the template, the secret SETTINGS_SECRET
// served with the SecretString the template gives WebClientSettings.
func webClientConfig(t *testing.T, tpl *Template) webclient.Config {
	t.Helper()
	fn, err := tpl.Function("WebClient")
	if err != nil {
		t.Fatal(err)
	}
	settings := tpl.Resources["WebClientSettings"].Properties
	sm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ SecretId string }
		json.NewDecoder(r.Body).Decode(&in)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if in.SecretId != settings["Name"] {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"__type":"ResourceNotFoundException","message":"no such secret"}`)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"Name": in.SecretId, "SecretString": settings["SecretString"]})
	}))
	t.Cleanup(sm.Close)
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", sm.URL)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "local")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
	cfg, err := webclient.ConfigFromAWS(context.Background(), func(k string) string { return fn.Environment[k] }, false)
	if err != nil {
		t.Fatalf("the web client does not start with the template's environment and settings: %v", err)
	}
	return cfg
}

// TestWebClientSettings: the secret WebClientSettings is named as the web
// client's SETTINGS_SECRET says (a name fixed in advance: the loop between
// the app client, the authorizer and the web client is broken there), and
// holds what the environment cannot: the API's URL and, with the stack's
// own pool, the app client's id and secret. The environment holds no
// secret and names nothing the app client makes.
func TestWebClientSettings(t *testing.T) {
	for _, tt := range []struct {
		name     string
		tpl      *Template
		issuer   string
		clientID string
		secret   bool
		scopes   string
	}{
		{"the stack's own user pool", loadCognito(t, nil), "https://cognito-idp.us-east-1.amazonaws.com/UserPool", "WebAppClient", true,
			"openid email profile petstore/pets:read petstore/pets:write"},
		{"your provider", load(t, map[string]string{"WebClientId": "abc123"}), required["Issuer"], "abc123", false,
			"openid profile email offline_access pets:read pets:write"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fn, _ := tt.tpl.Function("WebClient")
			settings := tt.tpl.Resources["WebClientSettings"]
			if settings.Type != "AWS::SecretsManager::Secret" || settings.Properties["Name"] != "local-webclient-5e1fc0de" ||
				fn.Environment[webclient.EnvSettingsSecret] != "local-webclient-5e1fc0de" {
				t.Errorf("settings %v, SETTINGS_SECRET %q", settings.Properties["Name"], fn.Environment[webclient.EnvSettingsSecret])
			}
			var values map[string]string
			if err := json.Unmarshal([]byte(settings.Properties["SecretString"].(string)), &values); err != nil {
				t.Fatalf("SecretString is not JSON: %v", err)
			}
			if values["api_url"] != tt.tpl.Outputs["ApiUrl"].Value {
				t.Errorf("api_url %q, want the ApiUrl output %q", values["api_url"], tt.tpl.Outputs["ApiUrl"].Value)
			}
			if tt.secret != (values["client_secret"] == "local-client-secret-of-WebAppClient") {
				t.Errorf("client_secret %q: want GetAtt WebAppClient.ClientSecret with the pool only", values["client_secret"])
			}
			for k, v := range fn.Environment {
				if strings.Contains(v, "WebAppClient") || strings.Contains(v, "PetStoreApi") || strings.Contains(v, "local-client-secret") {
					t.Errorf("the web client's %s=%q names what is made after it (a dependency loop)", k, v)
				}
			}
			cfg := webClientConfig(t, tt.tpl)
			if cfg.Issuer != tt.issuer || cfg.ClientID != tt.clientID || (cfg.ClientSecret != "") != tt.secret ||
				cfg.APIURL != tt.tpl.Outputs["ApiUrl"].Value || strings.Join(cfg.Scopes, " ") != tt.scopes {
				t.Errorf("config issuer %q client %q secret %v API %q scopes %q", cfg.Issuer, cfg.ClientID, cfg.ClientSecret != "", cfg.APIURL, cfg.Scopes)
			}
			if !tt.secret && cfg.Audience != required["Audience"] || tt.secret && cfg.Audience != "" {
				t.Errorf("AUDIENCE %q (Cognito's authorize endpoint takes none)", cfg.Audience)
			}
		})
	}
}

// TestCognitoScopesReachTheAuthorizerAndTheAPI: with the stack's own pool,
// the authorizer trusts the pool's issuer and its app clients (Cognito
// access tokens carry client_id, not aud), and the route rules, the API's
// own check and the trigger all use the resource server's scopes.
func TestCognitoScopesReachTheAuthorizerAndTheAPI(t *testing.T) {
	for machine, audiences := range map[string][]string{"false": {"WebAppClient"}, "true": {"WebAppClient", "MachineAppClient"}} {
		tpl := loadCognito(t, map[string]string{"MachineClient": machine, "ReadScope": "ignored:read", "Audience": ""})
		authz, _ := tpl.Function("Authorizer")
		cfg, err := authorizer.ConfigFromEnv(func(k string) string { return authz.Environment[k] })
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Issuer != "https://cognito-idp.us-east-1.amazonaws.com/UserPool" || !slices.Equal(cfg.Audiences, audiences) || cfg.JWKSURI != "" {
			t.Errorf("MachineClient=%s: issuer %q audiences %q JWKS %q", machine, cfg.Issuer, cfg.Audiences, cfg.JWKSURI)
		}
		want := map[string]string{"GET /pets": "petstore/pets:read", "GET /pets/*": "petstore/pets:read", "POST /pets": "petstore/pets:write", "GET /me": ""}
		for _, rule := range cfg.Rules {
			if scope := want[rule.Method+" "+rule.Path]; !slices.Equal(rule.Scopes, strings.Fields(scope)) {
				t.Errorf("rule %s, want %s", rule, scope)
			}
			delete(want, rule.Method+" "+rule.Path)
		}
		if len(want) > 0 {
			t.Errorf("no rule for %v", want)
		}
		petstore, _ := tpl.Function("PetStoreFunction")
		opts, err := api.OptionsFromEnv(func(k string) string { return petstore.Environment[k] })
		if err != nil || opts.ReadScope != "petstore/pets:read" || opts.WriteScope != "petstore/pets:write" {
			t.Errorf("the PetStore's options %+v, %v", opts, err)
		}
		trigger, _ := tpl.Function("PreTokenGeneration")
		groups := map[string]string{}
		for _, id := range []string{"WritersGroup", "ReadersGroup"} {
			p := tpl.Resources[id].Properties
			groups[id], _ = p["GroupName"].(string)
			if p["UserPoolId"] != "UserPool" {
				t.Errorf("%s is not in the pool", id)
			}
		}
		if e := trigger.Environment; e["READ_SCOPE"] != opts.ReadScope || e["WRITE_SCOPE"] != opts.WriteScope ||
			e["WRITERS_GROUP"] != groups["WritersGroup"] || e["READERS_GROUP"] != groups["ReadersGroup"] || trigger.CodeURI != "cmd/pretoken/" {
			t.Errorf("the trigger's environment %v, groups %v", e, groups)
		}
	}
}

// TestTheTriggerIsInvokedByThePoolOnly: the one invoke permission of the
// template's own is the pool's, for the trigger.
func TestTheTriggerIsInvokedByThePoolOnly(t *testing.T) {
	tpl := loadCognito(t, nil)
	for id, res := range tpl.Resources {
		if res.Type != "AWS::Lambda::Permission" {
			continue
		}
		p := res.Properties
		if id != "PreTokenGenerationPermission" || p["FunctionName"] != functionARNPrefix+"PreTokenGeneration" ||
			p["Principal"] != "cognito-idp.amazonaws.com" || p["SourceArn"] != userPoolARNPrefix+"UserPool" || p["Action"] != "lambda:InvokeFunction" {
			t.Errorf("permission %s: %v", id, p)
		}
	}
	if _, ok := tpl.Resources["PreTokenGenerationPermission"]; !ok {
		t.Error("Cognito may not invoke the trigger")
	}
}

// TestUserPoolDomain: a prefix Cognito accepts (lower case letters, digits,
// hyphens, no reserved word), different for every stack.
func TestUserPoolDomain(t *testing.T) {
	valid := regexp.MustCompile(`^[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?$`)
	saved := pseudoParameters["AWS::StackId"]
	t.Cleanup(func() { pseudoParameters["AWS::StackId"] = saved })
	seen := map[string]bool{}
	for _, id := range []string{saved, "arn:aws:cloudformation:eu-west-1:123456789012:stack/My-Stack/0a1b2c3d-4e5f-11ef-9a7b-0affd1c2b3e4",
		"arn:aws:cloudformation:eu-west-1:123456789012:stack/PETSTORE/ffffffff-4e5f-11ef-9a7b-0affd1c2b3e4"} {
		pseudoParameters["AWS::StackId"] = id
		tpl := loadCognito(t, nil)
		d, _ := tpl.Resources["UserPoolDomain"].Properties["Domain"].(string)
		if !valid.MatchString(d) || regexp.MustCompile(`aws|amazon|cognito`).MatchString(d) || seen[d] {
			t.Errorf("stack %s: domain prefix %q", id, d)
		}
		// The stack id's first two UUID groups, and not the account id,
		// which the sign-in page would show to every visitor.
		uuid := strings.Split(id[strings.LastIndex(id, "/")+1:], "-")
		if d != "petstore-"+uuid[0]+uuid[1] || strings.Contains(d, pseudoParameters["AWS::AccountId"]) || strings.Contains(d, "123456789012") {
			t.Errorf("stack %s: domain prefix %q, want petstore-%s%s", id, d, uuid[0], uuid[1])
		}
		seen[d] = true
		if sign := tpl.Outputs["HostedSignInUrl"].Value; !strings.HasPrefix(sign, "https://"+d+".auth.us-east-1.amazoncognito.com/login?client_id=WebAppClient&") {
			t.Errorf("HostedSignInUrl %q", sign)
		}
	}
}

// TestCognitoOutputs: the pool's outputs exist in that mode only; the demo
// users' commands create alice in writers and bob in readers, with the
// password typed at a prompt.
func TestCognitoOutputs(t *testing.T) {
	own := loadCognito(t, map[string]string{"MachineClient": "true"})
	poolOnly := []string{"UserPoolId", "UserPoolIssuer", "HostedSignInUrl", "CreateReadWriteUser", "CreateReadOnlyUser", "TokenEndpoint", "MachineClientId"}
	for _, name := range poolOnly {
		if _, ok := own.Outputs[name]; !ok {
			t.Errorf("no output %s", name)
		}
		if _, ok := load(t, nil).Outputs[name]; ok {
			t.Errorf("output %s with an Issuer", name)
		}
	}
	if own.Outputs["UserPoolIssuer"].Value != "https://cognito-idp.us-east-1.amazonaws.com/UserPool" || own.Outputs["MachineClientId"].Value != "MachineAppClient" {
		t.Errorf("outputs %v", own.Outputs)
	}
	// A laptop's web client cannot sign in with the pool's app client
	// (its callback is the function URL's only): the output says so
	// rather than giving settings that fail.
	if env := own.Outputs["WebClientEnvironment"].Value; !strings.HasPrefix(env, "none: ") || strings.Contains(env, "ISSUER=") ||
		!strings.Contains(env, "open WebClientUrl") {
		t.Errorf("WebClientEnvironment with the stack's pool: %q", env)
	}
	callbacks := own.Resources["WebAppClient"].Properties["CallbackURLs"].([]any)
	if len(callbacks) != 1 || strings.Contains(callbacks[0].(string), "localhost") {
		t.Errorf("the pool's app client has callbacks %v: update WebClientEnvironment", callbacks)
	}
	for name, user := range map[string][2]string{"CreateReadWriteUser": {"alice", "writers"}, "CreateReadOnlyUser": {"bob", "readers"}} {
		cmd := own.Outputs[name].Value
		for _, want := range []string{
			"read -rsp ", " DEMO_PASSWORD && ",
			"aws cognito-idp admin-create-user --region us-east-1 --user-pool-id UserPool --username " + user[0] + " ",
			"--message-action SUPPRESS",
			"aws cognito-idp admin-set-user-password --region us-east-1 --user-pool-id UserPool --username " + user[0] + ` --password "$DEMO_PASSWORD" --permanent`,
			"aws cognito-idp admin-add-user-to-group --region us-east-1 --user-pool-id UserPool --username " + user[0] + " --group-name " + user[1],
		} {
			if !strings.Contains(cmd, want) {
				t.Errorf("%s lacks %q:\n%s", name, want, cmd)
			}
		}
		if strings.Contains(cmd, "\n") || strings.Count(cmd, "&&") != 4 {
			t.Errorf("%s is not one line of five commands joined by &&: %q", name, cmd)
		}
		// The password leaves the shell whether the commands succeed or not.
		if !strings.HasSuffix(cmd, " --group-name "+user[1]+"; unset DEMO_PASSWORD") {
			t.Errorf("%s does not end with ; unset DEMO_PASSWORD: %q", name, cmd)
		}
	}
}

// TestRules: with an Issuer, an Audience is required (CloudFormation
// refuses the parameters before it changes anything); without one, no
// provider setting is accepted, as the stack's own pool would ignore it.
func TestRules(t *testing.T) {
	_, err := Load(filepath.Join(root, "template.yaml"), map[string]string{"Issuer": "https://example.auth0.com/"})
	if err == nil || !strings.Contains(err.Error(), "Audience is required") {
		t.Errorf("an Issuer without an Audience: %v", err)
	}
	if _, err := Load(filepath.Join(root, "template.yaml"), map[string]string{"Issuer": "", "Audience": ""}); err != nil {
		t.Errorf("the stack's own pool: %v", err)
	}
	// Without an Issuer, each provider setting is refused (it would be
	// ignored); with one, the same values are accepted.
	for name, value := range map[string]string{
		"Audience":        "https://petstore.example.com",
		"WebClientId":     "abc123",
		"ClientSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:petstore-web-AbCdEf",
		"JwksUri":         "https://example.auth0.com/.well-known/jwks.json",
	} {
		_, err := Load(filepath.Join(root, "template.yaml"), map[string]string{"Issuer": "", name: value})
		if err == nil || !strings.Contains(err.Error(), "NoProviderSettingsWithoutIssuer") ||
			!strings.Contains(err.Error(), "leave Audience, WebClientId, ClientSecretArn and JwksUri empty") {
			t.Errorf("%s without an Issuer: %v", name, err)
		}
		params := map[string]string{"Issuer": "https://example.auth0.com/", "Audience": "https://petstore.example.com", name: value}
		if _, err := Load(filepath.Join(root, "template.yaml"), params); err != nil {
			t.Errorf("%s with an Issuer: %v", name, err)
		}
	}
}

func TestCognitoTemplateValidatesAgainstTheSAMSchema(t *testing.T) {
	for _, params := range []map[string]string{{}, {"MachineClient": "true"}} {
		if err := checkSchema(filepath.Join(root, "template.yaml"), params); err != nil {
			t.Fatal(err)
		}
	}
	// The schema does check the Cognito resources.
	src, _ := os.ReadFile(filepath.Join(root, "template.yaml"))
	for _, c := range []struct{ old, new, what string }{
		{"AllowedOAuthFlowsUserPoolClient:", "AllowedOauthFlowsUserPoolClient:", "a misspelt app client property"},
		{"UserPoolTier: ESSENTIALS", "UserPoolTier: ESSENTIAL", "a feature plan Cognito does not have"},
	} {
		broken := strings.Replace(string(src), c.old, c.new, 1)
		if broken == string(src) {
			t.Fatalf("the template has no %q", c.old)
		}
		bad := filepath.Join(t.TempDir(), "template.yaml")
		if err := os.WriteFile(bad, []byte(broken), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := checkSchema(bad, nil); err == nil {
			t.Errorf("%s passed the schema check", c.what)
		}
	}
}

// TestCognitoConditionsSurviveTheSAMTransform: after SAM's own transform
// (aws-sam-translator, as `sam deploy` runs it), everything of the
// stack's own pool, the trigger's generated role and log group included,
// still carries the condition, so a stack with an Issuer creates none of
// it. Skipped where aws-sam-translator is not installed.
func TestCognitoConditionsSurviveTheSAMTransform(t *testing.T) {
	out := transformTemplate(t)
	var cfn struct {
		Resources map[string]struct {
			Type      string
			Condition string
		}
	}
	if err := json.Unmarshal(out, &cfn); err != nil {
		t.Fatal(err)
	}
	poolOnly := append(slices.Clone(cognitoOnly), "PreTokenGenerationRole")
	for _, id := range poolOnly {
		r, ok := cfn.Resources[id]
		if !ok {
			t.Errorf("the transformed template has no %s", id)
		} else if r.Condition != "CreateUserPool" {
			t.Errorf("%s (%s) has condition %q after the transform, want CreateUserPool", id, r.Type, r.Condition)
		}
	}
	for id, r := range cfn.Resources {
		if strings.HasPrefix(r.Type, "AWS::Cognito::") && r.Condition != "CreateUserPool" && r.Condition != "CreateMachineClient" {
			t.Errorf("%s (%s) has condition %q after the transform", id, r.Type, r.Condition)
		}
	}
}

// TestSettingsSecretNameIsPerStack: the settings secret's name carries the
// first group of the stack id's UUID, in the Secret, in SETTINGS_SECRET and
// in the web client's IAM permission alike, so a stack deleted and created
// again under the same name never meets its predecessor's secret.
func TestSettingsSecretNameIsPerStack(t *testing.T) {
	saved := pseudoParameters["AWS::StackId"]
	t.Cleanup(func() { pseudoParameters["AWS::StackId"] = saved })
	seen := map[string]bool{}
	for _, id := range []string{"arn:aws:cloudformation:us-east-1:123456789012:stack/local/0a1b2c3d-4e5f-11ef-9a7b-0affd1c2b3e4",
		"arn:aws:cloudformation:us-east-1:123456789012:stack/local/9f8e7d6c-4e5f-11ef-9a7b-0affd1c2b3e4"} {
		pseudoParameters["AWS::StackId"] = id
		for _, tpl := range []*Template{loadCognito(t, nil), load(t, nil)} {
			want := "local-webclient-" + id[strings.LastIndex(id, "/")+1:][:8]
			fn, _ := tpl.Function("WebClient")
			policies, _ := json.Marshal(tpl.Resources["WebClient"].Properties["Policies"])
			if name := tpl.Resources["WebClientSettings"].Properties["Name"]; name != want || fn.Environment[webclient.EnvSettingsSecret] != want ||
				!strings.Contains(string(policies), `:secret:`+want+`-??????"`) {
				t.Errorf("stack %s: secret %v, SETTINGS_SECRET %q, policies %s; want %s", id, name, fn.Environment[webclient.EnvSettingsSecret], policies, want)
			}
			seen[want] = true
		}
	}
	if len(seen) != 2 {
		t.Errorf("names %v: want one per stack", seen)
	}
}
