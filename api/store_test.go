package api

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/example/petstore-oidc/internal/dynamotest"
	"github.com/example/petstore-oidc/local/tables"
)

// newStore returns a DynamoStore on a fresh table of e, seeded with
// ExamplePets when seed is set.
func newStore(t testing.TB, e dynamotest.Endpoint, seed bool) *DynamoStore {
	t.Helper()
	table := dynamotest.NewTable(t, e)
	return openStore(t, e, table, seed)
}

// openStore is another DynamoStore, with its own client, on the same table:
// another Lambda instance.
func openStore(t testing.TB, e dynamotest.Endpoint, table string, seed bool) *DynamoStore {
	t.Helper()
	client, err := LoadDynamoClient(context.Background(), tables.LocalConfig(e.URL)...)
	if err != nil {
		t.Fatal(err)
	}
	// Generous: the tests share a busy machine with the race detector on;
	// the 5 s of a deployment is measured apart (TestConcurrentCreatesBurst).
	s := NewDynamoStore(client, table).WithTimeout(time.Minute)
	if seed {
		if err := s.SeedExamplePets(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// testStore is a seeded store on the embedded server, for the handler tests.
func testStore(t testing.TB) Store {
	t.Helper()
	return newStore(t, dynamotest.Embedded(t), true)
}

// The contract of Store, run against every DynamoDB-compatible endpoint
// the project supports: the embedded server in every go test, DynamoDB
// Local when installed (and always in CI).
func TestStoreContractEmbedded(t *testing.T) { storeContract(t, dynamotest.Embedded(t)) }

func TestStoreContractDynamoDBLocal(t *testing.T) { storeContract(t, dynamotest.DynamoDBLocal(t)) }

func storeContract(t *testing.T, e dynamotest.Endpoint) {
	ctx := context.Background()
	t.Run("seeded", func(t *testing.T) {
		s := newStore(t, e, true)
		tests := []struct {
			id   int64
			want Pet
			err  error
		}{
			{1, Pet{ID: 1, Type: "dog", Price: 249.99}, nil},
			{2, Pet{ID: 2, Type: "cat", Price: 124.99}, nil},
			{3, Pet{ID: 3, Type: "fish", Price: 0.99}, nil},
			{4, Pet{}, ErrNotFound},
			{0, Pet{}, ErrNotFound},
			{-1, Pet{}, ErrNotFound},
		}
		for _, tc := range tests {
			got, err := s.Get(ctx, tc.id)
			if got != tc.want || !errors.Is(err, tc.err) {
				t.Errorf("Get(%d) = %+v, %v; want %+v, %v", tc.id, got, err, tc.want, tc.err)
			}
		}
		if err := s.SeedExamplePets(ctx); err != nil {
			t.Errorf("seeding again: %v", err)
		}
		if page, err := s.List(ctx, ListQuery{PageSize: 10}); err != nil || page.Total != 3 {
			t.Errorf("seeding twice gave %d pets, %v", page.Total, err)
		}
	})

	t.Run("list pages by id, filtered by type", func(t *testing.T) {
		s := newStore(t, e, true)
		for _, typ := range []string{"dog", "dog", "cat"} {
			if _, err := s.Create(ctx, NewPet{Type: typ, Price: 1, CreatedBy: "alice"}); err != nil {
				t.Fatal(err)
			}
		}
		// The store now holds ids 1 dog, 2 cat, 3 fish, 4 dog, 5 dog, 6 cat.
		tests := []struct {
			name    string
			q       ListQuery
			wantIDs []int64
			more    bool
			total   int
		}{
			{"all on one page", ListQuery{PageSize: 10}, []int64{1, 2, 3, 4, 5, 6}, false, 6},
			{"first page", ListQuery{PageSize: 4}, []int64{1, 2, 3, 4}, true, 6},
			{"last page is short", ListQuery{After: 4, PageSize: 4}, []int64{5, 6}, false, 6},
			{"a full last page", ListQuery{After: 2, PageSize: 4}, []int64{3, 4, 5, 6}, false, 6},
			{"past the end is empty", ListQuery{After: 6, PageSize: 4}, []int64{}, false, 6},
			{"far past the end is empty", ListQuery{After: 1 << 40, PageSize: PageSize}, []int64{}, false, 6},
			{"by type", ListQuery{Type: "dog", PageSize: 10}, []int64{1, 4, 5}, false, 3},
			{"by type, paged", ListQuery{Type: "dog", PageSize: 2}, []int64{1, 4}, true, 3},
			{"by type, from a cursor", ListQuery{Type: "dog", After: 4, PageSize: 2}, []int64{5}, false, 3},
			{"by type, past the end", ListQuery{Type: "cat", After: 6, PageSize: 2}, []int64{}, false, 2},
			{"a type nobody has", ListQuery{Type: "bird", PageSize: 10}, []int64{}, false, 0},
		}
		for _, tc := range tests {
			page, err := s.List(ctx, tc.q)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if ids := idsOf(page.Pets); !reflect.DeepEqual(ids, tc.wantIDs) || page.Total != tc.total || page.More != tc.more {
				t.Errorf("%s: ids %v more %v total %d, want %v more %v total %d", tc.name, ids, page.More, page.Total, tc.wantIDs, tc.more, tc.total)
			}
		}
		page, _ := s.List(ctx, ListQuery{Type: "dog", PageSize: 10})
		if want := (Pet{ID: 4, Type: "dog", Price: 1, CreatedBy: "alice"}); len(page.Pets) != 3 || page.Pets[1] != want {
			t.Errorf("a listed pet is %+v, want %+v", page.Pets, want)
		}
	})

	t.Run("invalid queries are refused", func(t *testing.T) {
		s := newStore(t, e, true)
		for _, q := range []ListQuery{{After: -1, PageSize: 10}, {PageSize: 0}, {PageSize: 10, Type: "unicorn"}} {
			if _, err := s.List(ctx, q); err == nil {
				t.Errorf("%+v: no error", q)
			}
		}
		if _, err := s.Create(ctx, NewPet{Type: "unicorn", Price: 1}); err == nil {
			t.Error("a pet of an unknown type was created")
		}
	})

	t.Run("an empty table", func(t *testing.T) {
		s := newStore(t, e, false)
		if page, err := s.List(ctx, ListQuery{PageSize: 10}); err != nil || page.Total != 0 || len(page.Pets) != 0 {
			t.Errorf("List: %+v, %v", page, err)
		}
		p, err := s.Create(ctx, NewPet{Type: "bird", Price: 12.5, CreatedBy: "alice"})
		if want := (Pet{ID: 1, Type: "bird", Price: 12.5, CreatedBy: "alice"}); err != nil || p != want {
			t.Errorf("first Create = %+v, %v; want %+v", p, err, want)
		}
	})

	t.Run("a create is read at once by another instance", func(t *testing.T) {
		s := newStore(t, e, true)
		other := openStore(t, e, s.Table(), false)
		created, err := s.Create(ctx, NewPet{Type: "bird", Price: 12.5, CreatedBy: "alice"})
		if err != nil {
			t.Fatal(err)
		}
		if want := (Pet{ID: 4, Type: "bird", Price: 12.5, CreatedBy: "alice"}); created != want {
			t.Errorf("Create = %+v, want %+v", created, want)
		}
		if got, err := other.Get(ctx, 4); err != nil || got != created {
			t.Errorf("other instance Get(4) = %+v, %v", got, err)
		}
		next, err := other.Create(ctx, NewPet{Type: "cat", Price: 3, CreatedBy: "bob"})
		if err != nil || next.ID != 5 {
			t.Errorf("other instance Create: id %d, %v; want 5", next.ID, err)
		}
		if page, err := s.List(ctx, ListQuery{Type: "bird", PageSize: 10}); err != nil || !reflect.DeepEqual(page.Pets, []Pet{created}) {
			t.Errorf("List birds = %+v, %v", page.Pets, err)
		}
	})

	t.Run("concurrent creates on two instances get distinct ids", func(t *testing.T) {
		s := newStore(t, e, true)
		instances := []Store{s, openStore(t, e, s.Table(), false)}
		const n = 100
		var wg sync.WaitGroup
		created := make([]Pet, n)
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				created[i], errs[i] = instances[i%2].Create(ctx, NewPet{Type: PetTypes[i%len(PetTypes)], Price: float64(i), CreatedBy: fmt.Sprint("user", i)})
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		ids := idsOf(created)
		slices.Sort(ids)
		for i, id := range ids {
			if id != int64(4+i) {
				t.Fatalf("ids %v, want 4 to %d once each", ids, 3+n)
			}
		}
		var listed []Pet
		for p, q := 0, (ListQuery{PageSize: PageSize}); ; p++ {
			page, err := instances[p%2].List(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if page.Total != 3+n {
				t.Errorf("total %d, want %d", page.Total, 3+n)
			}
			listed = append(listed, page.Pets...)
			if !page.More {
				break
			}
			q.After = page.Pets[len(page.Pets)-1].ID
		}
		if len(listed) != 3+n {
			t.Errorf("%d pets listed, want %d", len(listed), 3+n)
		}
		for _, p := range created {
			if !slices.Contains(listed, p) {
				t.Errorf("%+v is not listed", p)
			}
		}
		perType := 0
		for _, typ := range PetTypes {
			page, err := s.List(ctx, ListQuery{Type: typ, PageSize: 1000})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Pets) != page.Total {
				t.Errorf("%s: %d listed, total %d", typ, len(page.Pets), page.Total)
			}
			perType += page.Total
		}
		if perType != 3+n {
			t.Errorf("the types add up to %d pets, want %d", perType, 3+n)
		}
	})

	t.Run("the bound holds under concurrency", func(t *testing.T) {
		s := newStore(t, e, false)
		setLastID(t, s, MaxPets-2) // as if MaxPets-2 pets existed
		var wg sync.WaitGroup
		results := make([]error, 8)
		for i := range results {
			wg.Go(func() { _, results[i] = s.Create(ctx, NewPet{Type: "fish", Price: 1}) })
		}
		wg.Wait()
		created, full := 0, 0
		for _, err := range results {
			switch {
			case err == nil:
				created++
			case errors.Is(err, ErrStoreFull):
				full++
			default:
				t.Errorf("Create: %v", err)
			}
		}
		if created != 2 || full != 6 {
			t.Errorf("%d created and %d refused as full, want 2 and 6", created, full)
		}
		if _, err := s.Get(ctx, MaxPets); err != nil {
			t.Errorf("pet %d: %v", MaxPets, err)
		}
	})

	t.Run("a cancelled context", func(t *testing.T) {
		s := newStore(t, e, true)
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := s.List(cancelled, ListQuery{PageSize: 10}); !errors.Is(err, context.Canceled) {
			t.Errorf("List: %v", err)
		}
		if _, err := s.Get(cancelled, 1); !errors.Is(err, context.Canceled) {
			t.Errorf("Get: %v", err)
		}
		if _, err := s.Create(cancelled, NewPet{Type: "dog", Price: 1}); !errors.Is(err, context.Canceled) {
			t.Errorf("Create: %v", err)
		}
		if page, _ := s.List(ctx, ListQuery{PageSize: 10}); page.Total != 3 {
			t.Errorf("a cancelled Create stored a pet: %d pets", page.Total)
		}
	})
}

func idsOf(pets []Pet) []int64 {
	ids := []int64{}
	for _, p := range pets {
		ids = append(ids, p.ID)
	}
	return ids
}

// setLastID writes the counter item as if n ids had been handed out.
func setLastID(t testing.TB, s *DynamoStore, n int64) {
	t.Helper()
	item := key(pkPet, 0)
	item[attrNext] = number(n)
	putItem(t, s, item)
}

func putItem(t testing.TB, s *DynamoStore, item map[string]types.AttributeValue) {
	t.Helper()
	if _, err := s.client.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		t.Fatal(err)
	}
}

// A stored item the store did not write is a 500 whose log names the item
// and the attribute; the answer says nothing of it.
func TestDynamoStoreRefusesAnItemItCannotRead(t *testing.T) {
	s := newStore(t, dynamotest.Embedded(t), true)
	item := key(pkPet, 2)
	item[attrID] = number(2)
	item[attrType] = &types.AttributeValueMemberS{Value: "cat"}
	item[attrPrice] = &types.AttributeValueMemberS{Value: "SECRET-ish"}
	putItem(t, s, item)
	_, err := s.Get(context.Background(), 2)
	var decodeErr *DecodeError
	if !errors.As(err, &decodeErr) || !strings.Contains(err.Error(), "pet/2") || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("Get = %v, want a DecodeError naming pet/2 without the value", err)
	}
}
