package lambdatest

import (
	"os"
	"slices"
	"testing"
	"time"
)

// BenchFirstAnswer is a function's cold-start benchmark: it spawns
// bootstrap (with env) and the smallest Go function (minimal) in turn, so
// that a machine slowing down weighs on both alike, each answering payload
// once, and reports the medians of their spawn-to-first-answer times, the
// bootstrap's peak RSS and the size of the arm64 deployment binary at
// deployed.
func BenchFirstAnswer(b *testing.B, bootstrap, minimal, deployed string, payload []byte, env ...string) {
	b.Helper()
	info, err := os.Stat(deployed)
	if err != nil {
		b.Fatal(err)
	}
	firstAnswer := func(bin string, env ...string) (ms float64, peak int64) {
		rt := NewRuntime(b)
		proc := rt.Start(b, bin, env...)
		res, err := rt.InvokeProcess(proc, payload, 10*time.Second)
		took := time.Since(proc.Started)
		if err != nil || res.Err != nil {
			b.Fatalf("%v %v\n%s", err, res.Err, proc.Output())
		}
		if peak, err = proc.PeakRSS(); err != nil {
			b.Fatal(err)
		}
		proc.Stop()
		return float64(took.Microseconds()) / 1000, peak
	}
	var functionMS, minimalMS []float64
	var rss []int64
	b.ResetTimer()
	for range b.N {
		ms, peak := firstAnswer(bootstrap, env...)
		floor, _ := firstAnswer(minimal)
		functionMS, minimalMS, rss = append(functionMS, ms), append(minimalMS, floor), append(rss, peak)
	}
	b.StopTimer()
	slices.Sort(functionMS)
	slices.Sort(minimalMS)
	slices.Sort(rss)
	b.ReportMetric(functionMS[len(functionMS)/2], "ms-to-first-answer")
	b.ReportMetric(minimalMS[len(minimalMS)/2], "ms-minimal-function")
	b.ReportMetric(float64(rss[len(rss)/2])/(1<<20), "MiB-peak-RSS")
	b.ReportMetric(float64(info.Size())/(1<<20), "MiB-arm64-binary")
}
