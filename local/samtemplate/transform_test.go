package samtemplate

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// samTransform runs the AWS SAM transform itself (the Python package
// aws-sam-translator, which `sam validate` and CloudFormation's
// AWS::Serverless transform run) over the template, with each local
// CodeUri replaced by an S3 URI as `sam package` would, and prints the
// CloudFormation template it makes.
const samTransform = `
import json, sys
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

class NoManagedPolicies:
    def load(self):
        return {}

template = yaml_parse(sys.stdin.read())
print(json.dumps(transform(template, {}, NoManagedPolicies())))
`

// TestSAMTransform: the template goes through SAM's own transform, and the
// web client's public function URL gets both permissions a function URL
// with AuthType NONE needs since October 2025: lambda:InvokeFunctionUrl,
// and lambda:InvokeFunction limited to calls through the URL. Skipped,
// with a hint, where aws-sam-translator is not installed (CI installs no
// Python packages: PyPI is out of its reach).
func TestSAMTransform(t *testing.T) {
	out := transformTemplate(t)
	var cfn struct {
		Resources map[string]struct {
			Type       string
			Properties map[string]any
		}
	}
	if err := json.Unmarshal(out, &cfn); err != nil {
		t.Fatal(err)
	}
	var urlInvoke, viaURL bool
	for id, r := range cfn.Resources {
		p := r.Properties
		if r.Type != "AWS::Lambda::Permission" || p["Principal"] != "*" {
			continue
		}
		if fn, _ := p["FunctionName"].(map[string]any); fn["Ref"] != "WebClient" {
			t.Errorf("%s grants everyone %v on %v: only the web client is public", id, p["Action"], p["FunctionName"])
			continue
		}
		switch {
		case p["Action"] == "lambda:InvokeFunctionUrl" && p["FunctionUrlAuthType"] == "NONE":
			urlInvoke = true
		case p["Action"] == "lambda:InvokeFunction" && p["InvokedViaFunctionUrl"] == true:
			viaURL = true
		default:
			t.Errorf("%s: unexpected public permission %v", id, p)
		}
	}
	if !urlInvoke || !viaURL {
		t.Errorf("the web client's function URL: lambda:InvokeFunctionUrl %v, lambda:InvokeFunction via the URL %v; want both", urlInvoke, viaURL)
	}
}

// transformTemplate runs samTransform over template.yaml and returns the
// CloudFormation template it makes; it skips the test, with a hint, where
// aws-sam-translator is not installed.
func transformTemplate(t *testing.T) []byte {
	t.Helper()
	python, err := exec.LookPath("python3")
	if err != nil || exec.Command(python, "-c", "import samtranslator").Run() != nil {
		t.Skip("aws-sam-translator is not installed (pip install aws-sam-translator)")
	}
	src, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	packaged := regexp.MustCompile(`(?m)^(\s+CodeUri:) cmd/\S+$`).ReplaceAll(src, []byte("$1 s3://bucket/function.zip"))
	cmd := exec.Command(python, "-c", samTransform)
	cmd.Stdin = bytes.NewReader(packaged)
	cmd.Env = append(os.Environ(), "AWS_DEFAULT_REGION=us-east-1")
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("the SAM transform refused the template: %v\n%s", err, stderr)
	}
	return out
}
