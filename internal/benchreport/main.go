// Command benchreport reads `go test -bench` output on stdin and prints the
// medians and ratios that docs/benchmarks.md reports, then exits with status
// 1 if a target of the authorizer's issue is missed (-gate=false only
// reports). `make bench` runs it.
//
// It is a dozen lines of parsing rather than benchstat because what the
// docs quote are ratios between benchmarks of one run, which benchstat does
// not compute.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	gate := flag.Bool("gate", true, "exit with status 1 when a target is missed")
	flag.Parse()
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
		if len(samples[name]["ns/op"]) == 0 {
			continue
		}
		fmt.Printf("| %s | %d | %.2f µs/op | %.0f |\n", name, len(samples[name]["ns/op"]), median(name, "ns/op")/1000, median(name, "allocs/op"))
	}
	// make bench runs `go test -bench` six times, each run measuring the
	// baseline, then Prepared, Fresh, FreshCryptoRSA and Repeat: the i-th
	// sample of a benchmark is divided by the i-th baseline, measured
	// seconds before it, and the median of these ratios is what the targets
	// are checked against. Their range shows how much the machine moved
	// between runs.
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
	var missed []string
	check := func(what string, ok bool) {
		if !ok {
			missed = append(missed, what)
		}
	}
	if len(samples["RSAVerifyBaseline"]["ns/op"]) > 0 {
		fmt.Println()
		if len(samples["RSAVerifyPrepared"]["ns/op"]) > 0 {
			m, lo, hi := ratio("RSAVerifyPrepared")
			fmt.Printf("- RSAVerifyPrepared / RSAVerifyBaseline: %.2fx (runs %.2fx to %.2fx): the same verification with the key prepared once\n", m, lo, hi)
		}
		m, lo, hi := ratio("AuthorizeFresh")
		fmt.Printf("- AuthorizeFresh / RSAVerifyBaseline: **%.2fx** (target 1.3x or less; runs %.2fx to %.2fx)\n", m, lo, hi)
		check("AuthorizeFresh at most 1.3x the baseline", m > 0 && m <= 1.3)
		if len(samples["AuthorizeFreshCryptoRSA"]["ns/op"]) > 0 {
			m, lo, hi = ratio("AuthorizeFreshCryptoRSA")
			fmt.Printf("- AuthorizeFreshCryptoRSA / RSAVerifyBaseline: %.2fx (runs %.2fx to %.2fx): the same with crypto/rsa as it stands\n", m, lo, hi)
		}
		m, lo, hi = ratio("AuthorizeRepeat")
		fmt.Printf("- AuthorizeRepeat / RSAVerifyBaseline: **%.3fx** (target 0.1x or less; runs %.3fx to %.3fx)\n", m, lo, hi)
		check("AuthorizeRepeat at most 0.1x the baseline", m > 0 && m <= 0.1)
	}
	if _, ok := samples["Bootstrap"]; ok {
		first, rss, size := median("Bootstrap", "ms-to-first-answer"), median("Bootstrap", "MiB-peak-RSS"), median("Bootstrap", "MiB-arm64-binary")
		fmt.Println()
		fmt.Printf("- bootstrap, spawn to first answer: **%.1f ms** median (target under 15 ms)\n", first)
		fmt.Printf("- the smallest Go function on the same harness, same run: %.1f ms; the authorizer's own share: **%.1f ms**\n",
			median("Bootstrap", "ms-minimal-function"), median("Bootstrap", "ms-own-cold-start"))
		if f := median("Bootstrap", "page-faults"); f > 0 {
			fmt.Printf("- minor page faults to the first answer: %.0f (the smallest function: %.0f)\n", f, median("Bootstrap", "page-faults-minimal"))
		}
		if us := median("Bootstrap", "us-per-fresh-page"); us > 0 {
			fmt.Printf("- this machine, same run: a first touch of a fresh page costs %.1f µs (lambdatest.FreshPageCost)\n", us)
		}
		fmt.Printf("- bootstrap, peak RSS: **%.1f MiB** (target 16 MiB or less)\n", rss)
		fmt.Printf("- bootstrap, linux/arm64 binary: **%.1f MiB** (target 10 MiB or less)\n", size)
		check("first answer under 15 ms", first > 0 && first < 15)
		check("peak RSS 16 MiB or less", rss > 0 && rss <= 16)
		check("binary 10 MiB or less", size > 0 && size <= 10)
	}
	if len(missed) > 0 {
		fmt.Printf("\nmissed: %s\n", strings.Join(missed, "; "))
		if *gate {
			os.Exit(1)
		}
	}
}
