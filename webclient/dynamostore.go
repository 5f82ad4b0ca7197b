package webclient

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// EnvSessionsTable names the DynamoDB table of the sessions
// (template.yaml's SessionsTable).
const EnvSessionsTable = "SESSIONS_TABLE"

// The sessions table's attributes. id is the table's only key; expires
// (epoch seconds) is its TTL attribute; ended marks a tombstone.
const (
	attrID      = "id"
	attrData    = "data"
	attrExpires = "expires"
	attrEnded   = "ended"
	// attrVersion is the version of a session's token set (see
	// SessionStore.CommitVersionCtx).
	attrVersion = "tver"
)

// DynamoSessionStore is a SessionStore on a DynamoDB table shared by every
// instance of the web client: a sign-in started on one completes on
// another. Reads are strongly consistent (a session just written by one
// instance is seen by the next); expiry is checked on every read, since
// DynamoDB's TTL deletes expired items only eventually.
type DynamoSessionStore struct {
	client   *dynamodb.Client
	table    string
	lifetime time.Duration
}

// NewDynamoSessionStore returns the store on table; its tombstones last
// sessionLifetime (default DefaultSessionLifetime).
func NewDynamoSessionStore(client *dynamodb.Client, table string, sessionLifetime time.Duration) *DynamoSessionStore {
	if sessionLifetime <= 0 {
		sessionLifetime = DefaultSessionLifetime
	}
	return &DynamoSessionStore{client: client, table: table, lifetime: sessionLifetime}
}

func (s *DynamoSessionStore) key(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrID: &types.AttributeValueMemberS{Value: id}}
}

// FindCtx implements scs.CtxStore.
func (s *DynamoSessionStore) FindCtx(ctx context.Context, id string) ([]byte, bool, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: s.key(id), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, false, fmt.Errorf("sessions table %s: %w", s.table, err)
	}
	b, ok := liveData(out.Item, time.Now())
	return b, ok, nil
}

// liveData is an item's data unless the item is missing, a tombstone or
// expired.
func liveData(item map[string]types.AttributeValue, now time.Time) ([]byte, bool) {
	if item == nil || item[attrEnded] != nil {
		return nil, false
	}
	exp, ok := item[attrExpires].(*types.AttributeValueMemberN)
	if !ok {
		return nil, false
	}
	secs, err := strconv.ParseInt(exp.Value, 10, 64)
	if err != nil || !now.Before(time.Unix(secs, 0)) {
		return nil, false
	}
	data, ok := item[attrData].(*types.AttributeValueMemberB)
	if !ok {
		return nil, false
	}
	return data.Value, true
}

// CommitCtx implements scs.CtxStore: a conditional put that fails with
// ErrSessionEnded when the id has a tombstone.
func (s *DynamoSessionStore) CommitCtx(ctx context.Context, id string, b []byte, expiry time.Time) error {
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table),
		Item: map[string]types.AttributeValue{
			attrID:      &types.AttributeValueMemberS{Value: id},
			attrData:    &types.AttributeValueMemberB{Value: b},
			attrExpires: epoch(expiry),
		},
		ConditionExpression:      aws.String("attribute_not_exists(#ended)"),
		ExpressionAttributeNames: map[string]string{"#ended": attrEnded},
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return ErrSessionEnded
	}
	if err != nil {
		return fmt.Errorf("sessions table %s: %w", s.table, err)
	}
	return nil
}

// CommitVersionCtx implements SessionStore: a put conditional on no
// tombstone and no higher version. On a refusal, one consistent read
// tells the two apart.
func (s *DynamoSessionStore) CommitVersionCtx(ctx context.Context, id string, b []byte, expiry time.Time, version int64) error {
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table),
		Item: map[string]types.AttributeValue{
			attrID:      &types.AttributeValueMemberS{Value: id},
			attrData:    &types.AttributeValueMemberB{Value: b},
			attrExpires: epoch(expiry),
			attrVersion: &types.AttributeValueMemberN{Value: strconv.FormatInt(version, 10)},
		},
		ConditionExpression:       aws.String("attribute_not_exists(#ended) AND (attribute_not_exists(#v) OR #v <= :v)"),
		ExpressionAttributeNames:  map[string]string{"#ended": attrEnded, "#v": attrVersion},
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: strconv.FormatInt(version, 10)}},
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		out, gerr := s.client.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String(s.table), Key: s.key(id), ConsistentRead: aws.Bool(true),
		})
		if gerr != nil {
			return fmt.Errorf("sessions table %s: %w", s.table, gerr)
		}
		if _, ended := out.Item[attrEnded]; ended || out.Item == nil {
			return ErrSessionEnded
		}
		return ErrStaleSession
	}
	if err != nil {
		return fmt.Errorf("sessions table %s: %w", s.table, err)
	}
	return nil
}

// DeleteCtx implements scs.CtxStore: the item becomes a tombstone, without
// its data, kept until the TTL removes it.
func (s *DynamoSessionStore) DeleteCtx(ctx context.Context, id string) error {
	_, err := s.client.UpdateItem(ctx, s.tombstone(id))
	if err != nil {
		return fmt.Errorf("sessions table %s: %w", s.table, err)
	}
	return nil
}

func (s *DynamoSessionStore) tombstone(id string) *dynamodb.UpdateItemInput {
	return &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      s.key(id),
		UpdateExpression:         aws.String("SET #ended = :true, #expires = :until REMOVE #data"),
		ExpressionAttributeNames: map[string]string{"#ended": attrEnded, "#expires": attrExpires, "#data": attrData},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":true":  &types.AttributeValueMemberBOOL{Value: true},
			":until": epoch(tombstoneUntil(time.Now(), s.lifetime)),
		},
	}
}

// Take implements SessionStore: one UpdateItem that turns a live item into
// a tombstone and returns what it held.
func (s *DynamoSessionStore) Take(ctx context.Context, id string) ([]byte, bool, error) {
	in := s.tombstone(id)
	in.ConditionExpression = aws.String("attribute_exists(#id) AND attribute_not_exists(#ended)")
	in.ExpressionAttributeNames["#id"] = attrID
	in.ReturnValues = types.ReturnValueAllOld
	out, err := s.client.UpdateItem(ctx, in)
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("sessions table %s: %w", s.table, err)
	}
	b, ok := liveData(out.Attributes, time.Now())
	return b, ok, nil
}

// Find implements scs.Store.
func (s *DynamoSessionStore) Find(id string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), id)
}

// Commit implements scs.Store.
func (s *DynamoSessionStore) Commit(id string, b []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), id, b, expiry)
}

// Delete implements scs.Store.
func (s *DynamoSessionStore) Delete(id string) error {
	return s.DeleteCtx(context.Background(), id)
}

func epoch(t time.Time) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(t.Unix(), 10)}
}
