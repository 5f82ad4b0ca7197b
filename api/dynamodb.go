package api

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// EnvPetsTable names the DynamoDB table of the pets (template.yaml passes
// !Ref PetsTable). The endpoint, region and credentials come from the AWS
// SDK's standard settings: AWS_ENDPOINT_URL_DYNAMODB points the store at
// any DynamoDB-compatible endpoint.
const EnvPetsTable = "PETS_TABLE"

// The table's keys and items (docs/api.md, "Data model"). Pets live in
// partitions that each list them in one order: "pet" by id, "type#dog" (and
// the other types) by rank within the type. In every partition the item at
// sk 0 holds the partition's count, and the pets follow at sk 1, 2, 3, ...
// with no gap: page p of a partition starts right after sk (p-1)*PageSize,
// and page 1 comes with its count in one Query. Every access is a GetItem
// or a Query on the table itself, never on an index, so that every read can
// be strongly consistent.
const (
	attrPK = "pk" // partition key, a string
	// attrSK is the sort key: a number written as a string of skDigits
	// digits, zero-padded, so that its string order is its numeric order.
	// A number-typed key would do on DynamoDB, but the embedded server of
	// the local stack orders every key as a string (minidyn v0.8.2).
	attrSK   = "sk"
	skDigits = 10

	pkPet  = "pet"   // every pet, sk = its id
	pkType = "type#" // + type: the pets of that type, sk = rank in the type

	attrCount       = "count" // of the count item (sk 0); a reserved word, always aliased
	attrID          = "id"
	attrType        = "type"
	attrPrice       = "price"
	attrCreatedBy   = "createdBy"
	attrRank        = "rank"
	attrCreateToken = "createToken"
)

// Timeouts and retries of the store. The SDK retries throttling, server
// errors and broken connections itself (dynamoRetryer); the store retries
// what the SDK cannot: a create that lost the race for an id.
const (
	// opTimeout bounds each store call, retries included, below the
	// function's 10 s timeout so that the caller gets an answer.
	opTimeout = 5 * time.Second
	// attemptTimeout bounds one HTTP attempt; connectTimeout the dial.
	attemptTimeout = 2 * time.Second
	connectTimeout = time.Second
	maxIdleConns   = 100
	// sdkMaxAttempts is the SDK's attempts per call (3 is its default, set
	// here so that it is a decision); sdkMaxBackoff caps its backoff so that
	// three attempts fit in opTimeout.
	sdkMaxAttempts = 3
	sdkMaxBackoff  = 500 * time.Millisecond
)

// LoadDynamoClient returns a DynamoDB client from the SDK's default
// configuration (environment, shared config, the function's role) with the
// store's timeouts and retry settings. optFns add or override options, e.g.
// config.WithBaseEndpoint for a local endpoint.
func LoadDynamoClient(ctx context.Context, optFns ...func(*config.LoadOptions) error) (*dynamodb.Client, error) {
	httpClient := awshttp.NewBuildableClient().
		WithTimeout(attemptTimeout).
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = connectTimeout }).
		// A Lambda instance makes one call at a time; the local stack and
		// cmd/api's HTTP server make many at once through one client, and
		// keep their connections instead of opening one per call above the
		// SDK's default of 10 idle ones.
		WithTransportOptions(func(t *http.Transport) { t.MaxIdleConnsPerHost = maxIdleConns })
	opts := append([]func(*config.LoadOptions) error{
		config.WithHTTPClient(httpClient),
		config.WithRetryer(dynamoRetryer),
	}, optFns...)
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	return dynamodb.NewFromConfig(cfg), nil
}

// dynamoRetryer is the SDK's standard retryer (exponential backoff with
// jitter; throttling, 5xx and connection errors) with the attempts and the
// backoff bounded as above. Its retry quota stays on: when most calls fail,
// it stops retrying so that an outage is not made worse.
func dynamoRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = sdkMaxAttempts
		o.MaxBackoff = sdkMaxBackoff
	})
}

// DynamoStore is the Store on a DynamoDB table whose key is pk and sk, both
// strings, as template.yaml's PetsTable declares it. Any number of
// processes may share the table: ids come from a count item updated in the
// same transaction that writes the pet, on condition that no other writer
// moved it, so they are unique, dense (1, 2, 3, ...) and never reused, and
// the MaxPets bound holds under concurrency. Reads are strongly consistent.
type DynamoStore struct {
	client *dynamodb.Client
	table  string
}

// NewDynamoStore returns the Store on the given table.
func NewDynamoStore(client *dynamodb.Client, table string) *DynamoStore {
	return &DynamoStore{client: client, table: table}
}

