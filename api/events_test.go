package api

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// sampleEventStatus is what each events/petstore-*.json (the events of
// `sam local invoke PetStoreFunction -e ...`) must get from a fresh
// function. A new sample needs a line here.
var sampleEventStatus = map[string]int{
	"petstore-list-pets.json":  200,
	"petstore-create-pet.json": 201,
	"petstore-me.json":         200,
}

func TestSampleEventsForSamLocalInvoke(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "events", "petstore-*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(sampleEventStatus) {
		t.Errorf("%d sample events %v, want the %d of sampleEventStatus", len(files), files, len(sampleEventStatus))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			want, ok := sampleEventStatus[filepath.Base(f)]
			if !ok {
				t.Fatalf("%s has no expected status in sampleEventStatus", f)
			}
			ev := readEvent(t, f)
			if _, ok := ev.RequestContext.Authorizer["principalId"].(string); !ok {
				t.Errorf("no authorizer context with a principalId: %v", ev.RequestContext.Authorizer)
			}
			if !strings.HasPrefix(ev.Headers["Authorization"], "Bearer ") {
				t.Errorf("Authorization header %q: a gateway request always has one", ev.Headers["Authorization"])
			}
			res, err := NewLambdaHandler(NewRouter(Options{Store: testStore(t), Logger: discardLogger()}))(context.Background(), ev)
			if err != nil || res.StatusCode != want {
				t.Errorf("%v %d %s, want %d", err, res.StatusCode, res.Body, want)
			}
		})
	}
}
