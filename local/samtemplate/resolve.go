package samtemplate

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Fixed values of the pseudo parameters, those of the local stack's
// "account".
var pseudoParameters = map[string]string{
	"AWS::Region":    "us-east-1",
	"AWS::AccountId": "123456789012",
	"AWS::Partition": "aws",
	"AWS::URLSuffix": "amazonaws.com",
	"AWS::StackName": "local",
	"AWS::StackId":   "arn:aws:cloudformation:us-east-1:123456789012:stack/local/5e1fc0de-0000-4000-8000-000000000000",
}

// noValue is what Ref AWS::NoValue resolves to: the property is removed.
var noValue = &struct{}{}

// resolver resolves the intrinsic functions of one template.
type resolver struct {
	parameters map[string]string         // effective values
	resources  map[string]map[string]any // raw resources, the targets of Ref and Fn::GetAtt
	conditions map[string]any            // raw Conditions section
	decided    map[string]bool           // conditions evaluated so far
	evaluating map[string]bool           // conditions being evaluated, to find cycles
}

// resolve returns v with every intrinsic function replaced by its value.
// path names v in errors, e.g. Resources.Api.Properties.Cors.
func (r *resolver) resolve(v any, path string) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if name, arg, ok := intrinsic(x); ok {
			out, err := r.intrinsic(name, arg, path)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", path, name, err)
			}
			return out, nil
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			rv, err := r.resolve(e, join(path, k))
			if err != nil {
				return nil, err
			}
			if rv != noValue {
				out[k] = rv
			}
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(x))
		for i, e := range x {
			rv, err := r.resolve(e, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			if rv != noValue {
				out = append(out, rv)
			}
		}
		return out, nil
	default:
		return v, nil
	}
}

// intrinsic reports whether m is an intrinsic function call: one key, Ref
// or Fn::something.
func intrinsic(m map[string]any) (name string, arg any, ok bool) {
	if len(m) != 1 {
		return "", nil, false
	}
	for k, v := range m {
		name, arg = k, v
	}
	return name, arg, name == "Ref" || strings.HasPrefix(name, "Fn::")
}

func (r *resolver) intrinsic(name string, arg any, path string) (any, error) {
	switch name {
	case "Ref":
		id, ok := arg.(string)
		if !ok || id == "" {
			return nil, errors.New("want the name of a parameter or resource")
		}
		return r.ref(id)
	case "Fn::GetAtt":
		l, ok := arg.([]any)
		if !ok || len(l) != 2 {
			return nil, errors.New("want [resource, attribute]")
		}
		id, ok1 := l[0].(string)
		attr, ok2 := l[1].(string)
		if !ok1 || !ok2 {
			return nil, errors.New("want [resource, attribute]")
		}
		return r.getAtt(id, attr)
	case "Fn::Sub":
		return r.sub(arg, path)
	case "Fn::Join":
		l, ok := arg.([]any)
		if !ok || len(l) != 2 {
			return nil, errors.New("want [delimiter, [values]]")
		}
		delim, ok := l[0].(string)
		if !ok {
			return nil, errors.New("the delimiter is not a string")
		}
		values, err := r.resolve(l[1], path)
		if err != nil {
			return nil, err
		}
		list, ok := values.([]any)
		if !ok {
			return nil, errors.New("want a list of values")
		}
		parts := make([]string, len(list))
		for i, v := range list {
			if parts[i], ok = scalar(v); !ok {
				return nil, fmt.Errorf("value %d is not a string", i)
			}
		}
		return strings.Join(parts, delim), nil
	case "Fn::If":
		l, ok := arg.([]any)
		if !ok || len(l) != 3 {
			return nil, errors.New("want [condition, value if true, value if false]")
		}
		cond, ok := l[0].(string)
		if !ok {
			return nil, errors.New("the condition is not a name")
		}
		yes, err := r.condition(cond)
		if err != nil {
			return nil, err
		}
		if yes {
			return r.resolve(l[1], path)
		}
		return r.resolve(l[2], path)
	case "Fn::Select":
		l, ok := arg.([]any)
		if !ok || len(l) != 2 {
			return nil, errors.New("want [index, [values]]")
		}
		index, err := r.resolve(l[0], path)
		if err != nil {
			return nil, err
		}
		s, _ := scalar(index)
		i, err := strconv.Atoi(s)
		if err != nil || i < 0 {
			return nil, errors.New("the index is not a number from 0")
		}
		values, err := r.resolve(l[1], path)
		if err != nil {
			return nil, err
		}
		list, ok := values.([]any)
		if !ok || i >= len(list) {
			return nil, fmt.Errorf("want a list of more than %d values", i)
		}
		return list[i], nil
	case "Fn::Split":
		l, ok := arg.([]any)
		if !ok || len(l) != 2 {
			return nil, errors.New("want [delimiter, string]")
		}
		delim, ok := l[0].(string)
		if !ok || delim == "" {
			return nil, errors.New("the delimiter is not a string")
		}
		v, err := r.resolve(l[1], path)
		if err != nil {
			return nil, err
		}
		s, ok := scalar(v)
		if !ok {
			return nil, errors.New("want a string to split")
		}
		var out []any
		for _, part := range strings.Split(s, delim) {
			out = append(out, part)
		}
		return out, nil
	case "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or":
		return nil, errors.New("allowed in Conditions only")
	default:
		return nil, errors.New("not supported by this reader")
	}
}

