package samtemplate

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// These tests prove the reader itself on small templates; template_test.go
// checks the repository's template.yaml.

func TestIntrinsics(t *testing.T) {
	const src = `
Parameters:
  Stage: {Type: String, Default: Prod}
  Ttl: {Type: Number, Default: 300}
  Env: {Type: String, Default: dev}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsDev: !Not [!Condition IsProd]
  Both: !And [!Condition IsDev, !Equals [a, a]]
  Either: !Or [!Condition IsProd, !Condition Both]
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables:
          REF: !Ref Stage
          TTL: !Ref Ttl
          RESOURCE: !Ref Fn
          ARN: !GetAtt Fn.Arn
          ARN_LONG: {"Fn::GetAtt": [Fn, Arn]}
          SUB: !Sub "${Stage}/${AWS::Region}/${Fn}/${Fn.Arn}/${!Literal}"
          SUB_VARS: !Sub ["${A}-${Stage}", {A: !Ref Ttl}]
          JOIN: !Join [",", [a, !Ref Stage, 3]]
          IF: !If [IsProd, prod-value, dev-value]
          IF_NESTED: !If [Either, !Sub "x${Stage}", y]
          GONE: !If [IsProd, x, !Ref AWS::NoValue]
          SELECT: !Select [1, !Split ["/", !Sub "a/${Stage}/c"]]
          SELECT_LONG: {"Fn::Select": ["0", [x, y]]}
          DOMAIN: !Ref Domain
          POOL_ARN: !GetAtt Pool.Arn
          CLIENT_SECRET: !GetAtt Client.ClientSecret
  Pool:
    Type: AWS::Cognito::UserPool
  Client:
    Type: AWS::Cognito::UserPoolClient
  Domain:
    Type: AWS::Cognito::UserPoolDomain
    Properties:
      Domain: !Sub "prefix-${Stage}"
  OnlyInProd:
    Type: AWS::Logs::LogGroup
    Condition: IsProd
Outputs:
  Url:
    Value: !Sub https://${Fn}.${AWS::URLSuffix}/${Stage}
  ProdOnly:
    Condition: IsProd
    Value: x
`
	tpl, err := Parse([]byte(src), map[string]string{"Stage": "Beta"})
	if err != nil {
		t.Fatal(err)
	}
	fn, err := tpl.Function("Fn")
	if err != nil {
		t.Fatal(err)
	}
	arn := functionARNPrefix + "Fn"
	want := map[string]string{
		"REF": "Beta", "TTL": "300", "RESOURCE": "Fn", "ARN": arn, "ARN_LONG": arn,
		"SUB":      "Beta/us-east-1/Fn/" + arn + "/${Literal}",
		"SUB_VARS": "300-Beta", "JOIN": "a,Beta,3", "IF": "dev-value", "IF_NESTED": "xBeta",
		"SELECT": "Beta", "SELECT_LONG": "x", "DOMAIN": "prefix-Beta", "POOL_ARN": userPoolARNPrefix + "Pool",
		"CLIENT_SECRET": "local-client-secret-of-Client",
	}
	for k, v := range want {
		if fn.Environment[k] != v {
			t.Errorf("%s = %q, want %q", k, fn.Environment[k], v)
		}
	}
	if _, ok := fn.Environment["GONE"]; ok || len(fn.Environment) != len(want) {
		t.Errorf("environment %v: want exactly %v", fn.Environment, want)
	}
	if _, ok := tpl.Resources["OnlyInProd"]; ok {
		t.Error("a resource whose condition is false was kept")
	}
	if _, ok := tpl.Outputs["ProdOnly"]; ok || tpl.Outputs["Url"].Value != "https://Fn.amazonaws.com/Beta" {
		t.Errorf("outputs %v", tpl.Outputs)
	}
	if tpl.Parameters["Stage"] != "Beta" || tpl.Parameters["Ttl"] != "300" {
		t.Errorf("parameters %v", tpl.Parameters)
	}
}

