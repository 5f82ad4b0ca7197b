package api

import (
	"slices"
	"strings"
)

// Pet is one animal for sale, as the API returns it.
type Pet struct {
	ID    int64   `json:"id"`
	Type  string  `json:"type"`
	Price float64 `json:"price"`
	// CreatedBy is the principal that created the pet; the seeded pets have
	// none.
	CreatedBy string `json:"createdBy,omitempty"`
}

// NewPet is a validated pet to create: Store implementations may trust it.
type NewPet struct {
	Type      string
	Price     float64
	CreatedBy string
	// IdempotencyKey, when set, is the caller's Idempotency-Key header: a
	// create with a key that CreatedBy used before stores nothing and
	// returns the pet of the first.
	IdempotencyKey string
}

// PetTypes are the kinds of pet the store sells, in the order the API
// documents them.
var PetTypes = []string{"dog", "cat", "fish", "bird"}

// ValidPetType reports whether t is one of PetTypes (exact, lower case).
func ValidPetType(t string) bool { return slices.Contains(PetTypes, t) }

var petTypeList = strings.Join(PetTypes, ", ")

// Limits of the API.
const (
	// PageSize is how many pets GET /pets returns per page.
	PageSize = 10
	// MaxIdempotencyKey is the longest Idempotency-Key header accepted.
	MaxIdempotencyKey = 128
	// MaxPrice bounds prices so that every accepted price is a finite
	// float64 with exact cents.
	MaxPrice = 1_000_000
	// MaxBodyBytes is the largest request body accepted (64 KiB).
	MaxBodyBytes = 64 << 10
)
