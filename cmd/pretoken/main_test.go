package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/example/petstore-oidc/internal/lambdatest"
)

const read, write = "petstore/pets:read", "petstore/pets:write"

var testEnv = envMap{"READ_SCOPE": read, "WRITE_SCOPE": write, "READERS_GROUP": "readers", "WRITERS_GROUP": "writers"}

// An event as Cognito sends it for a hosted-UI sign-in (the request's
// shape from the V2_0 trigger's documentation; values made up).
func cognitoEvent(t testing.TB, groups ...string) []byte {
	t.Helper()
	g, _ := json.Marshal(groups)
	return []byte(`{"version":"2","triggerSource":"TokenGeneration_HostedAuth","region":"eu-west-1",
"userPoolId":"eu-west-1_AbCdEf123","userName":"alice","callerContext":{"awsSdkVersion":"aws-sdk-unknown-unknown","clientId":"1example23456789"},
"request":{"userAttributes":{"sub":"0f3c","email":"alice@example.com"},
"groupConfiguration":{"groupsToOverride":` + string(g) + `,"iamRolesToOverride":[],"preferredRole":null},
"scopes":["openid","email","profile","` + read + `","` + write + `"]},
"response":{"claimsAndScopeOverrideDetails":null}}`)
}

func TestScopesByGroup(t *testing.T) {
	trigger, err := newScopeTrigger(testEnv.get, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		groups []string
		want   []string
	}{
		{"writer", []string{"writers"}, nil},
		{"writer and reader", []string{"readers", "writers"}, nil},
		{"reader", []string{"readers"}, []string{write}},
		{"no group", nil, []string{read, write}},
		{"another group", []string{"Writers", "admins"}, []string{read, write}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var ev events.CognitoEventUserPoolsPreTokenGenV2_0
			if err := json.Unmarshal(cognitoEvent(t, tt.groups...), &ev); err != nil {
				t.Fatal(err)
			}
			out, err := trigger.handle(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			if got := out.Response.ClaimsAndScopeOverrideDetails.AccessTokenGeneration.ScopesToSuppress; !slices.Equal(got, tt.want) {
				t.Errorf("suppressed %v, want %v", got, tt.want)
			}
			if out.Request.GroupConfiguration.GroupsToOverride == nil && tt.groups != nil || out.UserName != "alice" {
				t.Errorf("the event was not passed back as received: %+v", out)
			}
		})
	}
}

func TestScopeTriggerNeedsItsScopesAndGroups(t *testing.T) {
	for _, tt := range []struct {
		env  envMap
		want string
	}{
		{envMap{}, "READ_SCOPE"},
		{envMap{"READ_SCOPE": read, "READERS_GROUP": "readers", "WRITERS_GROUP": "writers"}, "READ_SCOPE"},
		{envMap{"READ_SCOPE": read, "WRITE_SCOPE": read, "READERS_GROUP": "readers", "WRITERS_GROUP": "writers"}, "READ_SCOPE"},
		{envMap{"READ_SCOPE": read, "WRITE_SCOPE": write}, "READERS_GROUP"},
		{envMap{"READ_SCOPE": read, "WRITE_SCOPE": write, "READERS_GROUP": "g", "WRITERS_GROUP": "g"}, "READERS_GROUP"},
	} {
		if _, err := newScopeTrigger(tt.env.get, slog.Default()); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want one naming %s", tt.env, err, tt.want)
		}
	}
}

// TestBootstrapUnderLambdaRuntimeAPI runs the built bootstrap as Lambda
// would, and checks the JSON Cognito gets back: scopesToSuppress where
// Cognito reads it.
func TestBootstrapUnderLambdaRuntimeAPI(t *testing.T) {
	bootstrap := lambdatest.BuildHost(t, ".")
	rt := lambdatest.NewRuntime(t)
	proc := rt.Start(t, bootstrap, "READ_SCOPE="+read, "WRITE_SCOPE="+write, "READERS_GROUP=readers", "WRITERS_GROUP=writers")
	res, err := rt.InvokeProcess(proc, cognitoEvent(t, "readers"), 10*time.Second)
	if err != nil || res.Err != nil {
		t.Fatalf("%v %v\n%s", err, res.Err, proc.Output())
	}
	var out struct {
		Response struct {
			ClaimsAndScopeOverrideDetails struct {
				AccessTokenGeneration struct {
					ScopesToSuppress []string `json:"scopesToSuppress"`
				} `json:"accessTokenGeneration"`
			} `json:"claimsAndScopeOverrideDetails"`
		} `json:"response"`
	}
	if err := json.Unmarshal(res.Payload, &out); err != nil {
		t.Fatal(err)
	}
	if got := out.Response.ClaimsAndScopeOverrideDetails.AccessTokenGeneration.ScopesToSuppress; !slices.Equal(got, []string{write}) {
		t.Errorf("scopesToSuppress %v in %s", got, res.Payload)
	}
	if want := `"response":{"claimsAndScopeOverrideDetails":{"accessTokenGeneration":{"scopesToSuppress":["` + write + `"]}}}`; !strings.Contains(string(res.Payload), want) {
		t.Errorf("response %s\nwant only %s", res.Payload, want)
	}
	proc.Stop()
	if !strings.Contains(proc.Output(), `"msg":"token scopes"`) || !strings.Contains(proc.Output(), `"sub":"0f3c"`) {
		t.Errorf("no log line with the user's sub:\n%s", proc.Output())
	}
	// The username and the e-mail address are personal data: never logged.
	if strings.Contains(proc.Output(), "alice") {
		t.Errorf("the log names the user:\n%s", proc.Output())
	}

	bad := rt.Start(t, bootstrap)
	if _, err := rt.InvokeProcess(bad, cognitoEvent(t), 5*time.Second); err == nil && !bad.Exited() {
		t.Error("started without READ_SCOPE and WRITE_SCOPE")
	}
}

type envMap map[string]string

func (m envMap) get(k string) string { return m[k] }
