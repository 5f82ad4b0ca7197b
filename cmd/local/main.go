// Command local runs the whole sample on localhost, with no AWS account and
// no Docker: the development OIDC provider, the API Gateway emulator with
// the Lambda authorizer and the PetStore, and the web client, configured
// from template.yaml. `go run ./cmd/local -h` describes its commands; see
// docs/local.md.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/example/petstore-oidc/internal/foreground"
	"github.com/example/petstore-oidc/local/idp"
	"github.com/example/petstore-oidc/local/stack"
)

func main() {
	if len(os.Args) < 2 || strings.HasPrefix(os.Args[1], "-") || os.Args[1] == "serve" {
		// Under make, Ctrl-C must reach the stack alone, so that make
		// exits with the stack's status (0) rather than 130.
		status, relaunched, err := foreground.Relaunch()
		if err != nil {
			fmt.Fprintln(os.Stderr, "error:", err)
			status = max(status, 1)
		}
		if relaunched {
			os.Exit(status)
		}
	}
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// errUsage is a command line the flag package already explained.
var errUsage = errors.New("usage")

const usage = `Usage: go run ./cmd/local [command] [flags]

Runs the PetStore sample on localhost, for development only: the OIDC
provider with its demo users, the API Gateway emulator with the Lambda
authorizer and the PetStore behind it, and the web client, all configured
from template.yaml. No AWS account or Docker needed.

Commands:
  serve   start the stack (the default command); Ctrl-C stops it
  token   print an access token of the demo machine client from the
          running stack's provider, e.g. for curl:
          TOKEN=$(go run ./cmd/local token)
  event   write a TOKEN authorizer event carrying a fresh token (default
          build/event.json), for sam local invoke Authorizer -e FILE
  help    print this help

"go run ./cmd/local token -h" and "go run ./cmd/local event -h" list their
flags. The flags of serve:
`

func run(args []string, out, errOut io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(args, out, errOut)
	case "token":
		return token(args, out, errOut)
	case "event":
		return event(args, out, errOut)
	case "help":
		fs, _ := serveFlags(out)
		fs.Usage()
		return nil
	default:
		fmt.Fprintf(errOut, "unknown command %q: use serve (the default), token, event or help\n", cmd)
		return errUsage
	}
}

type serveOptions struct {
	idpPort, gatewayPort, webPort, dynamoPort int
	webInstances                              int
	extra, template, log, dynamoEndpoint      string
}

func serveFlags(errOut io.Writer) (*flag.FlagSet, *serveOptions) {
	o := &serveOptions{}
	fs := newFlagSet("serve", errOut, usage)
	fs.IntVar(&o.idpPort, "idp-port", 9000, "port of the development OIDC provider")
	fs.IntVar(&o.gatewayPort, "gateway-port", 3000, "port of the API Gateway emulator")
	fs.IntVar(&o.webPort, "web-port", 8080, "port of the web client")
	fs.StringVar(&o.extra, "idp-extra-listen", "", "one more address for the provider: loopback or a Docker bridge's, e.g. 172.17.0.1:9000 so that sam local invoke on Linux reaches it")
	fs.StringVar(&o.template, "template", "", "SAM template to run (default: template.yaml at the root of this repository, found from the working directory)")
	fs.StringVar(&o.log, "log", "text", "log format: text or json")
	fs.StringVar(&o.dynamoEndpoint, "dynamodb-endpoint", os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"),
		"DynamoDB-compatible endpoint for the pets, e.g. DynamoDB Local at http://localhost:8000 (default $AWS_ENDPOINT_URL_DYNAMODB; empty: an embedded one, in memory)")
	fs.IntVar(&o.webInstances, "web-instances", 1, "web client instances behind its function URL, taking requests in turn and sharing the sessions table (as Lambda scales)")
	fs.IntVar(&o.dynamoPort, "dynamodb-port", 0, "port of the embedded DynamoDB on 127.0.0.1 (0: a free one); for cmd/api in development mode to share the stack's pets")
	return fs, o
}

// stackOptions is what the flags ask of the stack.
func (o *serveOptions) stackOptions(template string, logger *slog.Logger) stack.Options {
	opts := stack.Options{
		TemplatePath: template,
		IdPAddr:      fmt.Sprintf("localhost:%d", o.idpPort),
		GatewayAddr:  fmt.Sprintf("localhost:%d", o.gatewayPort),
		WebAddr:      fmt.Sprintf("localhost:%d", o.webPort),
		Logger:       logger,
		// The local endpoint only: the stack signs with dummy credentials.
		DynamoDBEndpoint: o.dynamoEndpoint,
		DynamoDBAddr:     fmt.Sprintf("127.0.0.1:%d", o.dynamoPort),
		WebInstances:     o.webInstances,
	}
	if o.extra != "" {
		opts.IdPExtraAddrs = []string{o.extra}
	}
	return opts
}

