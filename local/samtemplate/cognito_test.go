package samtemplate

import (
	"path/filepath"
	"testing"
)

func TestCognitoTemplateValidatesAgainstTheSAMSchema(t *testing.T) {
	for _, params := range []map[string]string{{}, {"MachineClient": "true"}} {
		if err := checkSchema(filepath.Join(root, "template.yaml"), params); err != nil {
			t.Fatal(err)
		}
	}
}