// TestGlobalsMergeAsSAMDoes: mappings merged with the resource's keys
// winning, lists concatenated (the Globals' entries first), scalars and
// intrinsics taken from the resource.
func TestGlobalsMergeAsSAMDoes(t *testing.T) {
	const src = `
Parameters:
  Level: {Type: String, Default: DEBUG}
Globals:
  Function:
    Runtime: provided.al2023
    Handler: bootstrap
    Layers: [global-layer]
    Architectures: [arm64]
    Environment:
      Variables: {SHARED: global, OVERRIDDEN: global, INTRINSIC: !Ref Level}
    Tags: !Ref Level
  Api:
    Cors: "'https://global.example'"
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: own-handler
      Layers: [own-layer]
      Environment:
        Variables: {OWN: own, OVERRIDDEN: own, INTRINSIC: literal}
      Tags: {team: pets}
  Plain:
    Type: AWS::Serverless::Function
    Properties: {}
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: Prod
`
	tpl, err := Parse([]byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	p := tpl.Resources["Fn"].Properties
	if p["Runtime"] != "provided.al2023" || p["Handler"] != "own-handler" {
		t.Errorf("scalars: %v", p)
	}
	if got := p["Layers"]; !slices.Equal(got.([]any), []any{"global-layer", "own-layer"}) {
		t.Errorf("Layers = %v, want the Globals' then the resource's", got)
	}
	fn, err := tpl.Function("Fn")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"SHARED": "global", "OVERRIDDEN": "own", "INTRINSIC": "literal", "OWN": "own"}
	for k, v := range want {
		if fn.Environment[k] != v {
			t.Errorf("%s = %q, want %q", k, fn.Environment[k], v)
		}
	}
	if tags, ok := p["Tags"].(map[string]any); !ok || tags["team"] != "pets" || len(tags) != 1 {
		t.Errorf("Tags = %v: an intrinsic in Globals must give way to the resource's mapping", p["Tags"])
	}
	plain, err := tpl.Function("Plain")
	if err != nil || plain.Handler != "bootstrap" || !slices.Equal(plain.Architectures, []string{"arm64"}) ||
		plain.Environment["INTRINSIC"] != "DEBUG" {
		t.Errorf("a function without its own properties: %+v %v", plain, err)
	}
	api, err := tpl.RestAPI("Api")
	if err != nil || api.Cors == nil || api.Cors.AllowOrigin != "https://global.example" {
		t.Errorf("Api Globals: %+v %v", api, err)
	}
}

