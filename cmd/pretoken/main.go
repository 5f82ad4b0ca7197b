// Command pretoken is the pre token generation trigger (V2_0) of the
// user pool that template.yaml creates when its Issuer is empty (logical
// id "PreTokenGeneration"). A Cognito app client grants every scope it
// allows to every user who asks for it; this trigger narrows the access
// token's API scopes to the user's groups:
//
//	WRITERS_GROUP  READ_SCOPE and WRITE_SCOPE
//	READERS_GROUP  READ_SCOPE
//	neither        no API scope (fail closed)
//
// The template names the groups writers and readers.
//
// Other scopes (openid, email, profile) are left alone. Cognito invokes
// it for sign-ins and refreshes, not for client_credentials.
package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

// scopeTrigger is the trigger for one pair of scopes and groups.
type scopeTrigger struct {
	read, write      string
	readers, writers string
	log              *slog.Logger
}

func newScopeTrigger(getenv func(string) string, log *slog.Logger) (*scopeTrigger, error) {
	t := &scopeTrigger{read: strings.TrimSpace(getenv("READ_SCOPE")), write: strings.TrimSpace(getenv("WRITE_SCOPE")),
		readers: strings.TrimSpace(getenv("READERS_GROUP")), writers: strings.TrimSpace(getenv("WRITERS_GROUP")), log: log}
	if t.read == "" || t.write == "" || t.read == t.write {
		return nil, errors.New("READ_SCOPE and WRITE_SCOPE are required and differ, e.g. petstore/pets:read and petstore/pets:write")
	}
	if t.readers == "" || t.writers == "" || t.readers == t.writers {
		return nil, errors.New("READERS_GROUP and WRITERS_GROUP are required and differ, e.g. readers and writers")
	}
	return t, nil
}

// suppressed returns the API scopes that a member of groups may not have.
func (t *scopeTrigger) suppressed(groups []string) []string {
	switch {
	case slices.Contains(groups, t.writers):
		return nil
	case slices.Contains(groups, t.readers):
		return []string{t.write}
	default:
		return []string{t.read, t.write}
	}
}

// output is the event passed back with a response that holds only what
// this trigger decides: no null group, role or claim overrides for Cognito
// to interpret.
type output struct {
	events.CognitoEventUserPoolsHeader
	Request  events.CognitoEventUserPoolsPreTokenGenRequestV2_0 `json:"request"`
	Response struct {
		ClaimsAndScopeOverrideDetails struct {
			AccessTokenGeneration struct {
				ScopesToSuppress []string `json:"scopesToSuppress,omitempty"`
			} `json:"accessTokenGeneration"`
		} `json:"claimsAndScopeOverrideDetails"`
	} `json:"response"`
}

// handle answers Cognito with the API scopes to suppress.
func (t *scopeTrigger) handle(_ context.Context, ev events.CognitoEventUserPoolsPreTokenGenV2_0) (output, error) {
	groups := ev.Request.GroupConfiguration.GroupsToOverride
	suppressed := t.suppressed(groups)
	out := output{CognitoEventUserPoolsHeader: ev.CognitoEventUserPoolsHeader, Request: ev.Request}
	out.Response.ClaimsAndScopeOverrideDetails.AccessTokenGeneration.ScopesToSuppress = suppressed
	// The user's sub (an opaque id, the access token's "sub"), not the
	// username or e-mail address: no personal data on every sign-in.
	t.log.Info("token scopes", slog.String("trigger", ev.TriggerSource), slog.String("sub", ev.Request.UserAttributes["sub"]),
		slog.Any("groups", groups), slog.Any("suppressed", suppressed))
	return out, nil
}

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	t, err := newScopeTrigger(os.Getenv, log)
	if err != nil {
		log.Error("cannot start", slog.String("error", err.Error()))
		os.Exit(1)
	}
	lambda.Start(t.handle)
}
