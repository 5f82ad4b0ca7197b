package samtemplate

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The web client is a third function behind a function URL, with its
// sessions in a table of its own.

func TestWebClientIsServedByAFunctionURL(t *testing.T) {
	tpl := load(t, nil)
	p := tpl.Resources["WebClient"].Properties
	if got, _ := json.Marshal(p["FunctionUrlConfig"]); string(got) != `{"AuthType":"NONE"}` {
		t.Errorf("FunctionUrlConfig %s, want AuthType NONE (the app signs people in itself)", got)
	}
	if p["Timeout"] != 30 {
		t.Errorf("Timeout %v: a console call may refresh (10 s) then call the API (15 s)", p["Timeout"])
	}
	fn, err := tpl.Function("WebClient")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"ISSUER":            required["Issuer"],
		"AUDIENCE":          required["Audience"],
		"CLIENT_ID":         "",
		"CLIENT_SECRET_ARN": "",
		"SETTINGS_SECRET":   "local-webclient-5e1fc0de",
		"SCOPES":            "openid profile email offline_access pets:read pets:write",
		"BASE_URL":          "",
		"SESSIONS_TABLE":    "SessionsTable",
	}
	if !reflect.DeepEqual(fn.Environment, want) {
		t.Errorf("environment %v\nwant %v", fn.Environment, want)
	}
	for k, v := range fn.Environment {
		if strings.Contains(strings.ToLower(k), "secret") && k != "CLIENT_SECRET_ARN" && k != "SETTINGS_SECRET" || strings.HasPrefix(v, "{") {
			t.Errorf("%s looks like a secret in the environment", k)
		}
	}
}

// The sessions' table: on-demand, keyed by id, with TTL on expires; no
// point-in-time recovery and no Retain (sessions are disposable).
func TestSessionsTable(t *testing.T) {
	tbl, err := load(t, nil).Table("SessionsTable")
	if err != nil {
		t.Fatal(err)
	}
	want := Table{
		LogicalID:            "SessionsTable",
		BillingMode:          "PAY_PER_REQUEST",
		AttributeDefinitions: []AttributeDefinition{{"id", "S"}},
		KeySchema:            []KeyElement{{"id", "HASH"}},
		TimeToLiveAttribute:  "expires",
	}
	if !reflect.DeepEqual(tbl, want) {
		t.Errorf("SessionsTable %+v\nwant %+v", tbl, want)
	}
}

// Least privilege: the web client may read and write its sessions' table,
// read its settings (the stack's secret STACK-webclient-UUID8, by name), and
// the client secret named by ClientSecretArn, that one secret, only when
// there is one and the stack has no user pool of its own.
func TestWebClientMayUseItsTableAndItsSecretOnly(t *testing.T) {
	const arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:petstore/webclient-AbCdEf"
	tableStatement := `{"Action":["dynamodb:GetItem","dynamodb:PutItem","dynamodb:UpdateItem"],"Effect":"Allow","Resource":"` + tableARNPrefix + `SessionsTable"},` +
		`{"Action":"secretsmanager:GetSecretValue","Effect":"Allow","Resource":"arn:aws:secretsmanager:us-east-1:123456789012:secret:local-webclient-5e1fc0de-??????"}`
	for _, tt := range []struct {
		name   string
		params map[string]string
		want   string
	}{
		{"public client", nil, `[{"Statement":[` + tableStatement + `]}]`},
		{"confidential client", map[string]string{"ClientSecretArn": arn},
			`[{"Statement":[` + tableStatement + `,{"Action":"secretsmanager:GetSecretValue","Effect":"Allow","Resource":"` + arn + `"}]}]`},
		// A ClientSecretArn without an Issuer is refused (TestRules).
		{"the stack's own user pool", map[string]string{"Issuer": "", "Audience": ""},
			`[{"Statement":[` + tableStatement + `]}]`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tpl := load(t, tt.params)
			got, _ := json.Marshal(tpl.Resources["WebClient"].Properties["Policies"])
			if string(got) != tt.want {
				t.Errorf("Policies %s\nwant %s", got, tt.want)
			}
			fn, _ := tpl.Function("WebClient")
			want := tt.params["ClientSecretArn"]
			if issuer, ok := tt.params["Issuer"]; ok && issuer == "" {
				want = "" // the stack's own pool: its settings secret holds the client secret
			}
			if fn.Environment["CLIENT_SECRET_ARN"] != want {
				t.Errorf("CLIENT_SECRET_ARN = %q", fn.Environment["CLIENT_SECRET_ARN"])
			}
			if err := checkSchema(filepath.Join(root, "template.yaml"), merge(required, tt.params)); err != nil {
				t.Errorf("SAM schema: %v", err)
			}
		})
	}
}

