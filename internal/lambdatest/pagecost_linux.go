//go:build linux

package lambdatest

import (
	"os"
	"syscall"
	"time"
)

// FreshPageCost is what a first touch of a fresh page costs on this machine:
// it maps pages of anonymous memory, writes a byte to each (one minor page
// fault apiece) and returns the time per page. A process's cold start is
// mostly such faults, so this figure, measured beside a cold start, tells
// how much of it is the machine's rather than the function's.
func FreshPageCost(pages int) (time.Duration, error) {
	size := pages * os.Getpagesize()
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return 0, err
	}
	defer syscall.Munmap(mem)
	start := time.Now()
	for i := 0; i < size; i += os.Getpagesize() {
		mem[i] = 1
	}
	return time.Since(start) / time.Duration(pages), nil
}
