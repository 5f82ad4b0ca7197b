package samtemplate

import (
	"strings"
	"testing"
)

// TestTableRefusesWhatTheStackWouldNotCreate: the local stack creates a
// table from its keys and on-demand billing; anything else it would
// silently leave out is an error naming the property.
func TestTableRefusesWhatTheStackWouldNotCreate(t *testing.T) {
	const keys = "      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]\n      KeySchema: [{AttributeName: pk, KeyType: HASH}]\n"
	table := func(props string) string {
		return "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n" + props
	}
	tests := []struct{ name, src, want string }{
		{"a secondary index", table("      BillingMode: PAY_PER_REQUEST\n" + keys + "      GlobalSecondaryIndexes: []\n"), "Resources.T.Properties.GlobalSecondaryIndexes: want none"},
		{"a fixed name", table("      BillingMode: PAY_PER_REQUEST\n" + keys + "      TableName: pets\n"), "Resources.T.Properties.TableName: want none"},
		{"provisioned", table("      BillingMode: PROVISIONED\n" + keys), "BillingMode: want PAY_PER_REQUEST"},
		{"a key without a type", table("      BillingMode: PAY_PER_REQUEST\n      AttributeDefinitions: []\n      KeySchema: [{AttributeName: pk, KeyType: HASH}]\n"), "KeySchema: pk has no AttributeDefinitions entry"},
		{"a RANGE key first", table("      BillingMode: PAY_PER_REQUEST\n" + strings.Replace(keys, "HASH", "RANGE", 1)), "KeySchema: want a HASH key"},
		{"a definition that is no key", table("      BillingMode: PAY_PER_REQUEST\n      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}, {AttributeName: x, AttributeType: S}]\n      KeySchema: [{AttributeName: pk, KeyType: HASH}]\n"), "want the key attributes and nothing else"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl, err := Parse([]byte(tt.src), nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = tpl.Table("T")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
	tpl, err := Parse([]byte(table("      BillingMode: PAY_PER_REQUEST\n"+keys)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if tbl, err := tpl.Table("T"); err != nil || len(tbl.KeySchema) != 1 {
		t.Errorf("a plain table: %+v, %v", tbl, err)
	}
}
