// Package samtemplate reads template.yaml, the SAM template that deploys the
// stack, so that the local stack runs from the very file that deploys to
// AWS. It is a small reader on gopkg.in/yaml.v3 for what the template uses:
// Parameters, Conditions, Globals (Function and Api), Resources and Outputs,
// with the intrinsics Ref, Fn::Sub, Fn::GetAtt, Fn::Join, Fn::Select,
// Fn::Split, Fn::If and the condition functions, and Rules, whose
// assertions refuse parameter values as CloudFormation would. Anything else is an error that names where it is.
// Resources stay generic (Type and resolved Properties); Function and
// RestAPI read the two types the stack runs.
package samtemplate

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
)

// The resource types with typed accessors and Globals.
const (
	typeFunction = "AWS::Serverless::Function"
	typeAPI      = "AWS::Serverless::Api"
	// What the template's own user pool reads with Fn::GetAtt.
	typeUserPool       = "AWS::Cognito::UserPool"
	typeUserPoolClient = "AWS::Cognito::UserPoolClient"
	typeUserPoolDomain = "AWS::Cognito::UserPoolDomain"
)

// Template is a template with its intrinsic functions resolved.
type Template struct {
	// Parameters holds each parameter's effective value: the override
	// given to Load, else its Default.
	Parameters map[string]string
	// Resources holds the resources whose Condition, if any, is true.
	Resources map[string]Resource
	Outputs   map[string]Output
}

// Resource is one resource of the template.
type Resource struct {
	Type string
	// Properties are resolved; for SAM functions and APIs the Globals are
	// merged in.
	Properties map[string]any
	Metadata   map[string]any
	// DeletionPolicy and UpdateReplacePolicy as written (empty: absent).
	DeletionPolicy, UpdateReplacePolicy string
}

// Output is one output of the template, resolved.
type Output struct {
	Description, Value string
}

