package samtemplate

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

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

// Function returns the AWS::Serverless::Function with that logical id,
// with the Globals applied.
func (t *Template) Function(logicalID string) (Function, error) {
	var err error
	res, p, err := t.resource(logicalID, typeFunction, &err)
	if err != nil {
		return Function{}, err
	}
	f := Function{
		LogicalID:     logicalID,
		CodeURI:       p.str("CodeUri"),
		Runtime:       p.str("Runtime"),
		Handler:       p.str("Handler"),
		Architectures: p.strings("Architectures"),
		BuildMethod:   props{"Resources." + logicalID + ".Metadata", res.Metadata, &err}.str("BuildMethod"),
		Environment:   map[string]string{},
	}
	vars := p.obj("Environment").obj("Variables")
	for _, k := range vars.keys() {
		f.Environment[k] = vars.str(k)
	}
	return f, err
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

// RestAPI returns the AWS::Serverless::Api with that logical id. The parts
// of its Auth, Cors and GatewayResponses that the local gateway does not
// emulate are errors rather than silently ignored.
func (t *Template) RestAPI(logicalID string) (RestAPI, error) {
	var err error
	_, p, err := t.resource(logicalID, typeAPI, &err)
	if err != nil {
		return RestAPI{}, err
	}
	out := RestAPI{LogicalID: logicalID, StageName: p.str("StageName"),
		Authorizers: map[string]TokenAuthorizer{}, GatewayResponses: map[string]GatewayResponse{}}

	auth := p.obj("Auth").only("DefaultAuthorizer", "AddDefaultAuthorizerToCorsPreflight", "Authorizers")
	out.DefaultAuthorizer = auth.str("DefaultAuthorizer")
	out.AddDefaultAuthorizerToCorsPreflight = auth.boolean("AddDefaultAuthorizerToCorsPreflight", true)
	authorizers := auth.obj("Authorizers")
	for _, name := range authorizers.keys() {
		out.Authorizers[name] = tokenAuthorizer(name, authorizers.obj(name))
	}

	if s, ok := scalar(p.m["Cors"]); ok {
		out.Cors = &Cors{AllowOrigin: unquote(s)}
	} else if p.has("Cors") {
		c := p.obj("Cors").only("AllowOrigin", "AllowHeaders", "AllowMethods", "MaxAge", "AllowCredentials")
		out.Cors = &Cors{AllowOrigin: unquote(c.str("AllowOrigin")), AllowHeaders: unquote(c.str("AllowHeaders")),
			AllowMethods: unquote(c.str("AllowMethods")), MaxAge: unquote(c.str("MaxAge")),
			AllowCredentials: c.boolean("AllowCredentials", false)}
	}

	responses := p.obj("GatewayResponses")
	for _, typ := range responses.keys() {
		r := responses.obj(typ).only("StatusCode", "ResponseParameters", "ResponseTemplates")
		gr := GatewayResponse{StatusCode: r.integer("StatusCode", 0), Headers: map[string]string{}}
		headers := r.obj("ResponseParameters").only("Headers").obj("Headers")
		for _, k := range headers.keys() {
			gr.Headers[k] = unquote(headers.str(k))
		}
		out.GatewayResponses[typ] = gr
	}

	for _, id := range slices.Sorted(maps.Keys(t.Resources)) {
		if t.Resources[id].Type != typeFunction {
			continue
		}
		events := props{"Resources." + id + ".Properties", t.Resources[id].Properties, &err}.obj("Events")
		for _, name := range events.keys() {
			ev := events.obj(name).only("Type", "Properties")
			if typ := ev.str("Type"); typ != "Api" {
				ev.fail("Type", "Api, the only event type the local stack runs")
				continue
			}
			e := ev.obj("Properties").only("RestApiId", "Path", "Method", "Auth")
			if e.str("RestApiId") != logicalID {
				continue
			}
			r := Route{Method: strings.ToUpper(e.str("Method")), Path: e.str("Path"), Function: id, Event: name,
				Authorizer: out.DefaultAuthorizer}
			if a := e.obj("Auth").only("Authorizer"); a.has("Authorizer") {
				r.Authorizer = a.str("Authorizer")
			}
			if r.Authorizer == "NONE" {
				r.Authorizer = ""
			}
			out.Routes = append(out.Routes, r)
		}
	}
	slices.SortFunc(out.Routes, func(a, b Route) int {
		return strings.Compare(a.Path+" "+a.Method, b.Path+" "+b.Method)
	})
	return out, err
}

func tokenAuthorizer(name string, a props) TokenAuthorizer {
	a = a.only("FunctionArn", "FunctionPayloadType", "Identity")
	id := a.obj("Identity").only("Header", "ValidationExpression", "ReauthorizeEvery")
	ta := TokenAuthorizer{
		Name:                 name,
		Function:             strings.TrimPrefix(a.str("FunctionArn"), functionARNPrefix),
		PayloadType:          orDefault(a.str("FunctionPayloadType"), "TOKEN"),
		Header:               orDefault(id.str("Header"), "Authorization"),
		ValidationExpression: id.str("ValidationExpression"),
		ReauthorizeEvery:     id.integer("ReauthorizeEvery", 300),
	}
	if !strings.HasPrefix(a.str("FunctionArn"), functionARNPrefix) {
		a.fail("FunctionArn", "!GetAtt Function.Arn of a function of the template")
	}
	if ta.PayloadType != "TOKEN" {
		a.fail("FunctionPayloadType", "TOKEN, the only authorizer the local gateway runs")
	}
	return ta
}

// resource returns the resource with that logical id and type, and a
// reader of its properties that records the first bad one in *err.
func (t *Template) resource(id, typ string, err *error) (Resource, props, error) {
	res, ok := t.Resources[id]
	if !ok || res.Type != typ {
		return res, props{}, fmt.Errorf("no %s named %s in Resources", typ, id)
	}
	return res, props{"Resources." + id + ".Properties", res.Properties, err}, nil
}

// props reads resolved properties. Each reader checks the shape of what it
// reads; the first property of the wrong shape is kept in *err (and the
// reader returns a zero value), so that callers read several properties
// and check once.
type props struct {
	path string
	m    map[string]any
	err  *error
}

func (p props) fail(key, want string) {
	if *p.err == nil {
		*p.err = fmt.Errorf("%s: want %s", join(p.path, key), want)
	}
}

func (p props) has(key string) bool { return p.m[key] != nil }

func (p props) keys() []string { return slices.Sorted(maps.Keys(p.m)) }

// only refuses keys other than these, which the local stack would ignore.
func (p props) only(keys ...string) props {
	for _, k := range p.keys() {
		if !slices.Contains(keys, k) {
			p.fail(k, "none: the local stack does not emulate it (it reads "+strings.Join(keys, ", ")+")")
		}
	}
	return p
}

func (p props) str(key string) string {
	s, ok := scalar(p.m[key])
	if !ok && p.has(key) {
		p.fail(key, "a string")
	}
	return s
}

func (p props) obj(key string) props {
	m, ok := p.m[key].(map[string]any)
	if !ok && p.has(key) {
		p.fail(key, "a mapping")
	}
	return props{join(p.path, key), m, p.err}
}

func (p props) strings(key string) []string {
	l, ok := p.m[key].([]any)
	if !ok && p.has(key) {
		p.fail(key, "a list")
	}
	out := make([]string, 0, len(l))
	for i := range l {
		s, ok := scalar(l[i])
		if !ok {
			p.fail(fmt.Sprintf("%s[%d]", key, i), "a string")
		}
		out = append(out, s)
	}
	return out
}

func (p props) integer(key string, absent int) int {
	if !p.has(key) {
		return absent
	}
	n, err := strconv.Atoi(p.str(key))
	if err != nil {
		p.fail(key, "an integer")
	}
	return n
}

func (p props) boolean(key string, absent bool) bool {
	if !p.has(key) {
		return absent
	}
	b, err := strconv.ParseBool(p.str(key))
	if err != nil {
		p.fail(key, "true or false")
	}
	return b
}

// unquote removes the single quotes SAM wants around literal header values
// ("'Bearer'").
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		return s[1 : len(s)-1]
	}
	return s
}

// orDefault returns s, or def when s is empty.
func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
