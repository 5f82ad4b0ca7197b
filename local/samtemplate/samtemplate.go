// Package samtemplate reads template.yaml, the SAM template that deploys the
// stack, into what the local stack and the tests need: the functions with
// their environment, and the REST API's routes, TOKEN authorizer, CORS and
// gateway responses. Intrinsic functions are resolved and the template is
// validated against the SAM JSON schema with goformation, so the local
// stack runs from the very file that deploys to AWS.
package samtemplate

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/intrinsics"
	"github.com/awslabs/goformation/v7/schema"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Template is a loaded, validated template.
type Template struct {
	// CFN is goformation's typed model (without GatewayResponses, see Load).
	CFN *cloudformation.Template
	// Parameters holds each parameter's effective value: the override
	// given to Load, else its Default.
	Parameters map[string]string
	// raw is the template with intrinsic functions resolved.
	raw map[string]any
}

// Load reads a SAM template, resolves its intrinsic functions with the
// given parameter values (unset parameters take their Default), validates
// it against the SAM schema goformation ships, and parses it.
//
// Within the resolved template, Ref to a resource gives its logical id and
// Fn::GetAtt gives an ARN that ends with the logical id, so references
// between resources can be followed.
func Load(path string, parameters map[string]string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	overrides := map[string]any{}
	for k, v := range parameters {
		overrides[k] = v
	}
	resolved, err := intrinsics.ProcessYAML(data, &intrinsics.ProcessorOptions{
		ParameterOverrides: overrides,
		IntrinsicHandlerOverrides: map[string]intrinsics.IntrinsicHandler{
			"Ref":        ref,
			"Fn::GetAtt": getAtt,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var raw map[string]any
	if err := json.Unmarshal(resolved, &raw); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := validate(raw); err != nil {
		return nil, fmt.Errorf("%s does not match the SAM schema: %w", path, err)
	}
	t := &Template{raw: raw, Parameters: map[string]string{}}
	for name, p := range object(raw["Parameters"]) {
		value, ok := parameters[name]
		if !ok {
			value = scalar(object(p)["Default"])
		}
		t.Parameters[name] = value
	}
	if t.CFN, err = goformation.ParseJSON(forTypedModel(raw)); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// ref resolves Ref: parameters (a Number parameter to a number, as the
// schema expects) and pseudo parameters as goformation does, and a resource
// to its logical id.
func ref(name string, input any, template any) any {
	id, _ := input.(string)
	if p := object(object(object(template)["Parameters"])[id]); p != nil {
		v := intrinsics.Ref(name, input, template)
		if p["Type"] == "Number" {
			if f, err := strconv.ParseFloat(scalar(v), 64); err == nil {
				return f
			}
		}
		return v
	}
	if v := intrinsics.Ref(name, input, template); v != nil {
		return v
	}
	return id
}

// getAtt resolves Fn::GetAtt (short form "Res.Attr" or long form [Res,
// Attr]) to an ARN whose last segment is the resource's logical id.
func getAtt(_ string, input any, _ any) any {
	var id string
	switch v := input.(type) {
	case string:
		id, _, _ = strings.Cut(v, ".")
	case []any:
		if len(v) > 0 {
			id, _ = v[0].(string)
		}
	}
	return "arn:aws:lambda:us-east-1:123456789012:function:" + id
}

// logicalIDOfARN is the inverse of getAtt.
func logicalIDOfARN(arn string) string {
	return arn[strings.LastIndex(arn, ":")+1:]
}

// validate checks the resolved template against goformation's SAM schema.
// Two adjustments, both narrow:
//   - The schema lets each resource match any of some 1,400 resource types;
//     compiling that takes seconds. Each resource is checked against the
//     schema of its own Type instead, which is also what gives readable
//     errors. An unknown Type is an error.
//   - The generated schema types each GatewayResponses value as a string,
//     while SAM defines it as an object (StatusCode, ResponseParameters,
//     ResponseTemplates), as a deployed template needs.
func validate(doc map[string]any) error {
	s, err := samSchema()
	if err != nil {
		return err
	}
	defs := object(s["definitions"])
	perResource := map[string]any{}
	for id, r := range object(doc["Resources"]) {
		typ := scalar(object(r)["Type"])
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
// GatewayResponses corrected.
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
	apiProps["GatewayResponses"] = gatewayResponsesSchema
	return s, nil
})

// gatewayResponsesSchema follows SAM's Api GatewayResponses: a map from a
// response type to {StatusCode, ResponseParameters {Headers, Paths,
// QueryStrings}, ResponseTemplates}.
var gatewayResponsesSchema = map[string]any{
	"type": "object",
	"additionalProperties": map[string]any{
		"type":                 "object",
		"additionalProperties": false,
		"properties": map[string]any{
			"StatusCode": map[string]any{"type": []any{"string", "integer"}},
			"ResponseParameters": map[string]any{
				"type":                 "object",
				"additionalProperties": false,
				"properties": map[string]any{
					"Headers":      stringMap,
					"Paths":        stringMap,
					"QueryStrings": stringMap,
				},
			},
			"ResponseTemplates": stringMap,
		},
	},
}

var stringMap = map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}}

// forTypedModel is the template for goformation's typed model, without the
// two parts where that model disagrees with its own schema (and, for
// GatewayResponses, with SAM): GatewayResponses, which RestAPI reads from the
// resolved template instead, and Parameters, whose MinValue and MaxValue the
// schema wants as strings and the model as numbers (Template.Parameters
// holds their values).
func forTypedModel(raw map[string]any) []byte {
	resources := map[string]any{}
	for id, r := range object(raw["Resources"]) {
		res := object(r)
		if res["Type"] == "AWS::Serverless::Api" {
			props := map[string]any{}
			for k, v := range object(res["Properties"]) {
				if k != "GatewayResponses" {
					props[k] = v
				}
			}
			res = map[string]any{"Type": res["Type"], "Properties": props}
		}
		resources[id] = res
	}
	doc := map[string]any{}
	for k, v := range raw {
		doc[k] = v
	}
	doc["Resources"] = resources
	delete(doc, "Parameters")
	b, _ := json.Marshal(doc) // it was unmarshalled from JSON: it marshals
	return b
}

// Function is a Lambda function of the template.
type Function struct {
	LogicalID     string
	CodeURI       string // e.g. "cmd/authorizer/"
	Runtime       string
	Handler       string
	Architectures []string
	BuildMethod   string            // Metadata.BuildMethod, e.g. "go1.x"
	Environment   map[string]string // Environment.Variables, resolved
}

// Function returns the AWS::Serverless::Function with that logical id, with
// the Globals applied.
func (t *Template) Function(logicalID string) (Function, error) {
	fn, err := t.CFN.GetServerlessFunctionWithName(logicalID)
	if err != nil {
		return Function{}, err
	}
	f := Function{LogicalID: logicalID, Environment: map[string]string{}}
	if fn.CodeUri != nil && fn.CodeUri.String != nil {
		f.CodeURI = *fn.CodeUri.String
	}
	globals := object(object(t.raw["Globals"])["Function"])
	f.Runtime = firstNonEmpty(deref(fn.Runtime), scalar(globals["Runtime"]))
	f.Handler = firstNonEmpty(deref(fn.Handler), scalar(globals["Handler"]))
	f.Architectures = fn.Architectures
	if len(f.Architectures) == 0 {
		for _, a := range list(globals["Architectures"]) {
			f.Architectures = append(f.Architectures, scalar(a))
		}
	}
	f.BuildMethod = scalar(fn.AWSCloudFormationMetadata["BuildMethod"])
	for k, v := range object(object(globals["Environment"])["Variables"]) {
		f.Environment[k] = scalar(v)
	}
	if fn.Environment != nil {
		for k, v := range fn.Environment.Variables {
			f.Environment[k] = v
		}
	}
	return f, nil
}

// RestAPI is an AWS::Serverless::Api with the routes of the functions'
// Api events that name it.
type RestAPI struct {
	LogicalID                           string
	StageName                           string
	Routes                              []Route
	DefaultAuthorizer                   string
	Authorizers                         map[string]TokenAuthorizer
	AddDefaultAuthorizerToCorsPreflight bool
	Cors                                *Cors
	GatewayResponses                    map[string]GatewayResponse
}

// Route is one Api event: METHOD Path handled by a function.
type Route struct {
	Method     string // upper case; ANY for any method
	Path       string // e.g. /pets/{petId}
	Function   string // logical id
	Event      string // the event's name in the template
	Authorizer string // name of the authorizer, "" for none (Auth: Authorizer: NONE)
}

// TokenAuthorizer is a Lambda TOKEN authorizer of the API.
type TokenAuthorizer struct {
	Name                 string
	Function             string // logical id of FunctionArn
	PayloadType          string // TOKEN
	Header               string // Identity.Header, default Authorization
	ValidationExpression string // Identity.ValidationExpression, "" for none
	ReauthorizeEvery     int    // Identity.ReauthorizeEvery, seconds (default 300)
}

// Cors is the API's CORS configuration, with SAM's quotes removed.
type Cors struct {
	AllowOrigin, AllowHeaders, AllowMethods, MaxAge string
	AllowCredentials                                bool
}

// GatewayResponse is a customised API Gateway response, with SAM's quotes
// removed from the header values.
type GatewayResponse struct {
	StatusCode int // 0 when the template keeps API Gateway's
	Headers    map[string]string
}

// RestAPI returns the AWS::Serverless::Api with that logical id.
func (t *Template) RestAPI(logicalID string) (RestAPI, error) {
	api, err := t.CFN.GetServerlessApiWithName(logicalID)
	if err != nil {
		return RestAPI{}, err
	}
	out := RestAPI{LogicalID: logicalID, Authorizers: map[string]TokenAuthorizer{}, GatewayResponses: map[string]GatewayResponse{}}
	out.StageName = api.StageName
	if api.Auth != nil {
		out.DefaultAuthorizer = deref(api.Auth.DefaultAuthorizer)
		out.AddDefaultAuthorizerToCorsPreflight = api.Auth.AddDefaultAuthorizerToCorsPreflight == nil || *api.Auth.AddDefaultAuthorizerToCorsPreflight
		for name, a := range object(api.Auth.Authorizers) {
			out.Authorizers[name] = tokenAuthorizer(name, object(a))
		}
	}
	if api.Cors != nil {
		c := &Cors{}
		if api.Cors.String != nil {
			c.AllowOrigin = unquote(*api.Cors.String)
		} else if cfg := api.Cors.CorsConfiguration; cfg != nil {
			c.AllowOrigin = unquote(cfg.AllowOrigin)
			c.AllowHeaders = unquote(deref(cfg.AllowHeaders))
			c.AllowMethods = unquote(deref(cfg.AllowMethods))
			c.MaxAge = unquote(deref(cfg.MaxAge))
			c.AllowCredentials = cfg.AllowCredentials != nil && *cfg.AllowCredentials
		}
		out.Cors = c
	}
	rawAPI := object(object(object(t.raw["Resources"])[logicalID])["Properties"])
	for typ, r := range object(rawAPI["GatewayResponses"]) {
		gr := GatewayResponse{Headers: map[string]string{}}
		gr.StatusCode, _ = strconv.Atoi(scalar(object(r)["StatusCode"]))
		for k, v := range object(object(object(r)["ResponseParameters"])["Headers"]) {
			gr.Headers[k] = unquote(scalar(v))
		}
		out.GatewayResponses[typ] = gr
	}

	for id, fn := range t.CFN.GetAllServerlessFunctionResources() {
		for name, ev := range fn.Events {
			if ev.Properties == nil || ev.Properties.ApiEvent == nil {
				continue
			}
			e := ev.Properties.ApiEvent
			if e.RestApiId == nil || *e.RestApiId != logicalID {
				continue
			}
			r := Route{Method: strings.ToUpper(e.Method), Path: e.Path, Function: id, Event: name, Authorizer: out.DefaultAuthorizer}
			if e.Auth != nil && e.Auth.Authorizer != nil {
				r.Authorizer = *e.Auth.Authorizer
			}
			if r.Authorizer == "NONE" {
				r.Authorizer = ""
			}
			out.Routes = append(out.Routes, r)
		}
	}
	sort.Slice(out.Routes, func(i, j int) bool {
		a, b := out.Routes[i], out.Routes[j]
		return a.Path < b.Path || a.Path == b.Path && a.Method < b.Method
	})
	return out, nil
}

func tokenAuthorizer(name string, a map[string]any) TokenAuthorizer {
	ta := TokenAuthorizer{
		Name:             name,
		Function:         logicalIDOfARN(scalar(a["FunctionArn"])),
		PayloadType:      firstNonEmpty(scalar(a["FunctionPayloadType"]), "TOKEN"),
		Header:           "Authorization",
		ReauthorizeEvery: 300,
	}
	id := object(a["Identity"])
	ta.Header = firstNonEmpty(scalar(id["Header"]), ta.Header)
	ta.ValidationExpression = scalar(id["ValidationExpression"])
	if n, err := strconv.Atoi(scalar(id["ReauthorizeEvery"])); err == nil {
		ta.ReauthorizeEvery = n
	}
	return ta
}

// unquote removes the single quotes SAM wants around literal header values
// ("'Bearer'").
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		return s[1 : len(s)-1]
	}
	return s
}

func object(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

// scalar renders a resolved JSON scalar as CloudFormation would pass it on.
func scalar(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
