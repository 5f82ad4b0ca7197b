package main

import (
	"io"
	"os/exec"
	"strings"
	"testing"

	"github.com/example/petstore-oidc/local/stack"
)

// The banner's "Try:" command reaches the IdP wherever it listens: the token
// command looks on the default port unless told otherwise.
func TestBannerTokenCommandFindsTheIdP(t *testing.T) {
	tests := []struct{ issuer, want string }{
		{defaultIssuer, "TOKEN=$(go run ./cmd/local token) "},
		{"http://localhost:9100", "TOKEN=$(go run ./cmd/local token -issuer http://localhost:9100) "},
	}
	for _, tt := range tests {
		var out strings.Builder
		printBanner(&out, &stack.Stack{IssuerURL: tt.issuer, GatewayURL: "http://localhost:3000", WebURL: "http://localhost:8080",
			Parameters: map[string]string{"StageName": "Prod"}})
		if !strings.Contains(out.String(), tt.want) {
			t.Errorf("issuer %s: the banner lacks %q:\n%s", tt.issuer, tt.want, out.String())
		}
	}
}

// TestCompilesLight: what `make local` compiles on a fresh machine stays
// light. The template is read with yaml.v3, not a CloudFormation model
// library (goformation alone was 249 packages and most of a cold build).
// The bound leaves room for the AWS SDK's DynamoDB client.
func TestCompilesLight(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	deps := strings.Fields(string(out))
	t.Logf("cmd/local compiles %d packages", len(deps))
	if len(deps) > 520 {
		t.Errorf("cmd/local compiles %d packages, more than 520", len(deps))
	}
	for _, d := range deps {
		if strings.Contains(d, "goformation") {
			t.Errorf("cmd/local depends on %s", d)
		}
	}
}

// -dynamodb-endpoint defaults to $AWS_ENDPOINT_URL_DYNAMODB and overrides
// it; -dynamodb-port puts the embedded DynamoDB on a fixed loopback port.
func TestDynamoDBFlags(t *testing.T) {
	tests := []struct {
		name, env        string
		args             []string
		endpoint, dbAddr string
	}{
		{"defaults: embedded, a free port", "", nil, "", "127.0.0.1:0"},
		{"the SDK's variable", "http://localhost:8000", nil, "http://localhost:8000", "127.0.0.1:0"},
		{"the flag wins over the variable", "http://localhost:8000", []string{"-dynamodb-endpoint", "http://127.0.0.1:8002"}, "http://127.0.0.1:8002", "127.0.0.1:0"},
		{"a fixed port for cmd/api", "", []string{"-dynamodb-port", "8001"}, "", "127.0.0.1:8001"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", tc.env)
			fs, o := serveFlags(io.Discard)
			if err := parse(fs, tc.args, io.Discard, io.Discard); err != nil {
				t.Fatal(err)
			}
			opts := o.stackOptions("template.yaml", nil)
			if opts.DynamoDBEndpoint != tc.endpoint || opts.DynamoDBAddr != tc.dbAddr {
				t.Errorf("endpoint %q, embedded at %q; want %q, %q", opts.DynamoDBEndpoint, opts.DynamoDBAddr, tc.endpoint, tc.dbAddr)
			}
		})
	}
	fs, _ := serveFlags(io.Discard)
	if err := parse(fs, []string{"-dynamodb-port", "eighty"}, io.Discard, io.Discard); err == nil {
		t.Error("-dynamodb-port eighty: no error")
	}
}
