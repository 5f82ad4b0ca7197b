package api

import (
	"context"
	"testing"

	"github.com/example/petstore-oidc/internal/dynamotest"
)

// BenchmarkDynamoStoreList is the store's share of GET /pets on the
// embedded server: client and server in this process, as in the local
// stack.
func BenchmarkDynamoStoreList(b *testing.B) {
	s := newStore(b, dynamotest.Embedded(b), true)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.List(ctx, ListQuery{PageSize: PageSize}); err != nil {
			b.Fatal(err)
		}
	}
}
