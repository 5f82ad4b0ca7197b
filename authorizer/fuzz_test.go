package authorizer

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/example/petstore-oidc/internal/testissuer"
)

func FuzzExtractBearerToken(f *testing.F) {
	for _, s := range []string{"Bearer abc.def.ghi", "bearer x", "Basic abc", "", "Bearer  a b", "Bearer\x00x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		token, err := extractBearerToken(header)
		if err != nil {
			if token != "" {
				t.Fatalf("token %q with error %v", token, err)
			}
			return
		}
		if token == "" || len(token) > MaxTokenBytes || strings.ContainsAny(token, " \t\r\n") {
			t.Fatalf("accepted token %q from %q", token, header)
		}
	})
}

// FuzzHandle feeds arbitrary Authorization values and method ARNs to the
// whole handler: it must never panic, and must answer either a policy for a
// token that verifies, exactly "Unauthorized", or a method ARN error.
func FuzzHandle(f *testing.F) {
	e := newEnv(f)
	e.auth.cfg.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil)) // millions of lines otherwise
	valid := testissuer.Sign(f, "key-a", e.claims(), nil)
	parts := strings.Split(valid, ".")
	for _, s := range []string{
		"Bearer " + valid, "Bearer " + parts[0] + "." + parts[1] + ".", "Bearer " + parts[0] + ".e30.e30",
		"Bearer eyJhbGciOiJub25lIn0.e30.", "Bearer ...", "Bearer a.b.c.d", "bearer " + valid + "x",
	} {
		f.Add(s, testMethodARN)
	}
	f.Add("Bearer "+valid, "arn:aws:execute-api:r:1:a/s/GET/*")
	f.Fuzz(func(t *testing.T, header, methodARN string) {
		resp, err := e.auth.Handle(context.Background(), events.APIGatewayCustomAuthorizerRequest{
			Type: "TOKEN", AuthorizationToken: header, MethodArn: methodARN,
		})
		switch {
		case err == nil:
			if resp.PrincipalID != "user-123" || len(resp.PolicyDocument.Statement) == 0 {
				t.Fatalf("policy without a verified principal: %+v", resp)
			}
		case err.Error() == "Unauthorized", errors.Is(err, errInvalidMethodARN):
		default:
			t.Fatalf("unexpected error %v", err)
		}
	})
}