// ref resolves Ref: a parameter to its value, a pseudo parameter to the
// local stack's, and a resource to its logical id (its physical name is
// the logical id locally), except a user pool domain, whose Ref is its
// prefix.
func (r *resolver) ref(id string) (any, error) {
	if v, ok := r.parameters[id]; ok {
		return v, nil
	}
	if v, ok := pseudoParameters[id]; ok {
		return v, nil
	}
	if id == "AWS::NoValue" {
		return noValue, nil
	}
	if res, ok := r.resources[id]; ok {
		if res["Type"] == typeUserPoolDomain {
			// Ref of a user pool domain is its Domain (the prefix), as
			// CloudFormation documents it.
			props, _ := res["Properties"].(map[string]any)
			return r.resolve(props["Domain"], "Resources."+id+".Properties.Domain")
		}
		return id, nil
	}
	return nil, fmt.Errorf("%q is no parameter or resource", id)
}

// getAtt resolves the attributes the local stack follows: a function's Arn,
// whose last segment is the logical id (FunctionOf inverts it).
func (r *resolver) getAtt(id, attr string) (any, error) {
	res, ok := r.resources[id]
	if fn, isURL := strings.CutSuffix(id, "Url"); !ok && isURL && attr == "FunctionUrl" {
		// SAM makes an AWS::Lambda::Url named FunctionId + "Url" for a
		// function with FunctionUrlConfig; its FunctionUrl ends with "/".
		if f, found := r.resources[fn]; found && f["Type"] == typeFunction {
			if props, _ := f["Properties"].(map[string]any); props["FunctionUrlConfig"] != nil {
				return "https://" + strings.ToLower(fn) + functionURLSuffix, nil
			}
		}
	}
	if !ok {
		return nil, fmt.Errorf("%q is no resource", id)
	}
	typ, _ := res["Type"].(string)
	switch typ + "." + attr {
	case typeFunction + ".Arn":
		return functionARNPrefix + id, nil
	case typeTable + ".Arn":
		return tableARNPrefix + id, nil
	case typeUserPool + ".Arn":
		return userPoolARNPrefix + id, nil
	case typeUserPoolClient + ".ClientSecret":
		// A stand-in: the local stack never runs Cognito.
		return "local-client-secret-of-" + id, nil
	default:
		return nil, fmt.Errorf("attribute %s of %s is not supported", attr, id)
	}
}

// The local stand-ins for ARNs: the logical id, in the form of the real
// ARN, is the name.
const (
	functionARNPrefix = "arn:aws:lambda:us-east-1:123456789012:function:"
	tableARNPrefix    = "arn:aws:dynamodb:us-east-1:123456789012:table/"
	functionURLSuffix = ".lambda-url.us-east-1.on.aws/"
	userPoolARNPrefix = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/"
)

