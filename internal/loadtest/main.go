// Command loadtest measures the local API Gateway emulator under load with
// wrk, against the same PetStore router served directly over HTTP in the
// same run, and prints what docs/benchmarks.md reports. `make loadtest`
// installs wrk and runs it.
//
// Both targets answer GET /pets from the same store (the stack's DynamoDB
// table, on the embedded server) with the same token and the same logging
// (one JSON line per request, discarded), so the ratio of their costs is the
// gateway's own: authorizer cache lookup, policy evaluation, proxy event and
// the Lambda adapter. The two targets alternate for several rounds, and the
// figures are medians over the rounds. It reports and never fails on
// timing: only a request that gets an error fails it.
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/example/petstore-oidc/api"
	"github.com/example/petstore-oidc/local/stack"
)

func main() {
	duration := flag.Duration("duration", 3*time.Second, "length of each wrk run")
	rounds := flag.Int("rounds", 5, "rounds, each running wrk against the gateway then the router")
	connections := flag.Int("connections", 32, "open connections")
	threads := flag.Int("threads", 2, "wrk threads")
	flag.Parse()
	if err := run(*duration, *rounds, *connections, *threads); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

func run(duration time.Duration, rounds, connections, threads int) error {
	if rounds < 1 {
		return errors.New("-rounds must be at least 1")
	}
	if _, err := exec.LookPath("wrk"); err != nil {
		return errors.New("wrk is not installed: apt-get install -y wrk (make loadtest does it)")
	}
	ctx := context.Background()
	quiet := slog.New(slog.NewJSONHandler(io.Discard, nil))
	// The provider library logs each route it registers through slog's
	// default logger: keep those lines out of the report, and nothing else.
	slog.SetDefault(slog.New(stack.WithoutRouteLines(slog.NewTextHandler(os.Stderr, nil))))
	s, err := stack.Start(ctx, stack.Options{
		TemplatePath: "template.yaml",
		IdPAddr:      "127.0.0.1:0", GatewayAddr: "127.0.0.1:0", WebAddr: "127.0.0.1:0",
		Logger: quiet,
	})
	if err != nil {
		return err
	}
	defer s.Shutdown(ctx)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	direct := &http.Server{Handler: api.NewRouter(api.Options{Store: s.Store, Logger: quiet, DevMode: true})}
	go direct.Serve(ln)
	defer direct.Shutdown(ctx)

	token, err := stack.MachineToken(ctx, s.IssuerURL, []string{"pets:read"})
	if err != nil {
		return err
	}
	targets := []struct{ name, url string }{
		{"gateway (emulator + authorizer + Lambda adapter + router)", s.GatewayURL + "/pets"},
		{"router served directly (dev mode)", "http://" + ln.Addr().String() + "/pets"},
	}
	for _, tg := range targets {
		if err := check(tg.url, token); err != nil {
			return fmt.Errorf("%s: %w", tg.name, err)
		}
		// A short warm-up fills the authorizer cache and connection pools.
		if _, err := runWrk(tg.url, token, 2*time.Second, connections, threads); err != nil {
			return err
		}
	}
	// The two targets alternate, round after round, and each figure is the
	// median over the rounds: a shared machine that slows down for a while
	// then weighs on both alike instead of on whichever ran at that moment.
	runs := make([][]wrkResult, len(targets))
	var ratios, extras []float64
	for range rounds {
		for i, tg := range targets {
			r, err := runWrk(tg.url, token, duration, connections, threads)
			if err != nil {
				return err
			}
			runs[i] = append(runs[i], r)
		}
		gwRPS, directRPS := runs[0][len(runs[0])-1].rps, runs[1][len(runs[1])-1].rps
		ratios = append(ratios, directRPS/gwRPS)
		// What the gateway adds to each request, in µs of the saturated
		// machine: the ratio alone hides it when the store's cost, on both
		// sides, grows.
		extras = append(extras, (1/gwRPS-1/directRPS)*1e6)
	}
	results := make([]wrkResult, len(targets))
	for i := range targets {
		results[i] = medianRun(runs[i])
	}
	slices.Sort(ratios)
	ratio := ratios[len(ratios)/2]
	slices.Sort(extras)
	extra := extras[len(extras)/2]
	gw := results[0]
	fmt.Printf("Measured %s on %s (%d CPUs), %s; GET /pets with a valid token, %d rounds of wrk -t%d -c%d -d%s --latency on each target, alternating; medians.\n\n",
		time.Now().UTC().Format("2006-01-02"), cpuModel(), runtime.NumCPU(), runtime.Version(), rounds, threads, connections, duration)
	fmt.Println("| target | requests/s | p50 | p99 | errors |")
	fmt.Println("|---|---|---|---|---|")
	for i, tg := range targets {
		r := results[i]
		fmt.Printf("| %s | %.0f | %s | %s | %d |\n", tg.name, r.rps, r.p50, r.p99, r.errors)
	}
	fmt.Printf("\n- gateway throughput: **%.0f req/s**\n", gw.rps)
	fmt.Printf("- gateway cost per request / direct cost: **%.2fx** (rounds %.2fx to %.2fx)\n", ratio, ratios[0], ratios[len(ratios)-1])
	fmt.Printf("- the gateway's own cost per request (1/gateway - 1/direct): **%.0f µs** (rounds %.0f to %.0f µs)\n", extra, extras[0], extras[len(extras)-1])
	if n := totalErrors(runs); n > 0 {
		return fmt.Errorf("%d requests failed: the figures above do not measure working requests", n)
	}
	return nil
}

// medianRun is the run with the median throughput.
func medianRun(runs []wrkResult) wrkResult {
	sorted := slices.Clone(runs)
	slices.SortFunc(sorted, func(a, b wrkResult) int { return cmp.Compare(a.rps, b.rps) })
	return sorted[len(sorted)/2]
}

func totalErrors(runs [][]wrkResult) (n int) {
	for _, rs := range runs {
		for _, r := range rs {
			n += r.errors
		}
	}
	return n
}

// check makes one request and insists on a 200, so wrk never measures
// refusals.
func check(url, token string) error {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	return nil
}

type wrkResult struct {
	rps      float64
	p50, p99 string
	errors   int
}

func runWrk(url, token string, d time.Duration, connections, threads int) (wrkResult, error) {
	cmd := exec.Command("wrk", "-t"+strconv.Itoa(threads), "-c"+strconv.Itoa(connections), "-d"+d.String(), "--latency",
		"-H", "Authorization: Bearer "+token, url)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %w\n%s", err, out.String())
	}
	var r wrkResult
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 2 && f[0] == "Requests/sec:":
			r.rps, _ = strconv.ParseFloat(f[1], 64)
		case len(f) == 2 && f[0] == "50%":
			r.p50 = f[1]
		case len(f) == 2 && f[0] == "99%":
			r.p99 = f[1]
		case len(f) >= 4 && f[0] == "Non-2xx":
			n, _ := strconv.Atoi(f[len(f)-1])
			r.errors += n
		case len(f) >= 2 && f[0] == "Socket" && f[1] == "errors:":
			r.errors++
		}
	}
	if r.rps == 0 {
		return r, fmt.Errorf("could not read wrk's output:\n%s", out.String())
	}
	return r, nil
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}
