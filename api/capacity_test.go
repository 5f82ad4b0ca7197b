package api

import (
	"context"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/example/petstore-oidc/internal/dynamotest"
	"github.com/example/petstore-oidc/local/tables"
)

// capacityMeter asks DynamoDB for the capacity each call consumes and adds
// it up.
type capacityMeter struct {
	mu          sync.Mutex
	read, write float64
}

func (m *capacityMeter) reset() (read, write float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	read, write, m.read, m.write = m.read, m.write, 0, 0
	return read, write
}

func (m *capacityMeter) add(cs ...types.ConsumedCapacity) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range cs {
		m.read += aws.ToFloat64(c.ReadCapacityUnits)
		m.write += aws.ToFloat64(c.WriteCapacityUnits)
		if c.ReadCapacityUnits == nil && c.WriteCapacityUnits == nil {
			m.read += aws.ToFloat64(c.CapacityUnits) // GetItem and Query report the total only
		}
	}
}

func (m *capacityMeter) middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("capacityMeter",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			switch p := in.Parameters.(type) {
			case *dynamodb.GetItemInput:
				p.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
			case *dynamodb.QueryInput:
				p.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
			case *dynamodb.TransactWriteItemsInput:
				p.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
			}
			out, md, err := next.HandleInitialize(ctx, in)
			switch r := out.Result.(type) {
			case *dynamodb.GetItemOutput:
				if r.ConsumedCapacity != nil {
					m.add(*r.ConsumedCapacity)
				}
			case *dynamodb.QueryOutput:
				if r.ConsumedCapacity != nil {
					m.add(*r.ConsumedCapacity)
				}
			case *dynamodb.TransactWriteItemsOutput:
				for _, c := range r.ConsumedCapacity { // per table
					m.add(types.ConsumedCapacity{WriteCapacityUnits: c.CapacityUnits})
				}
			}
			return out, md, err
		}), middleware.After)
}

// TestCapacityUnitsPerRequest measures, on DynamoDB Local, the read
// capacity units each store call consumes: the figures docs/api.md prices
// ("Cost per million requests"), with
// go test ./api -run TestCapacityUnitsPerRequest -v.
func TestCapacityUnitsPerRequest(t *testing.T) {
	e := dynamotest.DynamoDBLocal(t)
	seeded := newStore(t, e, true)
	meter := &capacityMeter{}
	opts := append(tables.LocalConfig(e.URL), config.WithAPIOptions([]func(*middleware.Stack) error{meter.middleware}))
	client, err := LoadDynamoClient(context.Background(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	s := NewDynamoStore(client, seeded.Table())
	ctx := context.Background()
	for range 12 { // enough pets for a second page
		if _, err := s.Create(ctx, NewPet{Type: "dog", Price: 1, CreatedBy: "alice"}); err != nil {
			t.Fatal(err)
		}
	}
	// A create reads nothing (its two UpdateItems and its transaction
	// only write); its transaction's units are not checked: DynamoDB Local
	// reports its own figure, where AWS bills 2 per item written
	// (docs/api.md prices AWS's rule).
	read, write := meter.reset()
	t.Logf("12 creates: %.1f read units, %.1f write units as DynamoDB Local reports them", read, write)
	if read != 0 || write == 0 {
		t.Errorf("12 creates: %.1f read, %.1f write units, want 0 read and some write", read, write)
	}
	tests := []struct {
		name string
		call func() error
		read float64
	}{
		{"GET /pets/{id}", func() error { _, err := s.Get(ctx, 4); return err }, 1},
		{"GET /pets, page 1", func() error { _, err := s.List(ctx, ListQuery{PageSize: PageSize}); return err }, 1},
		{"GET /pets?after=10", func() error { _, err := s.List(ctx, ListQuery{After: 10, PageSize: PageSize}); return err }, 2},
		{"GET /pets?type=dog, page 1", func() error { _, err := s.List(ctx, ListQuery{Type: "dog", PageSize: PageSize}); return err }, 2},
	}
	for _, tc := range tests {
		if err := tc.call(); err != nil {
			t.Fatal(err)
		}
		read, write := meter.reset()
		t.Logf("%s: %.1f read units, %.1f write units", tc.name, read, write)
		if read != tc.read || write != 0 {
			t.Errorf("%s: %.1f read and %.1f write units, want %.1f and 0", tc.name, read, write, tc.read)
		}
	}
}
