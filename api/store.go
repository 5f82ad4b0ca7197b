package api

import (
	"context"
	"errors"
	"fmt"
)

// Errors of a Store, compared with errors.Is. The handlers branch on them:
// ErrNotFound is a 404, ErrStoreFull a 507, ErrUnavailable a 503 and any
// other error a 500.
var (
	// ErrNotFound is returned by Store.Get for an unknown id.
	ErrNotFound = errors.New("pet not found")
	// ErrStoreFull is returned by Store.Create when the store holds MaxPets.
	ErrStoreFull = errors.New("the store is full")
	// ErrUnavailable wraps a failure that may pass by itself: throttling,
	// an unreachable endpoint, a timeout, a server error of the database.
	ErrUnavailable = errors.New("the pet store is unavailable")
	// ErrOutcomeUnknown wraps a create whose write was sent, got no answer,
	// and could not be checked: the pet may be stored. It is a 503 that
	// does not invite a blind retry.
	ErrOutcomeUnknown = errors.New("the outcome of the create is unknown")
)

// MaxPets is the most pets a Store holds. Any holder of the write scope can
// add pets; the bound keeps the table, and what it costs, small. Create refuses with ErrStoreFull beyond it.
const MaxPets = 10000

// Store keeps the pets. Implementations must be safe for concurrent use,
// also from several processes on the same data, and honour ctx. Errors are
// compared with errors.Is.
type Store interface {
	// List returns one page of the pets matching q: those whose id is
	// greater than q.After, ordered by id, at most q.PageSize; whether more
	// follow; and how many pets match in all. A page past the end is empty,
	// not an error.
	List(ctx context.Context, q ListQuery) (PetPage, error)
	// Get returns the pet with the given id, or ErrNotFound. It sees every
	// Create that returned before it was called.
	Get(ctx context.Context, id int64) (Pet, error)
	// Create stores a new pet under a new id, unique across every process
	// using the same data, and returns it; ErrStoreFull when the store
	// holds MaxPets. A create with an IdempotencyKey that the same
	// CreatedBy used before returns the pet of that create.
	Create(ctx context.Context, p NewPet) (Pet, error)
}

// ListQuery selects a page of pets.
type ListQuery struct {
	Type     string // empty: every type
	After    int64  // the cursor: the last id of the previous page, 0 for the first
	PageSize int
}

func (q ListQuery) check() error {
	if q.After < 0 || q.PageSize < 1 || q.PageSize > maxPageSize {
		return fmt.Errorf("after %d, page size %d: after must not be negative, the size from 1 to %d", q.After, q.PageSize, maxPageSize)
	}
	if q.Type != "" && !ValidPetType(q.Type) {
		return fmt.Errorf("unknown pet type %q", q.Type)
	}
	return nil
}

// PetPage is one page of a List.
type PetPage struct {
	Pets  []Pet
	More  bool // pets matching the query follow this page
	Total int  // pets matching the query across all pages
}

// maxPageSize bounds a page so that one Query reads it (DynamoDB's Limit
// is an int32, and a Query reads at most 1 MB).
const maxPageSize = 1000

// ExamplePets are the pets of API Gateway's PetStore example, which
// SeedExamplePets stores in an empty table for the local stack and the
// tests.
var ExamplePets = []NewPet{
	{Type: "dog", Price: 249.99},
	{Type: "cat", Price: 124.99},
	{Type: "fish", Price: 0.99},
}