// newFlagSet is a flag set whose -h prints the text, then the flags.
func newFlagSet(name string, errOut io.Writer, text string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), text)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses the flags. -h is a question: its answer goes to out and
// the command exits 0. A bad flag is errUsage (exit 2), the flag package
// having said on errOut what is wrong.
func parse(fs *flag.FlagSet, args []string, out, errOut io.Writer) error {
	var msg bytes.Buffer
	fs.SetOutput(&msg)
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		out.Write(msg.Bytes())
		return err
	case err != nil:
		errOut.Write(msg.Bytes())
		return errUsage
	case fs.NArg() > 0:
		fmt.Fprintf(errOut, "unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	return nil
}

func serve(args []string, out, errOut io.Writer) error {
	fs, o := serveFlags(errOut)
	if err := parse(fs, args, out, errOut); err != nil {
		return err
	}
	newHandler := map[string]func(io.Writer, *slog.HandlerOptions) slog.Handler{
		"text": func(w io.Writer, o *slog.HandlerOptions) slog.Handler { return slog.NewTextHandler(w, o) },
		"json": func(w io.Writer, o *slog.HandlerOptions) slog.Handler { return slog.NewJSONHandler(w, o) },
	}[o.log]
	if newHandler == nil {
		return fmt.Errorf("-log %q: use text or json", o.log)
	}
	template := o.template
	if template == "" {
		root, err := repositoryRoot()
		if err != nil {
			return err
		}
		template = filepath.Join(root, "template.yaml")
	}
	// The banner is the first thing a person reads: the log lines of the
	// start (the authorizer and the web client fetching the provider's
	// discovery and keys) are held and follow it.
	logs := &heldWriter{w: out}
	logger := slog.New(newHandler(logs, nil))
	// The provider library (zitadel/oidc) logs a line for each route it
	// registers at start through slog's default logger: drop those lines
	// only; the log package, which slog.SetDefault also routes here, keeps
	// every message.
	slog.SetDefault(slog.New(stack.WithoutRouteLines(newHandler(logs, nil))))
	opts := o.stackOptions(template, logger)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := stack.Start(ctx, opts)
	if err != nil {
		logs.release()
		return err
	}
	printBanner(out, s)
	logs.release()
	select {
	case <-ctx.Done(): // Ctrl-C: the documented way to stop, not an error
	case err = <-s.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fmt.Fprintln(out, "stopping...")
	return errors.Join(err, s.Shutdown(shutdownCtx))
}

// heldWriter keeps what is written until release, then writes it through.
type heldWriter struct {
	mu       sync.Mutex
	w        io.Writer
	held     bytes.Buffer
	released bool
}

func (h *heldWriter) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.released {
		return h.held.Write(p)
	}
	return h.w.Write(p)
}

func (h *heldWriter) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.released = true
	h.w.Write(h.held.Bytes())
	h.held.Reset()
}

// repositoryRoot is the nearest directory, from the working directory up,
// with both go.mod and template.yaml: the root of this repository from any
// of its directories.
func repositoryRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if isFile(filepath.Join(dir, "go.mod")) && isFile(filepath.Join(dir, "template.yaml")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("template.yaml not found: run this inside the repository (any of its directories), or give -template PATH")
		}
		dir = parent
	}
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
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

func tokenFlags(name string, errOut io.Writer, text string) (*flag.FlagSet, *string, *string) {
	fs := newFlagSet(name, errOut, text)
	issuer := fs.String("issuer", defaultIssuer, "address of the running stack's provider")
	scope := fs.String("scope", "", "scopes to ask for, space-separated (default: all of the machine client's, pets:read pets:write)")
	return fs, issuer, scope
}

const tokenUsage = `Usage: go run ./cmd/local token [flags]

Prints an access token that the running stack's provider issues to the demo
machine client (client_credentials), e.g. for curl:

  TOKEN=$(go run ./cmd/local token)
  curl -H "Authorization: Bearer $TOKEN" http://localhost:3000/pets

Flags:
`

func token(args []string, out, errOut io.Writer) error {
	fs, issuer, scope := tokenFlags("token", errOut, tokenUsage)
	if err := parse(fs, args, out, errOut); err != nil {
		return err
	}
	tok, err := stack.MachineToken(context.Background(), *issuer, strings.Fields(*scope))
	if err != nil {
		return err
	}
	fmt.Fprintln(out, tok)
	return nil
}

const eventUsage = `Usage: go run ./cmd/local event [flags]

Writes a TOKEN authorizer event, as API Gateway sends it, carrying a fresh
token of the running stack's provider, for

  sam local invoke Authorizer -e build/event.json

The file is build/event.json at the root of the repository unless -out
says otherwise (-out - prints the event). The tracked events/event.json,
with its placeholder token, is left as it is.

Flags:
`

func event(args []string, out, errOut io.Writer) error {
	fs, issuer, scope := tokenFlags("event", errOut, eventUsage)
	path := fs.String("out", "", "file to write, - for standard output (default: build/event.json at the root of the repository)")
	method := fs.String("method", "GET", "HTTP method of the request the event authorizes")
	route := fs.String("path", "/pets", "path of the request the event authorizes")
	stage := fs.String("stage", "Prod", "stage name")
	if err := parse(fs, args, out, errOut); err != nil {
		return err
	}
	if *path == "" {
		root, err := repositoryRoot()
		if err != nil {
			return err
		}
		*path = filepath.Join(root, "build", "event.json")
	}
	tok, err := stack.MachineToken(context.Background(), *issuer, strings.Fields(*scope))
	if err != nil {
		return err
	}
	ev, err := stack.TokenEvent(tok, stack.MethodARN(*stage, *method, *route))
	if err != nil {
		return err
	}
	if *path == "-" {
		_, err := out.Write(ev)
		return err
	}
	if err := os.MkdirAll(filepath.Dir(*path), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(*path, ev, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote %s; now run: sam local invoke Authorizer -e %s\n", *path, *path)
	return nil
}