// Load reads the template at path with the given parameter values
// (unset parameters take their Default).
func Load(path string, parameters map[string]string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := Parse(data, parameters)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

var (
	sections           = []string{"AWSTemplateFormatVersion", "Transform", "Description", "Metadata", "Parameters", "Rules", "Conditions", "Globals", "Resources", "Outputs"}
	resourceAttributes = []string{"Type", "Properties", "Metadata", "Condition", "DependsOn", "DeletionPolicy", "UpdateReplacePolicy"}
	outputAttributes   = []string{"Description", "Value", "Condition", "Export"}
)

// Parse reads a template from its text; see Load.
func Parse(data []byte, parameters map[string]string) (*Template, error) {
	doc, err := decodeYAML(data)
	if err != nil {
		return nil, err
	}
	if err := only(doc, "", sections); err != nil {
		return nil, err
	}
	r := &resolver{decided: map[string]bool{}, evaluating: map[string]bool{}}
	params, err := mapping(doc["Parameters"], "Parameters")
	if err != nil {
		return nil, err
	}
	if r.parameters, err = parameterValues(params, parameters); err != nil {
		return nil, err
	}
	if r.conditions, err = mapping(doc["Conditions"], "Conditions"); err != nil {
		return nil, err
	}
	if err := r.checkRules(doc["Rules"]); err != nil {
		return nil, err
	}
	globals, err := readGlobals(doc["Globals"])
	if err != nil {
		return nil, err
	}
	if r.resources, err = mappings(doc["Resources"], "Resources", resourceAttributes); err != nil {
		return nil, err
	}
	if len(r.resources) == 0 {
		return nil, errors.New("the template has no Resources")
	}
	t := &Template{Parameters: r.parameters, Resources: map[string]Resource{}, Outputs: map[string]Output{}}
	for _, id := range slices.Sorted(maps.Keys(r.resources)) {
		raw, path := r.resources[id], "Resources."+id
		typ, ok := raw["Type"].(string)
		if !ok || typ == "" {
			return nil, fmt.Errorf("%s.Type: want a resource type", path)
		}
		if yes, err := r.when(raw["Condition"], path); err != nil || !yes {
			if err != nil {
				return nil, err
			}
			continue
		}
		res := Resource{Type: typ}
		for _, a := range []struct {
			name string
			into *string
		}{{"DeletionPolicy", &res.DeletionPolicy}, {"UpdateReplacePolicy", &res.UpdateReplacePolicy}} {
			v, ok := scalar(raw[a.name])
			if !ok && raw[a.name] != nil {
				return nil, fmt.Errorf("%s.%s: want a string", path, a.name)
			}
			*a.into = v
		}
		props, err := mapping(raw["Properties"], path+".Properties")
		if err != nil {
			return nil, err
		}
		if g, ok := globals[typ]; ok {
			if props, ok = mergeGlobals(g, props).(map[string]any); !ok {
				return nil, fmt.Errorf("%s.Properties: cannot apply the Globals", path)
			}
		}
		if res.Properties, err = r.resolveMapping(props, path+".Properties"); err != nil {
			return nil, err
		}
		if res.Metadata, err = r.resolveMapping(raw["Metadata"], path+".Metadata"); err != nil {
			return nil, err
		}
		t.Resources[id] = res
	}
	outputs, err := mappings(doc["Outputs"], "Outputs", outputAttributes)
	if err != nil {
		return nil, err
	}
	for _, name := range slices.Sorted(maps.Keys(outputs)) {
		raw, path := outputs[name], "Outputs."+name
		if yes, err := r.when(raw["Condition"], path); err != nil || !yes {
			if err != nil {
				return nil, err
			}
			continue
		}
		value, err := r.resolve(raw["Value"], path+".Value")
		if err != nil {
			return nil, err
		}
		var o Output
		var ok1, ok2 bool
		o.Value, ok1 = scalar(value)
		o.Description, ok2 = scalar(raw["Description"])
		if !ok1 || !ok2 && raw["Description"] != nil {
			return nil, fmt.Errorf("%s: want a string Value and Description", path)
		}
		t.Outputs[name] = o
	}
	return t, nil
}

// parameterValues gives each parameter its override, else its Default.
func parameterValues(params map[string]any, overrides map[string]string) (map[string]string, error) {
	values := map[string]string{}
	for name := range overrides {
		if _, ok := params[name]; !ok {
			return nil, fmt.Errorf("no parameter %s in Parameters", name)
		}
	}
	for name, p := range params {
		path := "Parameters." + name
		m, ok := p.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: want a mapping", path)
		}
		if typ := m["Type"]; typ != "String" && typ != "Number" {
			return nil, fmt.Errorf("%s.Type: want String or Number, the types this reader supports", path)
		}
		value, ok := overrides[name]
		if !ok {
			if value, ok = scalar(m["Default"]); !ok {
				return nil, fmt.Errorf("%s: no value and no Default", path)
			}
		}
		values[name] = value
	}
	return values, nil
}

// checkRules evaluates the Rules section: for each rule whose
// RuleCondition holds (none: always), every Assert must hold, or the
// parameters are refused with its AssertDescription, as CloudFormation
// refuses them before it changes anything.
func (r *resolver) checkRules(v any) error {
	rules, err := mappings(v, "Rules", []string{"RuleCondition", "Assertions"})
	if err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(rules)) {
		rule, path := rules[name], "Rules."+name
		if c, ok := rule["RuleCondition"]; ok {
			yes, err := r.evalCondition(c, path+".RuleCondition")
			if err != nil || !yes {
				if err != nil {
					return err
				}
				continue
			}
		}
		assertions, ok := rule["Assertions"].([]any)
		if !ok || len(assertions) == 0 {
			return fmt.Errorf("%s.Assertions: want a list", path)
		}
		for i, a := range assertions {
			apath := fmt.Sprintf("%s.Assertions[%d]", path, i)
			m, ok := a.(map[string]any)
			if !ok {
				return fmt.Errorf("%s: want a mapping", apath)
			}
			if err := only(m, apath, []string{"Assert", "AssertDescription"}); err != nil {
				return err
			}
			yes, err := r.evalCondition(m["Assert"], apath+".Assert")
			if err != nil {
				return err
			}
			if !yes {
				desc, _ := scalar(m["AssertDescription"])
				return fmt.Errorf("%s: the parameters break the rule: %s", path, cmp.Or(desc, "(no AssertDescription)"))
			}
		}
	}
	return nil
}

// when evaluates a resource's or output's Condition attribute; none is
// true.
func (r *resolver) when(cond any, path string) (bool, error) {
	if cond == nil {
		return true, nil
	}
	name, ok := cond.(string)
	if !ok {
		return false, fmt.Errorf("%s.Condition: want a condition's name", path)
	}
	yes, err := r.condition(name)
	if err != nil {
		return false, fmt.Errorf("%s.Condition: %w", path, err)
	}
	return yes, nil
}

