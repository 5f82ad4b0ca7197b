package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
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

// The table's keys and items (docs/api.md, "Data model"). The item pet/0
// is the counter: next, the last id handed out, and created (plus
// created_dog, created_cat, ...), how many pets were stored. Every pet is
// stored twice under its id: in the partition "pet" (sk = id) and in its
// type's partition, "type#dog" (sk = id), so that each listing is one
// Query from a cursor (sk > the last id of the previous page). An id handed
// out whose pet was never written leaves a gap, which costs nothing.
// An Idempotency-Key has an item of its own, key#<hash>/0, holding the id.
// Every access is a GetItem, an UpdateItem or a Query on the table itself,
// never on an index, so that every read can be strongly consistent.
const (
	attrPK = "pk" // partition key, a string
	// attrSK is the sort key: a number written as a string of skDigits
	// digits, zero-padded, so that its string order is its numeric order.
	// A number-typed key would do on DynamoDB, but the embedded server of
	// the local stack orders every key as a string (minidyn v0.8.2).
	attrSK   = "sk"
	skDigits = 10

	pkPet  = "pet"   // every pet, sk = its id; the counter at sk 0
	pkType = "type#" // + type: the pets of that type, sk = id
	pkKey  = "key#"  // + hash of (createdBy, Idempotency-Key), sk = 0

	attrNext        = "next"    // of the counter: the last id handed out
	attrCreated     = "created" // of the counter: pets stored; + "_dog" per type
	attrID          = "id"
	attrType        = "type"
	attrPrice       = "price"
	attrCreatedBy   = "createdBy"
	attrCreateToken = "createToken"
)

// createdAttr is the counter's attribute of how many pets of type t (all
// pets when t is empty) were stored.
func createdAttr(t string) string {
	if t == "" {
		return attrCreated
	}
	return attrCreated + "_" + t
}

// Timeouts and retries of the store. The SDK retries throttling, server
// errors and broken connections itself (dynamoRetryer); the store sends an
// ambiguous create transaction once more, with the same token. Nothing
// retries because of another writer: no create can lose a race.
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
// processes may share the table. A create takes its id with one UpdateItem
// of the counter (ADD next 1, on condition that next < MaxPets), which
// DynamoDB serialises: ids are unique and never reused, the MaxPets bound
// holds under concurrency, and nothing ever retries against the counter.
// It then writes the pet's two items, new items only, in one transaction.
// Reads are strongly consistent.
type DynamoStore struct {
	client  *dynamodb.Client
	table   string
	timeout time.Duration
}

// NewDynamoStore returns the Store on the given table.
func NewDynamoStore(client *dynamodb.Client, table string) *DynamoStore {
	return &DynamoStore{client: client, table: table, timeout: opTimeout}
}

