package samtemplate

import (
	"errors"
	"fmt"
	"os"

	"gopkg.in/yaml.v3"
)

// Table is what the local stack needs of an AWS::DynamoDB::Table to create
// it: its key schema and the types of its key attributes. Only keys and
// indexes are declared in a DynamoDB table; other attributes are free.
type Table struct {
	LogicalID            string
	BillingMode          string
	AttributeDefinitions []AttributeDefinition
	KeySchema            []KeyElement
	// GlobalSecondaryIndexes are refused by ReadTable for now: the local
	// stack would have to create them too, and the sample has none.
}

// AttributeDefinition is a key attribute and its type: S, N or B.
type AttributeDefinition struct {
	AttributeName string `yaml:"AttributeName"`
	AttributeType string `yaml:"AttributeType"`
}

// KeyElement is one part of the primary key: HASH or RANGE.
type KeyElement struct {
	AttributeName string `yaml:"AttributeName"`
	KeyType       string `yaml:"KeyType"`
}

// ReadTable reads the AWS::DynamoDB::Table logicalID of the template at
// path. It reads the YAML directly (its own small function, apart from
// Load) and needs no parameter: a table's keys are literal in the template.
func ReadTable(path, logicalID string) (Table, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Table{}, err
	}
	var doc struct {
		Resources map[string]struct {
			Type       string    `yaml:"Type"`
			Properties yaml.Node `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Table{}, fmt.Errorf("%s: %w", path, err)
	}
	res, ok := doc.Resources[logicalID]
	if !ok || res.Type != "AWS::DynamoDB::Table" {
		return Table{}, fmt.Errorf("%s: no AWS::DynamoDB::Table named %s", path, logicalID)
	}
	var props struct {
		BillingMode            string                `yaml:"BillingMode"`
		AttributeDefinitions   []AttributeDefinition `yaml:"AttributeDefinitions"`
		KeySchema              []KeyElement          `yaml:"KeySchema"`
		GlobalSecondaryIndexes []yaml.Node           `yaml:"GlobalSecondaryIndexes"`
		LocalSecondaryIndexes  []yaml.Node           `yaml:"LocalSecondaryIndexes"`
	}
	if err := res.Properties.Decode(&props); err != nil {
		return Table{}, fmt.Errorf("%s: %s: %w", path, logicalID, err)
	}
	t := Table{LogicalID: logicalID, BillingMode: props.BillingMode, AttributeDefinitions: props.AttributeDefinitions, KeySchema: props.KeySchema}
	if len(props.GlobalSecondaryIndexes)+len(props.LocalSecondaryIndexes) > 0 {
		return Table{}, fmt.Errorf("%s: %s: secondary indexes are not supported by the local stack yet", path, logicalID)
	}
	if err := t.check(); err != nil {
		return Table{}, fmt.Errorf("%s: %s: %w", path, logicalID, err)
	}
	return t, nil
}

// check refuses a key schema that CreateTable would refuse, with a clearer
// message.
func (t Table) check() error {
	if len(t.KeySchema) < 1 || len(t.KeySchema) > 2 || t.KeySchema[0].KeyType != "HASH" ||
		(len(t.KeySchema) == 2 && t.KeySchema[1].KeyType != "RANGE") {
		return errors.New("KeySchema must be a HASH key, optionally followed by a RANGE key")
	}
	types := map[string]string{}
	for _, a := range t.AttributeDefinitions {
		switch a.AttributeType {
		case "S", "N", "B":
		default:
			return fmt.Errorf("attribute %s: type %q is not S, N or B", a.AttributeName, a.AttributeType)
		}
		types[a.AttributeName] = a.AttributeType
	}
	for _, k := range t.KeySchema {
		if types[k.AttributeName] == "" {
			return fmt.Errorf("key %s has no AttributeDefinitions entry", k.AttributeName)
		}
	}
	if len(types) != len(t.KeySchema) {
		return errors.New("AttributeDefinitions must list the key attributes and nothing else")
	}
	return nil
}