func (r *resolver) resolveMapping(v any, path string) (map[string]any, error) {
	v, err := r.resolve(v, path)
	if err != nil {
		return nil, err
	}
	return mapping(v, path)
}

// mapping returns v as a mapping; nil is an empty one.
func mapping(v any, path string) (map[string]any, error) {
	if v == nil {
		return map[string]any{}, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: want a mapping", path)
	}
	return m, nil
}

// mappings returns a section whose every entry is a mapping with only the
// given keys.
func mappings(v any, path string, keys []string) (map[string]map[string]any, error) {
	m, err := mapping(v, path)
	if err != nil {
		return nil, err
	}
	out := make(map[string]map[string]any, len(m))
	for name, e := range m {
		entry, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: want a mapping", join(path, name))
		}
		if err := only(entry, join(path, name), keys); err != nil {
			return nil, err
		}
		out[name] = entry
	}
	return out, nil
}

// only refuses the keys of m that are not in keys.
func only(m map[string]any, path string, keys []string) error {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !slices.Contains(keys, k) {
			return fmt.Errorf("%s: not supported here (supported: %s)", where(join(path, k)), strings.Join(keys, ", "))
		}
	}
	return nil
}

// globalProperties are the properties SAM accepts in each Globals section
// this reader supports (Function and Api).
var globalProperties = map[string][]string{
	"Function": {"Architectures", "AssumeRolePolicyDocument", "AutoPublishAlias", "CodeUri", "DeadLetterQueue",
		"DeploymentPreference", "Description", "Environment", "EphemeralStorage", "EventInvokeConfig",
		"FileSystemConfigs", "FunctionUrlConfig", "Handler", "KmsKeyArn", "Layers", "LoggingConfig", "MemorySize",
		"PermissionsBoundary", "PropagateTags", "ProvisionedConcurrencyConfig", "RecursiveLoop",
		"ReservedConcurrentExecutions", "RolePath", "Runtime", "RuntimeManagementConfig", "SnapStart",
		"SourceKMSKeyArn", "Tags", "Timeout", "Tracing", "VpcConfig"},
	"Api": {"AccessLogSetting", "Auth", "BinaryMediaTypes", "CacheClusterEnabled", "CacheClusterSize",
		"CanarySetting", "Cors", "DefinitionUri", "Domain", "EndpointConfiguration", "GatewayResponses",
		"MethodSettings", "MinimumCompressionSize", "Name", "OpenApiVersion", "PropagateTags", "TracingEnabled",
		"Variables"},
}

var globalSections = map[string]string{"Function": typeFunction, "Api": typeAPI}

// readGlobals returns the Globals by the resource type they apply to.
func readGlobals(v any) (map[string]map[string]any, error) {
	sections, err := mapping(v, "Globals")
	if err != nil {
		return nil, err
	}
	if err := only(sections, "Globals", slices.Sorted(maps.Keys(globalSections))); err != nil {
		return nil, err
	}
	out := map[string]map[string]any{}
	for name, s := range sections {
		m, err := mapping(s, "Globals."+name)
		if err != nil {
			return nil, err
		}
		if err := only(m, "Globals."+name, globalProperties[name]); err != nil {
			return nil, err
		}
		out[globalSections[name]] = m
	}
	return out, nil
}

// mergeGlobals merges a Globals value into a resource's own as SAM does:
// mappings are merged key by key (the resource's keys win), lists are
// concatenated (the Globals' entries first), and for anything else,
// intrinsic functions included, the resource's value wins.
func mergeGlobals(global, own any) any {
	gm, gIsMap := global.(map[string]any)
	om, oIsMap := own.(map[string]any)
	if gIsMap && oIsMap {
		if _, _, ok := intrinsic(gm); ok {
			return own
		}
		if _, _, ok := intrinsic(om); ok {
			return own
		}
		out := maps.Clone(gm)
		for k, v := range om {
			if g, ok := out[k]; ok {
				v = mergeGlobals(g, v)
			}
			out[k] = v
		}
		return out
	}
	gl, gIsList := global.([]any)
	ol, oIsList := own.([]any)
	if gIsList && oIsList {
		return append(slices.Clone(gl), ol...)
	}
	return own
}
