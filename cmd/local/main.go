// Command local runs the whole sample on localhost, with no AWS account and
// no Docker: the development OIDC provider, the API Gateway emulator with
// the Lambda authorizer and the PetStore, configured from template.yaml.
//
//	go run ./cmd/local                      start the stack (Ctrl-C stops it)
//	go run ./cmd/local token [-scope S]     print an access token from the running IdP
//	go run ./cmd/local event [-scope S]     write events/event.json with a fresh token
//
// See docs/local.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/example/petstore-oidc/local/idp"
	"github.com/example/petstore-oidc/local/stack"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(args, out)
	case "token":
		return token(args, out)
	case "event":
		return event(args, out)
	default:
		return fmt.Errorf("unknown command %q: use serve (the default), token or event", cmd)
	}
}

func serve(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("local", flag.ContinueOnError)
	idpPort := fs.Int("idp-port", 9000, "port of the development OIDC provider")
	gwPort := fs.Int("gateway-port", 3000, "port of the API Gateway emulator")
	webPort := fs.Int("web-port", 8080, "port of the web client")
	extra := fs.String("idp-extra-listen", "", "another address for the IdP, e.g. 172.17.0.1:9000 so that sam local invoke on Linux reaches it")
	tpl := fs.String("template", "template.yaml", "SAM template to run")
	logFormat := fs.String("log", "text", "log format: text or json")
	dynamo := fs.String("dynamodb-endpoint", os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"),
		"DynamoDB-compatible endpoint for the pets, e.g. DynamoDB Local at http://localhost:8000 (default $AWS_ENDPOINT_URL_DYNAMODB; empty: an embedded one, in memory)")
	webInstances := fs.Int("web-instances", 1, "web client instances behind its function URL, taking requests in turn and sharing the sessions table (as Lambda scales)")
	dynamoPort := fs.Int("dynamodb-port", 0, "port of the embedded DynamoDB on 127.0.0.1 (0: a free one); for cmd/api in development mode to share the stack's pets")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var handler slog.Handler = slog.NewTextHandler(out, nil)
	if *logFormat == "json" {
		handler = slog.NewJSONHandler(out, nil)
	}
	logger := slog.New(handler)
	slog.SetDefault(logger) // the provider library logs through the default logger
	opts := stack.Options{
		TemplatePath: *tpl,
		IdPAddr:      fmt.Sprintf("localhost:%d", *idpPort),
		GatewayAddr:  fmt.Sprintf("localhost:%d", *gwPort),
		WebAddr:      fmt.Sprintf("localhost:%d", *webPort),
		Logger:       logger,
		// The local endpoint only: the stack signs with dummy credentials.
		DynamoDBEndpoint: *dynamo,
		DynamoDBAddr:     fmt.Sprintf("127.0.0.1:%d", *dynamoPort),
		WebInstances:     *webInstances,
	}
	if *extra != "" {
		opts.IdPExtraAddrs = []string{*extra}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := stack.Start(ctx, opts)
	if err != nil {
		return err
	}
	printBanner(out, s)
	select {
	case <-ctx.Done():
	case err = <-s.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fmt.Fprintln(out, "stopping...")
	return errors.Join(err, s.Shutdown(shutdownCtx))
}

func printBanner(out io.Writer, s *stack.Stack) {
	fmt.Fprintf(out, `
PetStore stack running (development only; Ctrl-C to stop)

  web client     %s   (its Lambda handler behind a function URL, %d instance(s))
  API gateway    %s   (stage %s also served at %s/%s)
  OIDC provider  %s   (discovery: %s/.well-known/openid-configuration)
  DynamoDB       %s   (tables %s and %s, %s)

Demo identities (DEVELOPMENT ONLY, never use them elsewhere):
`, s.WebURL, s.WebInstances, s.GatewayURL, s.Parameters["StageName"], s.GatewayURL, s.Parameters["StageName"], s.IssuerURL, s.IssuerURL,
		s.DynamoDBURL, s.PetsTable, s.SessionsTable, dynamoNote(s))
	for _, u := range idp.DemoUsers {
		fmt.Fprintf(out, "  user %-6s password %-6s scopes %s\n", u.Username, u.Password, strings.Join(u.Scopes, " "))
	}
	fmt.Fprintf(out, "  client %s secret %s (client_credentials)\n\n", idp.M2MClientID, idp.M2MClientSecret)
	token := "go run ./cmd/local token"
	if s.IssuerURL != defaultIssuer {
		token += " -issuer " + s.IssuerURL
	}
	fmt.Fprintf(out, "Try: TOKEN=$(%s) && curl -H \"Authorization: Bearer $TOKEN\" %s/pets\n\n", token, s.GatewayURL)
}

func dynamoNote(s *stack.Stack) string {
	if s.EmbeddedDynamoDB {
		return "embedded, in memory: the pets and sessions are gone on Ctrl-C"
	}
	return "external: the pets stay as long as it keeps them"
}

// defaultIssuer is the development IdP on its default port, where the token
// and event commands look for it.
const defaultIssuer = "http://localhost:9000"

func tokenFlags(name string) (*flag.FlagSet, *string, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	issuer := fs.String("issuer", defaultIssuer, "the running development IdP")
	scope := fs.String("scope", "", `scopes to ask for, space-separated (default: all of the machine client's, "pets:read pets:write")`)
	return fs, issuer, scope
}

func token(args []string, out io.Writer) error {
	fs, issuer, scope := tokenFlags("token")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tok, err := stack.MachineToken(context.Background(), *issuer, strings.Fields(*scope))
	if err != nil {
		return err
	}
	fmt.Fprintln(out, tok)
	return nil
}

func event(args []string, out io.Writer) error {
	fs, issuer, scope := tokenFlags("event")
	path := fs.String("out", "events/event.json", "file to write")
	method := fs.String("method", "GET", "HTTP method of the request the event authorizes")
	route := fs.String("path", "/pets", "path of the request the event authorizes")
	stage := fs.String("stage", "Prod", "stage name")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tok, err := stack.MachineToken(context.Background(), *issuer, strings.Fields(*scope))
	if err != nil {
		return err
	}
	if err := stack.WriteTokenEvent(*path, tok, stack.MethodARN(*stage, *method, *route)); err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote %s; now run: sam local invoke Authorizer -e %s\n", *path, *path)
	return nil
}
