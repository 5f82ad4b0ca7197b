package samtemplate

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/awslabs/goformation/v7/intrinsics"
	"github.com/awslabs/goformation/v7/schema"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The SAM schema check lives here, in a test, rather than on the local
// stack's run path: goformation is a large module to compile, and the
// template only changes with a commit, which this test checks.

func TestTemplateValidatesAgainstTheSAMSchema(t *testing.T) {
	if err := checkSchema(filepath.Join(root, "template.yaml"), required); err != nil {
		t.Fatal(err)
	}
}

func TestTemplateRefusesWhatTheSchemaRefuses(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "template.yaml")
	src, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// A misspelt property, as a hand edit might introduce.
	broken := strings.Replace(string(src), "      CodeUri: cmd/api/", "      CodeURI: cmd/api/", 1)
	if broken == string(src) {
		t.Fatal("the template has no CodeUri: cmd/api/ to misspell")
	}
	if err := os.WriteFile(bad, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := checkSchema(bad, required); err == nil {
		t.Fatal("a template with an unknown property passed the schema check")
	}
}

// checkSchema resolves the template's intrinsic functions with goformation
// and validates the result against the SAM schema goformation ships. Ref
// to a Number parameter gives a number, as the schema expects; Ref to a
// resource its logical id; Fn::GetAtt an ARN.
func checkSchema(path string, parameters map[string]string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	overrides := map[string]any{}
	for k, v := range parameters {
		overrides[k] = v
	}
	resolved, err := intrinsics.ProcessYAML(data, &intrinsics.ProcessorOptions{
		ParameterOverrides: overrides,
		IntrinsicHandlerOverrides: map[string]intrinsics.IntrinsicHandler{
			"Ref": func(name string, input any, template any) any {
				id, _ := input.(string)
				p := object(object(object(template)["Parameters"])[id])
				v := intrinsics.Ref(name, input, template)
				if p != nil && p["Type"] == "Number" {
					if s, ok := v.(string); ok {
						if f, err := strconv.ParseFloat(s, 64); err == nil {
							return f
						}
					}
				}
				if v == nil {
					return id
				}
				return v
			},
			"Fn::GetAtt": func(string, any, any) any { return functionARNPrefix + "Function" },
		},
	})
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := json.Unmarshal(resolved, &doc); err != nil {
		return err
	}
	// goformation evaluates each condition to a boolean in place (the
	// schema wants the condition's definition) and an Fn::If that chose
	// AWS::NoValue to null, where CloudFormation removes the element.
	// The SAM schema has no Rules section (CloudFormation's own): the
	// reader checks it (TestRules).
	delete(doc, "Conditions")
	delete(doc, "Rules")
	return validate(dropNulls(doc).(map[string]any))
}

// dropNulls removes null list elements and mapping values, as
// CloudFormation removes AWS::NoValue.
func dropNulls(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e == nil {
				delete(x, k)
			} else {
				x[k] = dropNulls(e)
			}
		}
	case []any:
		out := x[:0]
		for _, e := range x {
			if e != nil {
				out = append(out, dropNulls(e))
			}
		}
		return out
	}
	return v
}

// validate checks the resolved template against the SAM schema, with two
// narrow adjustments:
//   - The schema lets each resource match any of some 1,400 resource types;
//     compiling that takes seconds. Each resource is checked against the
//     schema of its own Type instead, which also gives readable errors. An
//     unknown Type is an error.
//   - The generated schema types each GatewayResponses value as a string,
//     while SAM defines it as an object (StatusCode, ResponseParameters,
//     ResponseTemplates), as a deployed template needs.
//   - The schema predates AWS::Cognito::UserPool's UserPoolTier (the
//     feature plan: LITE, ESSENTIALS or PLUS); it is added with those
//     values, so a misspelt plan still fails. cfn-lint knows the property.
func validate(doc map[string]any) error {
	s, err := samSchema()
	if err != nil {
		return err
	}
	defs := object(s["definitions"])
	perResource := map[string]any{}
	for id, r := range object(doc["Resources"]) {
		typ, _ := object(r)["Type"].(string)
		if _, ok := defs[typ]; !ok {
			return fmt.Errorf("resource %s: unknown type %q", id, typ)
		}
		perResource[id] = map[string]any{"$ref": "#/definitions/" + typ}
	}
	root := maps.Clone(s)
	props := maps.Clone(object(s["properties"]))
	props["Resources"] = map[string]any{"type": "object", "properties": perResource, "additionalProperties": false}
	root["properties"] = props
	c := jsonschema.NewCompiler()
	if err := c.AddResource("sam.schema.json", root); err != nil {
		return err
	}
	compiled, err := c.Compile("sam.schema.json")
	if err != nil {
		return err
	}
	return compiled.Validate(any(doc))
}

// samSchema is goformation's SAM schema, decoded once (it is 7 MB), with
// GatewayResponses corrected and UserPoolTier added.
var samSchema = sync.OnceValues(func() (map[string]any, error) {
	var s map[string]any
	if err := json.Unmarshal([]byte(schema.SamSchema), &s); err != nil {
		return nil, err
	}
	// The schema names the draft-04 meta-schema as its own $id; declare it
	// as its $schema instead so the validator does not confuse the two.
	delete(s, "$id")
	s["$schema"] = "http://json-schema.org/draft-04/schema#"
	apiProps := object(object(object(object(object(s["definitions"])["AWS::Serverless::Api"])["properties"])["Properties"])["properties"])
	if apiProps == nil {
		return nil, errors.New("the SAM schema has no AWS::Serverless::Api properties")
	}
	stringMap := map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}}
	apiProps["GatewayResponses"] = map[string]any{
		"type": "object",
		"additionalProperties": map[string]any{
			"type":                 "object",
			"additionalProperties": false,
			"properties": map[string]any{
				"StatusCode": map[string]any{"type": []any{"string", "integer"}},
				"ResponseParameters": map[string]any{
					"type":                 "object",
					"additionalProperties": false,
					"properties":           map[string]any{"Headers": stringMap, "Paths": stringMap, "QueryStrings": stringMap},
				},
				"ResponseTemplates": stringMap,
			},
		},
	}
	poolProps := object(object(object(object(object(s["definitions"])["AWS::Cognito::UserPool"])["properties"])["Properties"])["properties"])
	if poolProps == nil {
		return nil, errors.New("the SAM schema has no AWS::Cognito::UserPool properties")
	}
	if _, ok := poolProps["UserPoolTier"]; !ok {
		poolProps["UserPoolTier"] = map[string]any{"type": "string", "enum": []any{"LITE", "ESSENTIALS", "PLUS"}}
	}
	return s, nil
})

func object(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}
