package api

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"
)

// ErrNotFound is returned by Store.Get for an unknown id.
var ErrNotFound = errors.New("pet not found")

// ErrStoreFull is returned by Store.Create when the store holds as many pets
// as it may.
var ErrStoreFull = errors.New("the store is full")

// MaxMemoryPets is the most pets a MemoryStore holds: any holder of the
// write scope could otherwise fill the function's memory.
const MaxMemoryPets = 10000

// Store keeps the pets. Implementations must be safe for concurrent use and
// honour ctx (a database-backed store passes it to its queries). Errors are
// compared with errors.Is.
type Store interface {
	// List returns one page of the pets matching q, ordered by id, and how
	// many pets match in all. A page past the end is empty, not an error.
	List(ctx context.Context, q ListQuery) (PetPage, error)
	// Get returns the pet with the given id, or ErrNotFound.
	Get(ctx context.Context, id int64) (Pet, error)
	// Create stores a new pet under a new id and returns it.
	Create(ctx context.Context, p NewPet) (Pet, error)
}

// ListQuery selects a page of pets.
type ListQuery struct {
	Type     string // empty: every type
	Page     int    // 1-based
	PageSize int
}

// PetPage is one page of a List.
type PetPage struct {
	Pets  []Pet
	Total int // pets matching the query across all pages
}

// MemoryStore is a Store in process memory, seeded with the example pets of
// API Gateway's PetStore. Its contents live as long as the process (in Lambda:
// one execution environment), so it suits demos and tests, not production.
type MemoryStore struct {
	mu     sync.RWMutex
	pets   []Pet // ordered by id, which only grows
	nextID int64
}

// NewMemoryStore returns a MemoryStore holding pets 1 (dog, 249.99), 2 (cat,
// 124.99) and 3 (fish, 0.99).
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{
		pets: []Pet{
			{ID: 1, Type: "dog", Price: 249.99},
			{ID: 2, Type: "cat", Price: 124.99},
			{ID: 3, Type: "fish", Price: 0.99},
		},
		nextID: 4,
	}
}

// List implements Store.
func (s *MemoryStore) List(ctx context.Context, q ListQuery) (PetPage, error) {
	if err := ctx.Err(); err != nil {
		return PetPage{}, err
	}
	if q.Page < 1 || q.PageSize < 1 {
		return PetPage{}, errors.New("memory store: page and page size must be positive")
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	page := PetPage{Pets: []Pet{}}
	skip := int64(q.Page-1) * int64(q.PageSize)
	for _, p := range s.pets {
		if q.Type != "" && p.Type != q.Type {
			continue
		}
		page.Total++
		if int64(page.Total) > skip && len(page.Pets) < q.PageSize {
			page.Pets = append(page.Pets, p)
		}
	}
	return page, nil
}

// Get implements Store.
func (s *MemoryStore) Get(ctx context.Context, id int64) (Pet, error) {
	if err := ctx.Err(); err != nil {
		return Pet{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if i, ok := slices.BinarySearchFunc(s.pets, id, func(p Pet, id int64) int { return cmp.Compare(p.ID, id) }); ok {
		return s.pets[i], nil
	}
	return Pet{}, ErrNotFound
}

// Create implements Store.
func (s *MemoryStore) Create(ctx context.Context, n NewPet) (Pet, error) {
	if err := ctx.Err(); err != nil {
		return Pet{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.pets) >= MaxMemoryPets {
		return Pet{}, ErrStoreFull
	}
	p := Pet{ID: s.nextID, Type: n.Type, Price: n.Price, CreatedBy: n.CreatedBy}
	s.nextID++
	s.pets = append(s.pets, p)
	return p, nil
}
