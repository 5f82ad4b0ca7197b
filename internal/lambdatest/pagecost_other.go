//go:build !linux

package lambdatest

import (
	"errors"
	"time"
)

// FreshPageCost is measured on Linux only, where the bootstraps run.
func FreshPageCost(int) (time.Duration, error) {
	return 0, errors.New("lambdatest: FreshPageCost is measured on Linux only")
}
