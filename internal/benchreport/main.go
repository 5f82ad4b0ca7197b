// Command benchreport reads `go test -bench` output on stdin and prints the
// medians and ratios that docs/benchmarks.md reports. It only reports: a
// slow or noisy machine never makes it fail. `make bench` runs it.
//
// It is a dozen lines of parsing rather than benchstat because what the
// docs quote are ratios between benchmarks of one run, which benchstat does
// not compute.
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	samples := map[string]map[string][]float64{} // benchmark -> unit -> values
	var order []string
	cpu := "unknown"
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "cpu: "); ok {
			cpu = strings.TrimSpace(v)
		}
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := strings.TrimPrefix(f[0], "Benchmark")
		if i := strings.LastIndex(name, "-"); i > 0 {
			name = name[:i]
		}
		if samples[name] == nil {
			samples[name] = map[string][]float64{}
			order = append(order, name)
		}
		for i := 2; i+1 < len(f); i += 2 {
			if v, err := strconv.ParseFloat(f[i], 64); err == nil {
				samples[name][f[i+1]] = append(samples[name][f[i+1]], v)
			}
		}
	}
	median := func(name, unit string) float64 {
		v := slices.Clone(samples[name][unit])
		if len(v) == 0 {
			return 0
		}
		slices.Sort(v)
		return v[len(v)/2]
	}

	fmt.Printf("Measured %s on %s (%s/%s, %d CPUs), %s.\n\n", time.Now().UTC().Format("2006-01-02"), cpu, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
	fmt.Println("| benchmark | runs | median | allocs/op |")
	fmt.Println("|---|---|---|---|")
	for _, name := range order {
		if len(samples[name]["ns/op"]) == 0 || name == "Bootstrap" { // its figures follow
			continue
		}
		fmt.Printf("| %s | %d | %.2f µs/op | %.0f |\n", name, len(samples[name]["ns/op"]), median(name, "ns/op")/1000, median(name, "allocs/op"))
	}
	// make bench runs `go test -bench` six times, each run measuring the
	// baseline, then AuthorizeFresh: the i-th sample of AuthorizeFresh is
	// divided by the i-th baseline, measured seconds before it, and the
	// median of these ratios is reported with their range, which shows how
	// much the machine moved between runs.
	ratio := func(name string) (med, lo, hi float64) {
		base, v := samples["RSAVerifyBaseline"]["ns/op"], samples[name]["ns/op"]
		var r []float64
		for i := 0; i < len(base) && i < len(v); i++ {
			r = append(r, v[i]/base[i])
		}
		if len(r) == 0 {
			return 0, 0, 0
		}
		slices.Sort(r)
		return r[len(r)/2], r[0], r[len(r)-1]
	}
	if len(samples["RSAVerifyBaseline"]["ns/op"]) > 0 && len(samples["AuthorizeFresh"]["ns/op"]) > 0 {
		m, lo, hi := ratio("AuthorizeFresh")
		fmt.Printf("\n- AuthorizeFresh / RSAVerifyBaseline: **%.2fx** (runs %.2fx to %.2fx)\n", m, lo, hi)
	}
	if _, ok := samples["Bootstrap"]; ok {
		fmt.Println()
		fmt.Printf("- bootstrap, spawn to first answer: **%.1f ms** median\n", median("Bootstrap", "ms-to-first-answer"))
		fmt.Printf("- the smallest Go function on the same harness, same run: %.1f ms; the authorizer's own share: **%.1f ms**\n",
			median("Bootstrap", "ms-minimal-function"), median("Bootstrap", "ms-own-cold-start"))
		fmt.Printf("- bootstrap, peak RSS: **%.1f MiB**\n", median("Bootstrap", "MiB-peak-RSS"))
		fmt.Printf("- bootstrap, linux/arm64 binary: **%.1f MiB**\n", median("Bootstrap", "MiB-arm64-binary"))
	}
}