// Fn::GetAtt FunctionUrl of the AWS::Lambda::Url SAM makes for a function
// with FunctionUrlConfig (what a Cognito app client's CallbackURLs would
// name); a function without one has no such resource.
func TestGetAttFunctionURL(t *testing.T) {
	src := `
Resources:
  Web:
    Type: AWS::Serverless::Function
    Properties:
      FunctionUrlConfig: {AuthType: NONE}
  Plain:
    Type: AWS::Serverless::Function
    Properties: {}
Outputs:
  Url:
    Value: !GetAtt WebUrl.FunctionUrl
`
	tpl, err := Parse([]byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := tpl.Outputs["Url"].Value; got != "https://web.lambda-url.us-east-1.on.aws/" {
		t.Errorf("GetAtt WebUrl.FunctionUrl = %q", got)
	}
	if _, err := Parse([]byte(strings.Replace(src, "WebUrl.FunctionUrl", "PlainUrl.FunctionUrl", 1)), nil); err == nil {
		t.Error("GetAtt of a function URL that SAM would not create was accepted")
	}
}

func merge(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// cfn-lint, AWS's CloudFormation linter, finds nothing in the template
// (the SAM transform included). It is a Python tool: without it the test
// skips (pip install cfn-lint).
func TestCfnLint(t *testing.T) {
	bin, err := exec.LookPath("cfn-lint")
	if err != nil {
		t.Skip("cfn-lint is not installed (pip install cfn-lint)")
	}
	out, err := exec.Command(bin, filepath.Join(root, "template.yaml")).CombinedOutput()
	if err != nil {
		t.Errorf("cfn-lint template.yaml: %v\n%s", err, out)
	}
}

// The reader follows a conditional app client: its callback is the web
// client's function URL, and CLIENT_ID comes from the parameter or from
// that client. (A reader test only: deployed, CLIENT_ID naming the client
// whose callback names the function is a dependency loop; template.yaml
// passes the client's id through its settings secret instead, see
// cognito_test.go.)
func TestClientIDFromAParameterOrAConditionalAppClient(t *testing.T) {
	src := `
Parameters:
  CreateUserPool: {Type: String, Default: "false"}
  WebClientId: {Type: String, Default: "from-parameter"}
Conditions:
  WithPool: !Equals [!Ref CreateUserPool, "true"]
Resources:
  AppClient:
    Type: AWS::Cognito::UserPoolClient
    Condition: WithPool
    Properties:
      CallbackURLs: [!Sub "${WebClientUrl.FunctionUrl}callback"]
  WebClient:
    Type: AWS::Serverless::Function
    Properties:
      FunctionUrlConfig: {AuthType: NONE}
      Environment:
        Variables:
          CLIENT_ID: !If [WithPool, !Ref AppClient, !Ref WebClientId]
`
	for pool, want := range map[string]string{"false": "from-parameter", "true": "AppClient"} {
		tpl, err := Parse([]byte(src), map[string]string{"CreateUserPool": pool})
		if err != nil {
			t.Fatalf("CreateUserPool=%s: %v", pool, err)
		}
		fn, err := tpl.Function("WebClient")
		if err != nil {
			t.Fatal(err)
		}
		if fn.Environment["CLIENT_ID"] != want {
			t.Errorf("CreateUserPool=%s: CLIENT_ID %q, want %q", pool, fn.Environment["CLIENT_ID"], want)
		}
		_, created := tpl.Resources["AppClient"]
		if created != (pool == "true") {
			t.Errorf("CreateUserPool=%s: AppClient created %v", pool, created)
		}
		if created {
			urls, _ := tpl.Resources["AppClient"].Properties["CallbackURLs"].([]any)
			if len(urls) != 1 || urls[0] != "https://webclient.lambda-url.us-east-1.on.aws/callback" {
				t.Errorf("CallbackURLs %v", urls)
			}
		}
	}
}