// WithTimeout sets the bound of each store call, retries included
// (opTimeout, 5 s, by default), and returns s. Tests on a busy machine give
// it more.
func (s *DynamoStore) WithTimeout(d time.Duration) *DynamoStore {
	s.timeout = d
	return s
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

// decodeCreated reads how many pets of type t the counter item says were
// stored: 0 when the table has never held a pet.
func decodeCreated(item map[string]types.AttributeValue, t string) (int64, error) {
	if item == nil {
		return 0, nil
	}
	name := createdAttr(t)
	if _, present := item[name]; !present {
		return 0, nil
	}
	n, err := intAttr(item, name)
	if err == nil && (n < 0 || n > MaxPets) {
		err = errors.New(name + " is out of range")
	}
	if err != nil {
		return 0, &DecodeError{Item: pkPet + "/0", Err: err}
	}
	return n, nil
}

// List implements Store. The first page of all pets is one Query (the
// counter item, then the pets); any other page is a GetItem of the counter
// and a Query from the cursor. No item before the page is read, and the
// Query reads one pet more than the page to know whether another follows.
func (s *DynamoStore) List(ctx context.Context, q ListQuery) (PetPage, error) {
	if err := q.check(); err != nil {
		return PetPage{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	pk := pkPet
	if q.Type != "" {
		pk = pkType + q.Type
	}
	page := PetPage{Pets: []Pet{}}
	withCounter := pk == pkPet && q.After == 0
	if !withCounter {
		out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: &s.table, Key: key(pkPet, 0), ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return PetPage{}, storeError("GetItem counter", err)
		}
		total, err := decodeCreated(out.Item, q.Type)
		if err != nil {
			return PetPage{}, err
		}
		page.Total = int(total)
	}
	cond, limit := "#pk = :pk AND #sk > :after", q.PageSize+1
	if withCounter {
		cond, limit = "#pk = :pk AND #sk >= :after", q.PageSize+2
	}
	out, err := s.client.Query(ctx, &dynamodb.QueryInput{
		TableName:                &s.table,
		KeyConditionExpression:   aws.String(cond),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK, "#sk": attrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":    &types.AttributeValueMemberS{Value: pk},
			":after": sortKey(q.After),
		},
		Limit:          aws.Int32(int32(limit)),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return PetPage{}, storeError("Query "+pk, err)
	}
	items := out.Items
	if withCounter && len(items) > 0 && isCounter(items[0]) {
		total, err := decodeCreated(items[0], "")
		if err != nil {
			return PetPage{}, err
		}
		page.Total, items = int(total), items[1:]
	}
	if len(items) > q.PageSize {
		page.More, items = true, items[:q.PageSize]
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

func isCounter(item map[string]types.AttributeValue) bool {
	sk, ok := item[attrSK].(*types.AttributeValueMemberS)
	return ok && sk.Value == sortKey(0).Value
}

// Get implements Store with a strongly consistent GetItem.
func (s *DynamoStore) Get(ctx context.Context, id int64) (Pet, error) {
	if id < 1 {
		return Pet{}, ErrNotFound
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	item, err := s.getItem(ctx, key(pkPet, id))
	if err != nil {
		return Pet{}, err
	}
	if item == nil {
		return Pet{}, ErrNotFound
	}
	return decodePet(item, "")
}

func (s *DynamoStore) getItem(ctx context.Context, k map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      &s.table,
		Key:            k,
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		name := k[attrPK].(*types.AttributeValueMemberS).Value + "/" + strings.TrimLeft(k[attrSK].(*types.AttributeValueMemberS).Value, "0")
		return nil, storeError("GetItem "+name, err)
	}
	return out.Item, nil
}

// Create implements Store in three steps, none of which can lose a race:
//  1. UpdateItem ADD next 1 on the counter, on condition that next is below
//     MaxPets, hands out the id (ErrStoreFull otherwise);
//  2. one transaction puts the pet under its id in "pet" and in its type's
//     partition, and the Idempotency-Key's item when there is one, each on
//     condition that it does not exist yet;
//  3. UpdateItem ADD created 1 (and created_<type>) counts the pet for
//     X-Total-Count.
//
// A create that fails after step 1 leaves a gap in the ids. A process that
// stops between 2 and 3 leaves a pet that is listed but not counted
// (docs/api.md, "Consistency").
//
// With an IdempotencyKey, a create whose key was used before by the same
// CreatedBy returns the pet of the first create and stores nothing.
func (s *DynamoStore) Create(ctx context.Context, n NewPet) (Pet, error) {
	if !ValidPetType(n.Type) {
		return Pet{}, fmt.Errorf("unknown pet type %q", n.Type)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var keyItem map[string]types.AttributeValue
	if n.IdempotencyKey != "" {
		keyItem = key(pkKey+idempotencyHash(n.CreatedBy, n.IdempotencyKey), 0)
		if p, found, err := s.keyedPet(ctx, keyItem); found || err != nil {
			return p, err
		}
	}
	id, err := s.nextID(ctx)
	if err != nil {
		return Pet{}, err
	}
	p := Pet{ID: id, Type: n.Type, Price: n.Price, CreatedBy: n.CreatedBy}
	in := s.createTransaction(p, newToken(), keyItem)
	if err := s.transact(ctx, in, p.ID); err != nil {
		if errors.Is(err, errKeyUsed) {
			// A concurrent create with the same key wrote first; our id
			// stays a gap.
			if p, found, err := s.keyedPet(ctx, keyItem); found || err != nil {
				return p, err
			}
		}
		return Pet{}, err
	}
	// The pet is stored: count it even if the caller gave up meanwhile.
	countCtx, cancelCount := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
	defer cancelCount()
	if err := s.count(countCtx, p.Type); err != nil {
		return p, fmt.Errorf("%w (pet %d is stored but not counted in X-Total-Count): %w", errCountLagging, p.ID, err)
	}
	return p, nil
}

// errCountLagging is a create that stored its pet but could not count it.
// The pet is returned with it; the handler answers 201 and logs it.
var errCountLagging = errors.New("created, not counted")

// errKeyUsed is a create transaction cancelled because the item of its
// Idempotency-Key exists: a concurrent create with the same key won.
var errKeyUsed = errors.New("idempotency key used by a concurrent create")

// keyedPet returns the pet that an earlier create with the key item's key
// stored, if any.
func (s *DynamoStore) keyedPet(ctx context.Context, keyItem map[string]types.AttributeValue) (Pet, bool, error) {
	item, err := s.getItem(ctx, key(keyItem[attrPK].(*types.AttributeValueMemberS).Value, 0))
	if err != nil || item == nil {
		return Pet{}, false, err
	}
	id, err := intAttr(item, attrID)
	if err != nil {
		return Pet{}, false, &DecodeError{Item: "key item", Err: err}
	}
	p, err := s.getItem(ctx, key(pkPet, id))
	if err != nil {
		return Pet{}, false, err
	}
	if p == nil {
		return Pet{}, false, &IntegrityError{Msg: fmt.Sprintf("an Idempotency-Key item names pet %d, which does not exist", id)}
	}
	pet, err := decodePet(p, "")
	return pet, err == nil, err
}

// nextID hands out the next id.
func (s *DynamoStore) nextID(ctx context.Context) (int64, error) {
	out, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       key(pkPet, 0),
		UpdateExpression:          aws.String("ADD #next :one"),
		ConditionExpression:       aws.String("attribute_not_exists(#next) OR #next < :max"),
		ExpressionAttributeNames:  map[string]string{"#next": attrNext},
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": number(1), ":max": number(MaxPets)},
		ReturnValues:              types.ReturnValueUpdatedNew,
	})
	var full *types.ConditionalCheckFailedException
	if errors.As(err, &full) {
		return 0, ErrStoreFull
	}
	if err != nil {
		return 0, storeError("UpdateItem counter next", err)
	}
	id, err := intAttr(out.Attributes, attrNext)
	if err == nil && (id < 1 || id > MaxPets) {
		err = errors.New(attrNext + " is out of range")
	}
	if err != nil {
		return 0, &DecodeError{Item: pkPet + "/0", Err: err}
	}
	return id, nil
}

// count adds the pet of type t to the counter's created and created_<t>.
func (s *DynamoStore) count(ctx context.Context, t string) error {
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       key(pkPet, 0),
		UpdateExpression:          aws.String("ADD #all :one, #type :one"),
		ExpressionAttributeNames:  map[string]string{"#all": createdAttr(""), "#type": createdAttr(t)},
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": number(1)},
	})
	if err != nil {
		return storeError("UpdateItem counter created", err)
	}
	return nil
}

// transact runs the create transaction of pet id. Its items are new, so it
// can only fail for a reason other than a race: the key item exists
// (errKeyUsed), the pet's items exist (an IntegrityError), or DynamoDB
// failed.
func (s *DynamoStore) transact(ctx context.Context, in *dynamodb.TransactWriteItemsInput, id int64) error {
	_, err := s.client.TransactWriteItems(ctx, in)
	if err != nil && outcomeUnknown(err) && ctx.Err() == nil {
		// The SDK gave up, but DynamoDB may have applied it: ask again with
		// the same token, which DynamoDB applies at most once.
		_, err = s.client.TransactWriteItems(ctx, in)
	}
	if err == nil {
		return nil
	}
	var canceled *types.TransactionCanceledException
	if errors.As(err, &canceled) && conditionFailed(canceled, 0, 1) {
		// Our own earlier try (whose answer was lost), or somebody's item
		// where the counter points: the pet item says which.
		if ours, _ := s.ours(ctx, in, id); ours {
			return nil
		}
		return &IntegrityError{Msg: fmt.Sprintf("pet %d already exists, but the counter (pet/0, next) had handed out only up to %d: "+
			"the table is inconsistent; set next to the highest id stored (docs/troubleshooting.md)", id, id-1)}
	}
	if errors.As(err, &canceled) && conditionFailed(canceled, 2) {
		return errKeyUsed
	}
	if outcomeUnknown(err) {
		// Check once, even when the caller's time is up, whether the pet
		// was written: a 503 must not invite a retry that stores it twice.
		checkCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		ours, checkErr := s.ours(checkCtx, in, id)
		if ours {
			return nil
		}
		if checkErr != nil {
			return fmt.Errorf("%w: %w", ErrOutcomeUnknown, storeError("TransactWriteItems", err))
		}
	}
	return storeError("TransactWriteItems", err)
}

// conditionFailed reports whether the condition of one of the transaction's
// items at the given indexes failed.
func conditionFailed(e *types.TransactionCanceledException, indexes ...int) bool {
	for _, i := range indexes {
		if i < len(e.CancellationReasons) && aws.ToString(e.CancellationReasons[i].Code) == "ConditionalCheckFailed" {
			return true
		}
	}
	return false
}

func allIndexes(n int) []int {
	indexes := make([]int, n)
	for i := range indexes {
		indexes[i] = i
	}
	return indexes
}

// ours reports whether pet id is stored with the token of transaction in.
func (s *DynamoStore) ours(ctx context.Context, in *dynamodb.TransactWriteItemsInput, id int64) (bool, error) {
	item, err := s.getItem(ctx, key(pkPet, id))
	if err != nil {
		return false, err
	}
	token, ok := item[attrCreateToken].(*types.AttributeValueMemberS)
	return ok && token.Value == aws.ToString(in.ClientRequestToken), nil
}

// createTransaction puts pet p in "pet" and in its type's partition, and
// keyItem (nil: none) naming it, each on condition that it is new.
func (s *DynamoStore) createTransaction(p Pet, token string, keyItem map[string]types.AttributeValue) *dynamodb.TransactWriteItemsInput {
	petItem := encodePet(pkPet, p)
	petItem[attrCreateToken] = &types.AttributeValueMemberS{Value: token}
	items := []types.TransactWriteItem{
		{Put: newItem(s.table, petItem)},
		{Put: newItem(s.table, encodePet(pkType+p.Type, p))},
	}
	if keyItem != nil {
		k := maps.Clone(keyItem)
		k[attrID] = number(p.ID)
		items = append(items, types.TransactWriteItem{Put: newItem(s.table, k)})
	}
	return &dynamodb.TransactWriteItemsInput{ClientRequestToken: aws.String(token), TransactItems: items}
}

// idempotencyHash scopes an Idempotency-Key to its caller: two callers
// may use the same key. The hash keeps the item's key short and says
// nothing of the key.
func idempotencyHash(createdBy, idempotencyKey string) string {
	sum := sha256.Sum256([]byte(createdBy + "\x00" + idempotencyKey))
	return hex.EncodeToString(sum[:16])
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
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	counter := key(pkPet, 0)
	counter[attrNext] = number(int64(len(ExamplePets)))
	counter[attrCreated] = number(int64(len(ExamplePets)))
	items := []types.TransactWriteItem{}
	for i, n := range ExamplePets {
		p := Pet{ID: int64(i + 1), Type: n.Type, Price: n.Price}
		c, _ := decodeCreated(counter, n.Type)
		counter[createdAttr(n.Type)] = number(c + 1)
		items = append(items,
			types.TransactWriteItem{Put: newItem(s.table, encodePet(pkPet, p))},
			types.TransactWriteItem{Put: newItem(s.table, encodePet(pkType+p.Type, p))})
	}
	items = append(items, types.TransactWriteItem{Put: newItem(s.table, counter)})
	_, err := s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	// Any item already there: seeded before (its items are written together).
	var canceled *types.TransactionCanceledException
	if err != nil && !(errors.As(err, &canceled) && conditionFailed(canceled, allIndexes(len(items))...)) {
		return storeError("seed", err)
	}
	return nil
}

// encodePet is the item of p in partition pk, under its id.
func encodePet(pk string, p Pet) map[string]types.AttributeValue {
	item := key(pk, p.ID)
	item[attrID] = number(p.ID)
	item[attrType] = &types.AttributeValueMemberS{Value: p.Type}
	item[attrPrice] = &types.AttributeValueMemberN{Value: strconv.FormatFloat(p.Price, 'f', -1, 64)}
	if p.CreatedBy != "" {
		item[attrCreatedBy] = &types.AttributeValueMemberS{Value: p.CreatedBy}
	}
	return item
}

// IntegrityError is a table that contradicts itself: an item exists where
// the counter says none can. It is a 500 whose log line says what to
// repair; no retry can pass it.
type IntegrityError struct{ Msg string }

func (e *IntegrityError) Error() string { return "table integrity: " + e.Msg }

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
