package main

import (
	"encoding/json"
	"errors"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/example/petstore-oidc/internal/lambdatest"
	"github.com/example/petstore-oidc/internal/testissuer"
)

const (
	audience  = "https://petstore.example.com"
	methodARN = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/GET/pets"
)

func event(t testing.TB, authorization string) []byte {
	b, err := json.Marshal(events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", AuthorizationToken: authorization, MethodArn: methodARN})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBootstrapUnderLambdaRuntimeAPI builds the real bootstrap with sam
// build's flags and drives it through the Runtime API, as Lambda would.
func TestBootstrapUnderLambdaRuntimeAPI(t *testing.T) {
	bootstrap := lambdatest.BuildHost(t, ".")
	idp := testissuer.New(t, "key-a")
	rt := lambdatest.NewRuntime(t)
	proc := rt.Start(t, bootstrap, "ISSUER="+idp.URL, "AUDIENCE="+audience)

	valid := testissuer.Sign(t, "key-a", idp.Claims(time.Now(), audience), nil)
	res, err := rt.InvokeProcess(proc, event(t, "Bearer "+valid), 10*time.Second)
	if err != nil || res.Err != nil {
		t.Fatalf("valid token: %v %v\n%s", err, res.Err, proc.Output())
	}
	var resp events.APIGatewayCustomAuthorizerResponse
	if err := json.Unmarshal(res.Payload, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.PrincipalID != "user-123" || len(resp.PolicyDocument.Statement) == 0 || resp.PolicyDocument.Statement[0].Effect != "Allow" {
		t.Errorf("response %s", res.Payload)
	}

	tampered := valid[:len(valid)-8] + "AAAAAAAA"
	for _, bad := range []string{"Bearer " + tampered, "", "Basic dXNlcjpwYXNz"} {
		res, err = rt.InvokeProcess(proc, event(t, bad), 10*time.Second)
		if err != nil || res.Err == nil || res.Err.Message != "Unauthorized" {
			t.Errorf("bad token %.20q: %v, %+v, want the error Unauthorized", bad, err, res.Err)
		}
	}
	if idp.DiscoveryHits.Load() != 1 || idp.JWKSHits.Load() != 1 {
		t.Errorf("discovery %d, JWKS %d fetches, want 1 each (warm invocations reuse the keys)", idp.DiscoveryHits.Load(), idp.JWKSHits.Load())
	}
	proc.Stop()
	logs := proc.Output()
	if strings.Contains(logs, valid) || strings.Contains(logs, tampered[:40]) {
		t.Error("the function logged a token")
	}
	if n := strings.Count(logs, `"msg":"authorizer decision"`); n != 4 {
		t.Errorf("%d decision lines, want 4:\n%s", n, logs)
	}
}

func TestBootstrapRefusesToStartWithoutConfiguration(t *testing.T) {
	bootstrap := lambdatest.BuildHost(t, ".")
	rt := lambdatest.NewRuntime(t)
	proc := rt.Start(t, bootstrap, "AUDIENCE="+audience)
	_, err := rt.InvokeProcess(proc, event(t, "Bearer x"), 10*time.Second)
	if !errors.Is(err, lambdatest.ErrNoAnswer) {
		t.Fatalf("err = %v, want the function to exit", err)
	}
	if !strings.Contains(proc.Output(), "ISSUER is required") {
		t.Errorf("the log should name the missing variable:\n%s", proc.Output())
	}
}

// BenchmarkBootstrap measures the built authorizer as Lambda runs it: from
// spawning the process (cold start, JWKS discovery and fetch on loopback) to
// its first answer, its peak RSS, and the size of the arm64 deployment
// binary. In the same run, right after it, it measures the smallest Go
// function answering the same event, so the authorizer's own share of a
// cold start is known whatever the machine.
func BenchmarkBootstrap(b *testing.B) {
	bootstrap := lambdatest.BuildHost(b, ".")
	minimal := lambdatest.BuildHost(b, "../../internal/lambdatest/testdata/minimal")
	deploy := lambdatest.Build(b, ".", "arm64")
	info, err := os.Stat(deploy)
	if err != nil {
		b.Fatal(err)
	}
	idp := testissuer.New(b, "key-a")
	payload := event(b, "Bearer "+testissuer.Sign(b, "key-a", idp.Claims(time.Now(), audience), nil))
	firstAnswer := func(bin string) (ms float64, peak int64) {
		rt := lambdatest.NewRuntime(b)
		proc := rt.Start(b, bin, "ISSUER="+idp.URL, "AUDIENCE="+audience)
		res, err := rt.InvokeProcess(proc, payload, 10*time.Second)
		took := time.Since(proc.Started)
		if err != nil || res.Err != nil {
			b.Fatalf("%v %v", err, res.Err)
		}
		if peak, err = proc.PeakRSS(); err != nil {
			b.Fatal(err)
		}
		proc.Stop()
		return float64(took.Microseconds()) / 1000, peak
	}
	// The two alternate, so that a machine slowing down or speeding up
	// during the run weighs on both alike.
	var authorizerMS, minimalMS, ownMS []float64
	var rss []int64
	b.ResetTimer()
	for range b.N {
		ms, peak := firstAnswer(bootstrap)
		floor, _ := firstAnswer(minimal)
		authorizerMS, minimalMS, ownMS = append(authorizerMS, ms), append(minimalMS, floor), append(ownMS, ms-floor)
		rss = append(rss, peak)
	}
	b.StopTimer()
	median := func(v []float64) float64 { sort.Float64s(v); return v[len(v)/2] }
	slices.Sort(rss)
	b.ReportMetric(median(authorizerMS), "ms-to-first-answer")
	b.ReportMetric(median(minimalMS), "ms-minimal-function")
	b.ReportMetric(median(ownMS), "ms-own-cold-start")
	b.ReportMetric(float64(rss[len(rss)/2])/(1<<20), "MiB-peak-RSS")
	b.ReportMetric(float64(info.Size())/(1<<20), "MiB-arm64-binary")
}