// NewDynamoStoreFromEnv reads EnvPetsTable from getenv and loads the client
// with LoadDynamoClient; the error names a missing variable.
func NewDynamoStoreFromEnv(ctx context.Context, getenv func(string) string) (*DynamoStore, error) {
	table := getenv(EnvPetsTable)
	if table == "" {
		return nil, fmt.Errorf("%s is not set: it names the DynamoDB table of the pets (template.yaml's PetsTable)", EnvPetsTable)
	}
	client, err := LoadDynamoClient(ctx)
	if err != nil {
		return nil, err
	}
	return NewDynamoStore(client, table), nil
}

// Table is the name of the store's table.
func (s *DynamoStore) Table() string { return s.table }

func key(pk string, sk int64) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: pk},
		attrSK: sortKey(sk),
	}
}

func sortKey(n int64) *types.AttributeValueMemberS {
	return &types.AttributeValueMemberS{Value: fmt.Sprintf("%0*d", skDigits, n)}
}

func number(n int64) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// readCount reads the count item of partition pk: 0 when the partition
// has never held a pet.
func (s *DynamoStore) readCount(ctx context.Context, pk string) (int64, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      &s.table,
		Key:            key(pk, 0),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return 0, storeError("GetItem "+pk+" count", err)
	}
	return decodeCount(out.Item, pk)
}

func decodeCount(item map[string]types.AttributeValue, pk string) (int64, error) {
	if item == nil {
		return 0, nil
	}
	n, err := intAttr(item, attrCount)
	if err == nil && (n < 0 || n > MaxPets) {
		err = errors.New("count is out of range")
	}
	if err != nil {
		return 0, &DecodeError{Item: pk + "/0", Err: err}
	}
	return n, nil
}

