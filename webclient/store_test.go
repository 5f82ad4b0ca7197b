package webclient_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/example/petstore-oidc/internal/dynamotest"
	"github.com/example/petstore-oidc/local/tables"
	"github.com/example/petstore-oidc/webclient"
)

// sessionsOn returns a DynamoSessionStore on a fresh sessions table of e,
// created from template.yaml.
func sessionsOn(t testing.TB, e dynamotest.Endpoint) *webclient.DynamoSessionStore {
	t.Helper()
	table := dynamotest.NewSessionsTable(t, e)
	cfg, err := config.LoadDefaultConfig(context.Background(), tables.LocalConfig(e.URL)...)
	if err != nil {
		t.Fatal(err)
	}
	return webclient.NewDynamoSessionStore(dynamodb.NewFromConfig(cfg), table, time.Hour)
}

// storesUnderTest are every SessionStore, each fresh: the contract below
// holds for all of them.
func storesUnderTest(t *testing.T) map[string]func(t *testing.T) webclient.SessionStore {
	return map[string]func(t *testing.T) webclient.SessionStore{
		"memory": func(t *testing.T) webclient.SessionStore { return webclient.NewMemoryStore(time.Hour) },
		"DynamoDB, embedded": func(t *testing.T) webclient.SessionStore {
			return sessionsOn(t, dynamotest.Embedded(t))
		},
		"DynamoDB Local": func(t *testing.T) webclient.SessionStore {
			return sessionsOn(t, dynamotest.DynamoDBLocal(t))
		},
	}
}

func TestSessionStoreContract(t *testing.T) {
	for name, open := range storesUnderTest(t) {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			ctx := context.Background()
			later := time.Now().Add(time.Hour)
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			find := func(id string) (string, bool) {
				t.Helper()
				b, ok, err := s.FindCtx(ctx, id)
				must(err)
				return string(b), ok
			}

			if _, ok := find("never"); ok {
				t.Error("found an id never written")
			}
			must(s.CommitCtx(ctx, "a", []byte("one"), later))
			must(s.CommitCtx(ctx, "a", []byte("two"), later))
			if got, ok := find("a"); !ok || got != "two" {
				t.Errorf("Find after two commits: %q %v", got, ok)
			}

			// Expired: not found, although still stored.
			must(s.CommitCtx(ctx, "old", []byte("x"), time.Now().Add(-time.Second)))
			if _, ok := find("old"); ok {
				t.Error("found an expired session")
			}

			// Delete leaves a tombstone: the id is never written again.
			must(s.DeleteCtx(ctx, "a"))
			if _, ok := find("a"); ok {
				t.Error("found a deleted session")
			}
			if err := s.CommitCtx(ctx, "a", []byte("back"), later); !errors.Is(err, webclient.ErrSessionEnded) {
				t.Fatalf("Commit after Delete: %v, want ErrSessionEnded", err)
			}
			if _, ok := find("a"); ok {
				t.Error("a deleted session came back")
			}
			must(s.DeleteCtx(ctx, "a")) // twice: no error
			must(s.DeleteCtx(ctx, "unknown"))
			if err := s.CommitCtx(ctx, "unknown", []byte("x"), later); !errors.Is(err, webclient.ErrSessionEnded) {
				t.Errorf("Commit after Delete of an id never written: %v", err)
			}

			// Take: once, then a tombstone.
			must(s.CommitCtx(ctx, "flow", []byte("f"), later))
			b, ok, err := s.Take(ctx, "flow")
			if err != nil || !ok || string(b) != "f" {
				t.Fatalf("Take: %q %v %v", b, ok, err)
			}
			if _, ok, _ := s.Take(ctx, "flow"); ok {
				t.Error("taken twice")
			}
			if err := s.CommitCtx(ctx, "flow", []byte("f"), later); !errors.Is(err, webclient.ErrSessionEnded) {
				t.Errorf("Commit after Take: %v", err)
			}
			if _, ok, _ := s.Take(ctx, "missing"); ok {
				t.Error("took an id never written")
			}
			must(s.CommitCtx(ctx, "stale", []byte("x"), time.Now().Add(-time.Second)))
			if _, ok, _ := s.Take(ctx, "stale"); ok {
				t.Error("took an expired entry")
			}

			// Of concurrent Takes, exactly one wins.
			must(s.CommitCtx(ctx, "race", []byte("r"), later))
			var wg sync.WaitGroup
			var won atomic.Int64
			for range 8 {
				wg.Go(func() {
					if _, ok, err := s.Take(ctx, "race"); err == nil && ok {
						won.Add(1)
					}
				})
			}
			wg.Wait()
			if won.Load() != 1 {
				t.Errorf("%d concurrent Takes won, want 1", won.Load())
			}

			// Versions: a save of older tokens never overwrites newer ones.
			must(s.CommitVersionCtx(ctx, "v", []byte("v0"), later, 0))
			must(s.CommitVersionCtx(ctx, "v", []byte("v1"), later, 1))
			must(s.CommitVersionCtx(ctx, "v", []byte("v1 again"), later, 1))
			if err := s.CommitVersionCtx(ctx, "v", []byte("v0 late"), later, 0); !errors.Is(err, webclient.ErrStaleSession) {
				t.Errorf("Commit of an older version: %v, want ErrStaleSession", err)
			}
			if got, _ := find("v"); got != "v1 again" {
				t.Errorf("after a stale commit: %q", got)
			}
			must(s.DeleteCtx(ctx, "v"))
			if err := s.CommitVersionCtx(ctx, "v", []byte("v9"), later, 9); !errors.Is(err, webclient.ErrSessionEnded) {
				t.Errorf("versioned Commit after Delete: %v, want ErrSessionEnded", err)
			}
		})
	}
}