var subVariable = regexp.MustCompile(`\$\{([^}]*)\}`)

// sub resolves Fn::Sub, "text ${Name} ${Resource.Attr}" or [text, {Name: value}].
func (r *resolver) sub(arg any, path string) (any, error) {
	text, ok := arg.(string)
	vars := map[string]any{}
	if l, isList := arg.([]any); isList && len(l) == 2 {
		text, ok = l[0].(string)
		m, isMap := l[1].(map[string]any)
		if !isMap {
			return nil, errors.New("the variables are not a mapping")
		}
		for k, v := range m {
			rv, err := r.resolve(v, join(path, k))
			if err != nil {
				return nil, err
			}
			vars[k] = rv
		}
	}
	if !ok {
		return nil, errors.New("want a string, or [string, {variables}]")
	}
	var firstErr error
	out := subVariable.ReplaceAllStringFunc(text, func(m string) string {
		name := m[2 : len(m)-1]
		if strings.HasPrefix(name, "!") {
			return "${" + name[1:] + "}" // ${!Literal}
		}
		v, found := vars[name]
		var err error
		if !found {
			if id, attr, isAtt := strings.Cut(name, "."); isAtt {
				v, err = r.getAtt(id, attr)
			} else if name == "" {
				err = errors.New("empty ${}")
			} else {
				v, err = r.ref(name)
			}
		}
		s, isScalar := scalar(v)
		if err == nil && !isScalar {
			err = fmt.Errorf("${%s} is not a string", name)
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return s
	})
	return out, firstErr
}

// condition evaluates a condition of the Conditions section by name.
func (r *resolver) condition(name string) (bool, error) {
	if v, ok := r.decided[name]; ok {
		return v, nil
	}
	def, ok := r.conditions[name]
	if !ok {
		return false, fmt.Errorf("no condition %q", name)
	}
	if r.evaluating[name] {
		return false, fmt.Errorf("condition %q refers to itself", name)
	}
	r.evaluating[name] = true
	v, err := r.evalCondition(def, "Conditions."+name)
	if err != nil {
		return false, err
	}
	r.decided[name] = v
	return v, nil
}

// evalCondition evaluates Fn::Equals, Fn::Not, Fn::And, Fn::Or and
// Condition.
func (r *resolver) evalCondition(v any, path string) (bool, error) {
	m, ok := v.(map[string]any)
	name, arg := "", any(nil)
	if ok && len(m) == 1 {
		for name, arg = range m {
		}
	}
	if name == "Condition" {
		s, ok := arg.(string)
		if !ok {
			return false, fmt.Errorf("%s: Condition: want a condition's name", path)
		}
		return r.condition(s)
	}
	l, ok := arg.([]any)
	if !ok {
		return false, fmt.Errorf("%s: want Fn::Equals, Fn::Not, Fn::And, Fn::Or or Condition with a list", path)
	}
	switch {
	case name == "Fn::Equals" && len(l) == 2:
		var s [2]string
		for i := range l {
			rv, err := r.resolve(l[i], path)
			if err != nil {
				return false, err
			}
			if s[i], ok = scalar(rv); !ok {
				return false, fmt.Errorf("%s: Fn::Equals compares strings", path)
			}
		}
		return s[0] == s[1], nil
	case name == "Fn::Not" && len(l) == 1:
		b, err := r.evalCondition(l[0], path)
		return !b, err
	case (name == "Fn::And" || name == "Fn::Or") && len(l) >= 2 && len(l) <= 10:
		result := name == "Fn::And"
		for _, c := range l {
			b, err := r.evalCondition(c, path)
			if err != nil {
				return false, err
			}
			if name == "Fn::And" {
				result = result && b
			} else {
				result = result || b
			}
		}
		return result, nil
	default:
		return false, fmt.Errorf("%s: want Fn::Equals [a, b], Fn::Not [c], Fn::And or Fn::Or [2 to 10 conditions], or Condition", path)
	}
}

// scalar renders a resolved scalar as CloudFormation passes it on: as a
// string. ok is false for lists, mappings and null.
func scalar(v any) (s string, ok bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(x), true
	default:
		return "", false
	}
}