// List implements Store with one Query for the first page (the count item
// and the page), and a GetItem for the count then a Query for the others.
// No item before the page is read.
func (s *DynamoStore) List(ctx context.Context, q ListQuery) (PetPage, error) {
	if err := q.check(); err != nil {
		return PetPage{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	pk := pkPet
	if q.Type != "" {
		pk = pkType + q.Type
	}
	page := PetPage{Pets: []Pet{}}
	from, limit := int64(0), q.PageSize+1 // page 1: the count item, then the pets
	if q.Page > 1 {
		total, err := s.readCount(ctx, pk)
		if err != nil {
			return PetPage{}, err
		}
		page.Total = int(total)
		from, limit = int64(q.Page-1)*int64(q.PageSize)+1, q.PageSize
		if from > total {
			return page, nil
		}
	}
	out, err := s.client.Query(ctx, &dynamodb.QueryInput{
		TableName:                &s.table,
		KeyConditionExpression:   aws.String("#pk = :pk AND #sk >= :from"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK, "#sk": attrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":   &types.AttributeValueMemberS{Value: pk},
			":from": sortKey(from),
		},
		Limit:          aws.Int32(int32(limit)),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return PetPage{}, storeError("Query "+pk, err)
	}
	items := out.Items
	if q.Page == 1 {
		if len(items) == 0 {
			return page, nil // an empty partition
		}
		total, err := decodeCount(items[0], pk)
		if err != nil {
			return PetPage{}, err
		}
		page.Total, items = int(total), items[1:]
	}
	for _, item := range items {
		p, err := decodePet(item, q.Type)
		if err != nil {
			return PetPage{}, err
		}
		page.Pets = append(page.Pets, p)
	}
	return page, nil
}

// Get implements Store with a strongly consistent GetItem.
func (s *DynamoStore) Get(ctx context.Context, id int64) (Pet, error) {
	if id < 1 {
		return Pet{}, ErrNotFound
	}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	item, err := s.getPetItem(ctx, id)
	if err != nil {
		return Pet{}, err
	}
	if item == nil {
		return Pet{}, ErrNotFound
	}
	return decodePet(item, "")
}

func (s *DynamoStore) getPetItem(ctx context.Context, id int64) (map[string]types.AttributeValue, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      &s.table,
		Key:            key(pkPet, id),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, storeError("GetItem pet "+strconv.FormatInt(id, 10), err)
	}
	return out.Item, nil
}

// Create implements Store. Each attempt reads the count of all pets and of
// the pet's type, then writes in one transaction both counts moved on by
// one (on condition that nobody moved them since), the pet under the next
// id and its entry in its type's partition. An attempt that lost the race
// to another writer is tried again with backoff until opTimeout.
//
// An attempt whose outcome is unknown (a timeout after DynamoDB may have
// written) is sent again unchanged: with the same ClientRequestToken
// DynamoDB applies it at most once and answers as the first time. If the
// count moved meanwhile, the pet item says whose it is: it carries the
// attempt's token.
func (s *DynamoStore) Create(ctx context.Context, n NewPet) (Pet, error) {
	if !ValidPetType(n.Type) {
		return Pet{}, fmt.Errorf("unknown pet type %q", n.Type)
	}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	backoff := 5 * time.Millisecond
	for attempt := 1; ; attempt++ {
		last, err := s.readCount(ctx, pkPet)
		if err != nil {
			return Pet{}, err
		}
		if last >= MaxPets {
			return Pet{}, ErrStoreFull
		}
		ranked, err := s.readCount(ctx, pkType+n.Type)
		if err != nil {
			return Pet{}, err
		}
		p := Pet{ID: last + 1, Type: n.Type, Price: n.Price, CreatedBy: n.CreatedBy}
		in := s.createTransaction(p, last, ranked, newToken())
		won, err := s.transact(ctx, in)
		if won {
			return p, nil
		}
		if err != nil {
			return Pet{}, err
		}
		// Lost the race: another create took the id first.
		if err := sleep(ctx, jitter(backoff)); err != nil {
			return Pet{}, storeError(fmt.Sprintf("Create (%d attempts, another writer won each)", attempt), err)
		}
		backoff = min(2*backoff, 100*time.Millisecond)
	}
}

// transact runs a create transaction. It reports whether the pet was
// written; (false, nil) means the id was taken by another writer.
func (s *DynamoStore) transact(ctx context.Context, in *dynamodb.TransactWriteItemsInput) (bool, error) {
	_, err := s.client.TransactWriteItems(ctx, in)
	if err != nil && outcomeUnknown(err) && ctx.Err() == nil {
		// The SDK gave up, but DynamoDB may have applied it: ask again with
		// the same token, which DynamoDB applies at most once.
		_, err = s.client.TransactWriteItems(ctx, in)
	}
	switch {
	case err == nil:
		return true, nil
	case lostRace(err):
		// Another writer took the id, or an earlier try of this very
		// transaction did (its answer was lost, and the SDK's retry, or
		// ours, found the count moved): the pet item says which.
		return s.ours(ctx, in)
	case outcomeUnknown(err):
		return false, fmt.Errorf("outcome of a create unknown: %w", storeError("TransactWriteItems", err))
	default:
		return false, storeError("TransactWriteItems", err)
	}
}

// ours reports whether the pet of create transaction in is stored with
// its token.
func (s *DynamoStore) ours(ctx context.Context, in *dynamodb.TransactWriteItemsInput) (bool, error) {
	id, _ := strconv.ParseInt(in.TransactItems[1].Put.Item[attrID].(*types.AttributeValueMemberN).Value, 10, 64)
	item, err := s.getPetItem(ctx, id)
	if err != nil {
		return false, fmt.Errorf("outcome of a create unknown: %w", err)
	}
	token, ok := item[attrCreateToken].(*types.AttributeValueMemberS)
	return ok && token.Value == aws.ToString(in.ClientRequestToken), nil
}

// createTransaction writes pet p, whose id is last+1 and whose rank in its
// type is ranked+1, on condition that both counts are still last and
// ranked.
func (s *DynamoStore) createTransaction(p Pet, last, ranked int64, token string) *dynamodb.TransactWriteItemsInput {
	rank := ranked + 1
	petItem := encodePet(pkPet, p.ID, p, rank)
	petItem[attrCreateToken] = &types.AttributeValueMemberS{Value: token}
	return &dynamodb.TransactWriteItemsInput{
		ClientRequestToken: aws.String(token),
		TransactItems: []types.TransactWriteItem{
			{Update: s.moveCount(pkPet, last)},
			{Put: newItem(s.table, petItem)},
			{Update: s.moveCount(pkType+p.Type, ranked)},
			{Put: newItem(s.table, encodePet(pkType+p.Type, rank, p, rank))},
		},
	}
}

// moveCount sets the count of partition pk from seen to seen+1, on
// condition that it is still seen.
func (s *DynamoStore) moveCount(pk string, seen int64) *types.Update {
	u := &types.Update{
		TableName:                 &s.table,
		Key:                       key(pk, 0),
		UpdateExpression:          aws.String("SET #count = :next"),
		ExpressionAttributeNames:  map[string]string{"#count": attrCount},
		ExpressionAttributeValues: map[string]types.AttributeValue{":next": number(seen + 1)},
		ConditionExpression:       aws.String("attribute_not_exists(#count)"),
	}
	if seen > 0 {
		u.ConditionExpression = aws.String("#count = :seen")
		u.ExpressionAttributeValues[":seen"] = number(seen)
	}
	return u
}

func newItem(table string, item map[string]types.AttributeValue) *types.Put {
	return &types.Put{
		TableName:                &table,
		Item:                     item,
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK},
	}
}

// SeedExamplePets stores ExamplePets as pets 1, 2 and 3 if the table has
// never held a pet, and does nothing otherwise. The local stack and the
// tests call it; a deployment starts empty.
func (s *DynamoStore) SeedExamplePets(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	count := func(pk string, n int64) types.TransactWriteItem {
		item := key(pk, 0)
		item[attrCount] = number(n)
		return types.TransactWriteItem{Put: newItem(s.table, item)}
	}
	items := []types.TransactWriteItem{count(pkPet, int64(len(ExamplePets)))}
	ranks := map[string]int64{}
	for i, n := range ExamplePets {
		ranks[n.Type]++
		p := Pet{ID: int64(i + 1), Type: n.Type, Price: n.Price}
		items = append(items,
			types.TransactWriteItem{Put: newItem(s.table, encodePet(pkPet, p.ID, p, ranks[n.Type]))},
			types.TransactWriteItem{Put: newItem(s.table, encodePet(pkType+p.Type, ranks[n.Type], p, ranks[n.Type]))})
	}
	for _, t := range PetTypes {
		if ranks[t] > 0 {
			items = append(items, count(pkType+t, ranks[t]))
		}
	}
	_, err := s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err != nil && !lostRace(err) {
		return storeError("seed", err)
	}
	return nil
}

// encodePet is the item of p under pk and sk.
func encodePet(pk string, sk int64, p Pet, rank int64) map[string]types.AttributeValue {
	item := key(pk, sk)
	item[attrID] = number(p.ID)
	item[attrType] = &types.AttributeValueMemberS{Value: p.Type}
	item[attrPrice] = &types.AttributeValueMemberN{Value: strconv.FormatFloat(p.Price, 'f', -1, 64)}
	item[attrRank] = number(rank)
	if p.CreatedBy != "" {
		item[attrCreatedBy] = &types.AttributeValueMemberS{Value: p.CreatedBy}
	}
	return item
}

// DecodeError is a stored item that is not what the store writes. Its
// message names the item and the attribute, never their values, and goes
// to the log only: the caller gets a 500.
type DecodeError struct {
	Item string
	Err  error
}

func (e *DecodeError) Error() string { return "stored item " + e.Item + ": " + e.Err.Error() }
func (e *DecodeError) Unwrap() error { return e.Err }

// decodePet reads a pet item; wantType, when set, is the type its partition
// promises.
func decodePet(item map[string]types.AttributeValue, wantType string) (Pet, error) {
	name := "pet"
	if pk, ok := item[attrPK].(*types.AttributeValueMemberS); ok {
		name = pk.Value
	}
	if sk, ok := item[attrSK].(*types.AttributeValueMemberS); ok {
		name += "/" + strings.TrimLeft(sk.Value, "0")
	}
	fail := func(err error) (Pet, error) { return Pet{}, &DecodeError{Item: name, Err: err} }
	var p Pet
	var err error
	if p.ID, err = intAttr(item, attrID); err != nil || p.ID < 1 {
		return fail(cmpErr(err, "id is not a positive number"))
	}
	t, ok := item[attrType].(*types.AttributeValueMemberS)
	if !ok || !ValidPetType(t.Value) || (wantType != "" && t.Value != wantType) {
		return fail(errors.New("type is missing or not one of " + petTypeList))
	}
	p.Type = t.Value
	price, ok := item[attrPrice].(*types.AttributeValueMemberN)
	if !ok {
		return fail(errors.New("price is missing or not a number"))
	}
	if p.Price, err = strconv.ParseFloat(price.Value, 64); err != nil || p.Price < 0 || p.Price > MaxPrice {
		return fail(errors.New("price is not a number from 0 to " + strconv.Itoa(MaxPrice)))
	}
	if v, present := item[attrCreatedBy]; present {
		by, ok := v.(*types.AttributeValueMemberS)
		if !ok {
			return fail(errors.New("createdBy is not a string"))
		}
		p.CreatedBy = by.Value
	}
	return p, nil
}

func intAttr(item map[string]types.AttributeValue, name string) (int64, error) {
	v, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, errors.New(name + " is missing or not a number")
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		return 0, errors.New(name + " is not a whole number")
	}
	return n, nil
}

func cmpErr(err error, msg string) error {
	if err != nil {
		return err
	}
	return errors.New(msg)
}

// newToken is a ClientRequestToken: 26 random characters (DynamoDB allows
// up to 36).
func newToken() string { return rand.Text() }

// jitter is a random duration in [d/2, d).
func jitter(d time.Duration) time.Duration {
	return d/2 + mrand.N(d/2)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
