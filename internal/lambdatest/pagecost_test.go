package lambdatest

import (
	"runtime"
	"testing"
)

func TestFreshPageCost(t *testing.T) {
	if runtime.GOOS != "linux" {
		if _, err := FreshPageCost(64); err == nil {
			t.Fatal("FreshPageCost measured something off Linux")
		}
		t.Skip("measured on Linux only")
	}
	cost, err := FreshPageCost(64)
	if err != nil {
		t.Fatal(err)
	}
	if cost <= 0 {
		t.Fatalf("FreshPageCost(64) = %v, want a positive time per page", cost)
	}
	for _, pages := range []int{0, -1} {
		if cost, err := FreshPageCost(pages); err == nil {
			t.Errorf("FreshPageCost(%d) = %v, want an error", pages, cost)
		}
	}
}
