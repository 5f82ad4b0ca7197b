package samtemplate

import (
	"errors"
	"fmt"
)

const typeTable = "AWS::DynamoDB::Table"

// Table is what the local stack needs of an AWS::DynamoDB::Table to create
// it: its key schema and the types of its key attributes. Only keys and
// indexes are declared in a DynamoDB table; other attributes are free.
type Table struct {
	LogicalID            string
	BillingMode          string
	AttributeDefinitions []AttributeDefinition
	KeySchema            []KeyElement
	// PointInTimeRecovery is PointInTimeRecoverySpecification's
	// PointInTimeRecoveryEnabled (AWS only; nothing local restores).
	PointInTimeRecovery bool
	DeletionPolicy      string
	UpdateReplacePolicy string
}

// AttributeDefinition is a key attribute and its type: S, N or B.
type AttributeDefinition struct {
	AttributeName string
	AttributeType string
}

// KeyElement is one part of the primary key: HASH or RANGE.
type KeyElement struct {
	AttributeName string
	KeyType       string
}

// Table returns the AWS::DynamoDB::Table with that logical id. Properties
// the local stack would not create (secondary indexes, streams, a fixed
// TableName) are refused rather than ignored.
func (t *Template) Table(logicalID string) (Table, error) {
	var err error
	res, p, err := t.resource(logicalID, typeTable, &err)
	if err != nil {
		return Table{}, err
	}
	p.only("BillingMode", "AttributeDefinitions", "KeySchema", "PointInTimeRecoverySpecification")
	tbl := Table{
		LogicalID:           logicalID,
		BillingMode:         p.str("BillingMode"),
		PointInTimeRecovery: p.obj("PointInTimeRecoverySpecification").only("PointInTimeRecoveryEnabled").boolean("PointInTimeRecoveryEnabled", false),
		DeletionPolicy:      res.DeletionPolicy,
		UpdateReplacePolicy: res.UpdateReplacePolicy,
	}
	for _, a := range p.list("AttributeDefinitions") {
		a = a.only("AttributeName", "AttributeType")
		tbl.AttributeDefinitions = append(tbl.AttributeDefinitions, AttributeDefinition{a.str("AttributeName"), a.str("AttributeType")})
	}
	for _, k := range p.list("KeySchema") {
		k = k.only("AttributeName", "KeyType")
		tbl.KeySchema = append(tbl.KeySchema, KeyElement{k.str("AttributeName"), k.str("KeyType")})
	}
	if err != nil {
		return Table{}, err
	}
	if err := tbl.check(); err != nil {
		return Table{}, fmt.Errorf("Resources.%s.Properties: %w", logicalID, err)
	}
	return tbl, nil
}

// list reads a list of mappings.
func (p props) list(key string) []props {
	l, ok := p.m[key].([]any)
	if !ok && p.has(key) {
		p.fail(key, "a list")
	}
	out := make([]props, 0, len(l))
	for i, v := range l {
		m, ok := v.(map[string]any)
		if !ok {
			p.fail(fmt.Sprintf("%s[%d]", key, i), "a mapping")
		}
		out = append(out, props{fmt.Sprintf("%s[%d]", join(p.path, key), i), m, p.err})
	}
	return out
}

// check refuses a key schema that CreateTable would refuse, with a clearer
// message.
func (t Table) check() error {
	if t.BillingMode != "PAY_PER_REQUEST" {
		return errors.New("BillingMode: want PAY_PER_REQUEST (the local stack creates on-demand tables only)")
	}
	if len(t.KeySchema) < 1 || len(t.KeySchema) > 2 || t.KeySchema[0].KeyType != "HASH" ||
		(len(t.KeySchema) == 2 && t.KeySchema[1].KeyType != "RANGE") {
		return errors.New("KeySchema: want a HASH key, optionally followed by a RANGE key")
	}
	types := map[string]string{}
	for _, a := range t.AttributeDefinitions {
		switch a.AttributeType {
		case "S", "N", "B":
		default:
			return fmt.Errorf("AttributeDefinitions: %s: type %q is not S, N or B", a.AttributeName, a.AttributeType)
		}
		types[a.AttributeName] = a.AttributeType
	}
	for _, k := range t.KeySchema {
		if types[k.AttributeName] == "" {
			return fmt.Errorf("KeySchema: %s has no AttributeDefinitions entry", k.AttributeName)
		}
	}
	if len(types) != len(t.KeySchema) {
		return errors.New("AttributeDefinitions: want the key attributes and nothing else")
	}
	return nil
}
