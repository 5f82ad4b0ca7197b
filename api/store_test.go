package api

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestMemoryStoreList(t *testing.T) {
	s := NewMemoryStore()
	ctx := context.Background()
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
		total   int
	}{
		{"all on one page", ListQuery{Page: 1, PageSize: 10}, []int64{1, 2, 3, 4, 5, 6}, 6},
		{"first page", ListQuery{Page: 1, PageSize: 4}, []int64{1, 2, 3, 4}, 6},
		{"last page is short", ListQuery{Page: 2, PageSize: 4}, []int64{5, 6}, 6},
		{"past the end is empty", ListQuery{Page: 3, PageSize: 4}, []int64{}, 6},
		{"far past the end is empty", ListQuery{Page: MaxPage, PageSize: PageSize}, []int64{}, 6},
		{"by type", ListQuery{Type: "dog", Page: 1, PageSize: 10}, []int64{1, 4, 5}, 3},
		{"by type, paged", ListQuery{Type: "dog", Page: 2, PageSize: 2}, []int64{5}, 3},
		{"a type nobody has", ListQuery{Type: "bird", Page: 1, PageSize: 10}, []int64{}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			page, err := s.List(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			ids := []int64{}
			for _, p := range page.Pets {
				ids = append(ids, p.ID)
			}
			if !reflect.DeepEqual(ids, tc.wantIDs) || page.Total != tc.total {
				t.Errorf("ids %v total %d, want %v total %d", ids, page.Total, tc.wantIDs, tc.total)
			}
		})
	}
}

func TestMemoryStoreListRefusesAnInvalidPage(t *testing.T) {
	for _, q := range []ListQuery{{Page: 0, PageSize: 10}, {Page: 1, PageSize: 0}} {
		if _, err := NewMemoryStore().List(context.Background(), q); err == nil {
			t.Errorf("%+v: no error", q)
		}
	}
}

func TestMemoryStoreGet(t *testing.T) {
	s := NewMemoryStore()
	tests := []struct {
		id      int64
		want    Pet
		wantErr error
	}{
		{1, Pet{ID: 1, Type: "dog", Price: 249.99}, nil},
		{2, Pet{ID: 2, Type: "cat", Price: 124.99}, nil},
		{3, Pet{ID: 3, Type: "fish", Price: 0.99}, nil},
		{0, Pet{}, ErrNotFound},
		{4, Pet{}, ErrNotFound},
		{-1, Pet{}, ErrNotFound},
	}
	for _, tc := range tests {
		got, err := s.Get(context.Background(), tc.id)
		if got != tc.want || !errors.Is(err, tc.wantErr) {
			t.Errorf("Get(%d) = %+v, %v; want %+v, %v", tc.id, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestMemoryStoreCreateAssignsTheNextID(t *testing.T) {
	s := NewMemoryStore()
	ctx := context.Background()
	first, err := s.Create(ctx, NewPet{Type: "bird", Price: 12.5, CreatedBy: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.Create(ctx, NewPet{Type: "cat", Price: 3, CreatedBy: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	if want := (Pet{ID: 4, Type: "bird", Price: 12.5, CreatedBy: "alice"}); first != want {
		t.Errorf("first %+v, want %+v", first, want)
	}
	if second.ID != 5 {
		t.Errorf("second id %d, want 5", second.ID)
	}
	if got, err := s.Get(ctx, 4); err != nil || got != first {
		t.Errorf("Get(4) = %+v, %v; want %+v", got, err, first)
	}
}

func TestMemoryStoreHonoursContext(t *testing.T) {
	s := NewMemoryStore()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.List(ctx, ListQuery{Page: 1, PageSize: 10}); !errors.Is(err, context.Canceled) {
		t.Errorf("List: %v", err)
	}
	if _, err := s.Get(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("Get: %v", err)
	}
	if _, err := s.Create(ctx, NewPet{Type: "dog", Price: 1}); !errors.Is(err, context.Canceled) {
		t.Errorf("Create: %v", err)
	}
	if page, _ := s.List(context.Background(), ListQuery{Page: 1, PageSize: 10}); page.Total != 3 {
		t.Errorf("a cancelled Create stored a pet: %d pets", page.Total)
	}
}

// A MemoryStore holds at most MaxMemoryPets: then Create refuses, and the
// API answers 507 without losing a pet it already holds.
func TestMemoryStoreIsBounded(t *testing.T) {
	s := NewMemoryStore()
	ctx := context.Background()
	for i := 3; i < MaxMemoryPets; i++ {
		if _, err := s.Create(ctx, NewPet{Type: "fish", Price: 1}); err != nil {
			t.Fatalf("create %d: %v", i+1, err)
		}
	}
	if _, err := s.Create(ctx, NewPet{Type: "fish", Price: 1}); !errors.Is(err, ErrStoreFull) {
		t.Fatalf("create past MaxMemoryPets: %v, want ErrStoreFull", err)
	}
	if page, err := s.List(ctx, ListQuery{Page: 1, PageSize: 1}); err != nil || page.Total != MaxMemoryPets {
		t.Errorf("List total %d, %v; want %d", page.Total, err, MaxMemoryPets)
	}

	handler := NewLambdaHandler(NewRouter(Options{Store: s, Logger: discardLogger()}))
	res, err := handler(ctx, event(t, "create-pet"))
	if err != nil || res.StatusCode != 507 || !strings.Contains(res.Body, "the store is full") {
		t.Errorf("POST /pets to a full store: %v %d %s, want 507", err, res.StatusCode, res.Body)
	}
}
