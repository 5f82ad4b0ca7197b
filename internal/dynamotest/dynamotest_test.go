package dynamotest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestNeedsDynamoDBLocal is run by TestDynamoDBLocalSkipsLocallyAndFailsInCI
// in a child process, where DynamoDB Local cannot be found.
func TestNeedsDynamoDBLocal(t *testing.T) {
	if os.Getenv("DYNAMOTEST_CHILD") != "1" {
		t.Skip("run by TestDynamoDBLocalSkipsLocallyAndFailsInCI")
	}
	DynamoDBLocal(t)
}

// Without DynamoDB Local a test that needs it skips with the hint, except
// under CI, where it fails with the same hint.
func TestDynamoDBLocalSkipsLocallyAndFailsInCI(t *testing.T) {
	for _, ci := range []string{"", "false", "0", "true", "1"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestNeedsDynamoDBLocal$", "-test.v")
		cmd.Env = append(os.Environ(), "DYNAMOTEST_CHILD=1", EnvDynamoDBLocalDir+"="+t.TempDir(), "CI="+ci)
		out, err := cmd.CombinedOutput()
		hint := strings.Contains(string(out), "make dynamodb-local")
		inCI := ci == "true" || ci == "1"
		switch {
		case !inCI && (err != nil || !strings.Contains(string(out), "--- SKIP") || !hint):
			t.Errorf("CI=%q: %v, want a skip with the hint:\n%s", ci, err, out)
		case inCI && (err == nil || !strings.Contains(string(out), "--- FAIL") || !hint):
			t.Errorf("CI=%q: %v, want a failure with the hint:\n%s", ci, err, out)
		}
	}
}