// TestRefusals: what the reader does not support, or a malformed template,
// is an error that says where, never a panic or a silent default.
func TestRefusals(t *testing.T) {
	const fn = "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n"
	tests := []struct {
		name, src, want string
		params          map[string]string
	}{
		{"unsupported short form", fn + "      CodeUri: !FindInMap [A, B, C]\n", "Resources.Fn.Properties.CodeUri (line 5): !FindInMap is not supported", nil},
		{"unsupported long form", fn + "      CodeUri: {\"Fn::Base64\": x}\n", "Resources.Fn.Properties.CodeUri: Fn::Base64: not supported", nil},
		{"unsupported attribute", fn + "      CodeUri: !GetAtt Fn.Version\n", "Resources.Fn.Properties.CodeUri: Fn::GetAtt: attribute Version of Fn is not supported", nil},
		{"empty Ref", fn + "      CodeUri: !Ref \"\"\n", "Resources.Fn.Properties.CodeUri: Ref: want the name", nil},
		{"unknown Ref", fn + "      CodeUri: !Ref Nope\n", `Ref: "Nope" is no parameter or resource`, nil},
		{"empty Sub variable", fn + "      CodeUri: !Sub \"a${}\"\n", "empty ${}", nil},
		{"Sub of a list", fn + "      CodeUri: !Sub [a, b, c]\n", "Fn::Sub: want a string", nil},
		{"Join of a mapping", fn + "      CodeUri: !Join [\",\", {a: b}]\n", "Fn::Join: want a list", nil},
		{"If without condition", fn + "      CodeUri: !If [Nope, a, b]\n", `no condition "Nope"`, nil},
		{"Equals outside Conditions", fn + "      CodeUri: !Equals [a, b]\n", "allowed in Conditions only", nil},
		{"condition cycle", "Conditions:\n  A: !Condition B\n  B: !Condition A\n" + fn + "      CodeUri: !If [A, x, y]\n", "refers to itself", nil},
		{"alias", "Parameters:\n  P: &p {Type: String, Default: x}\n  Q: *p\n" + fn, "anchors and aliases", nil},
		{"merge key", "Parameters:\n  P:\n    <<: {Type: String}\n" + fn, "keys must be plain strings", nil},
		{"Resources as a list", "Resources:\n  - Fn\n", "Resources: want a mapping", nil},
		{"no Resources", "Description: x\n", "the template has no Resources", nil},
		{"not a mapping", "- a\n", "not a mapping", nil},
		{"empty", "", "not a YAML document", nil},
		{"Mappings", "Mappings: {}\n" + fn, "Mappings: not supported here", nil},
		{"unknown resource attribute", "Resources:\n  Fn:\n    Type: X\n    Propertes: {}\n", "Resources.Fn.Propertes: not supported here", nil},
		{"resource without Type", "Resources:\n  Fn:\n    Properties: {}\n", "Resources.Fn.Type: want a resource type", nil},
		{"list parameter", "Parameters:\n  L: {Type: CommaDelimitedList, Default: a}\n" + fn, "Parameters.L.Type: want String or Number", nil},
		{"parameter without value", "Parameters:\n  P: {Type: String}\n" + fn, "Parameters.P: no value and no Default", nil},
		{"unknown override", fn, "no parameter Typo in Parameters", map[string]string{"Typo": "x"}},
		{"unsupported Globals section", "Globals:\n  HttpApi: {}\n" + fn, "Globals.HttpApi: not supported here", nil},
		{"unsupported Globals property", "Globals:\n  Function:\n    Events: {}\n" + fn, "Globals.Function.Events: not supported here", nil},
		{"duplicate key", fn + "      CodeUri: a\n      CodeUri: b\n", "Resources.Fn.Properties.CodeUri (line 6): duplicate key", nil},
		{"Select out of range", fn + "      CodeUri: !Select [2, [a, b]]\n", "Fn::Select: want a list of more than 2 values", nil},
		{"Select with a bad index", fn + "      CodeUri: !Select [-1, [a, b]]\n", "Fn::Select: the index is not a number from 0", nil},
		{"Split of a list", fn + "      CodeUri: !Split [\",\", [a]]\n", "Fn::Split: want a string to split", nil},
		{"a rule that fails", "Parameters:\n  P: {Type: String, Default: \"\"}\nRules:\n  R:\n    RuleCondition: !Equals [!Ref P, \"\"]\n    Assertions:\n      - Assert: !Not [!Equals [!Ref P, \"\"]]\n        AssertDescription: P is required\n" + fn,
			"Rules.R: the parameters break the rule: P is required", nil},
		{"a rule without assertions", "Rules:\n  R: {}\n" + fn, "Rules.R.Assertions: want a list", nil},
		{"an unknown rule key", "Rules:\n  R: {Assertions: [], Other: x}\n" + fn, "Rules.R.Other: not supported here", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.src), tt.params)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestAccessorsRefuseWhatTheStackDoesNotEmulate: a property that the local
// gateway would otherwise ignore, or one of the wrong shape, is an error
// naming the resource and the property.
func TestAccessorsRefuseWhatTheStackDoesNotEmulate(t *testing.T) {
	const head = "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: x/\n"
	const api = "  Api:\n    Type: AWS::Serverless::Api\n    Properties:\n      StageName: Prod\n"
	tests := []struct{ name, src, want string }{
		{"REQUEST authorizer", head + api + "      Auth:\n        Authorizers:\n          A:\n            FunctionArn: !GetAtt Fn.Arn\n            FunctionPayloadType: REQUEST\n",
			"Resources.Api.Properties.Auth.Authorizers.A.FunctionPayloadType: want TOKEN"},
		{"authorizer not a template function", head + api + "      Auth:\n        Authorizers:\n          A:\n            FunctionArn: arn:aws:lambda:eu-west-1:1:function:x\n",
			"Resources.Api.Properties.Auth.Authorizers.A.FunctionArn: want !GetAtt"},
		{"API keys", head + api + "      Auth:\n        ApiKeyRequired: true\n", "Resources.Api.Properties.Auth.ApiKeyRequired: want none"},
		{"route scopes", head + "      Events:\n        E:\n          Type: Api\n          Properties:\n            RestApiId: !Ref Api\n            Path: /\n            Method: GET\n            Auth: {AuthorizationScopes: [a]}\n" + api,
			"Resources.Fn.Properties.Events.E.Properties.Auth.AuthorizationScopes: want none"},
		{"other event type", head + "      Events:\n        E:\n          Type: Schedule\n          Properties: {Schedule: rate(1 minute)}\n" + api,
			"Resources.Fn.Properties.Events.E.Type: want Api"},
		{"bad TTL", head + api + "      Auth:\n        Authorizers:\n          A:\n            FunctionArn: !GetAtt Fn.Arn\n            Identity: {ReauthorizeEvery: soon}\n",
			"Identity.ReauthorizeEvery: want an integer"},
		{"Cors as a list", head + api + "      Cors: [a]\n", "Resources.Api.Properties.Cors: want a mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl, err := Parse([]byte(tt.src), nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = tpl.RestAPI("Api")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
	tpl, err := Parse([]byte(head+"      Environment: {Variables: {A: [1]}}\n"+api), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tpl.Function("Fn"); err == nil || !strings.Contains(err.Error(), "Resources.Fn.Properties.Environment.Variables.A: want a string") {
		t.Errorf("a list as an environment value: %v", err)
	}
	if _, err := tpl.Function("Api"); err == nil || !strings.Contains(err.Error(), "no AWS::Serverless::Function named Api") {
		t.Errorf("an API read as a function: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	src, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(src)
	f.Add([]byte("Resources: {Fn: {Type: AWS::Serverless::Function, Properties: {CodeUri: !Sub '${A.B}'}}}"))
	f.Add([]byte("Conditions: {C: !Not [!Condition C]}\nResources: {R: {Type: T, Condition: C}}"))
	f.Add([]byte("Globals: {Function: {Layers: [a]}}\nResources: {F: {Type: AWS::Serverless::Function, Properties: {Layers: !Ref F}}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tpl, err := Parse(data, nil)
		if err != nil {
			return
		}
		for id := range tpl.Resources {
			tpl.Function(id)
			tpl.RestAPI(id)
		}
	})
}
