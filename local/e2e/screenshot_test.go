package e2e

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

func encodePNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestPixelsChanged: one pixel of a hundred is 1%, equal images or a
// channel a level or two apart 0, other sizes 1.
func TestPixelsChanged(t *testing.T) {
	white := func(w, h int) *image.RGBA {
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		for i := range img.Pix {
			img.Pix[i] = 255
		}
		return img
	}
	a, b := white(10, 10), white(10, 10)
	if got, err := pixelsChanged(encodePNG(t, a), encodePNG(t, b)); err != nil || got != 0 {
		t.Errorf("equal images: %v, %v; want 0", got, err)
	}
	b.Set(3, 4, color.RGBA{R: 253, G: 254, B: 255, A: 255})
	if got, err := pixelsChanged(encodePNG(t, a), encodePNG(t, b)); err != nil || got != 0 {
		t.Errorf("one pixel 2 levels apart (an anti-aliased edge): %v, %v; want 0", got, err)
	}
	b.Set(3, 4, color.RGBA{R: 246, G: 255, B: 255, A: 255})
	if got, err := pixelsChanged(encodePNG(t, a), encodePNG(t, b)); err != nil || got != 0.01 {
		t.Errorf("one pixel of 100, 9 levels apart: %v, %v; want 0.01", got, err)
	}
	c := white(10, 11)
	if got, err := pixelsChanged(encodePNG(t, a), encodePNG(t, c)); err != nil || got != 1 {
		t.Errorf("other sizes: %v, %v; want 1", got, err)
	}
	if _, err := pixelsChanged([]byte("not a png"), encodePNG(t, a)); err == nil {
		t.Error("not a PNG: no error")
	}
}

// volatilePage holds the kinds of values the web client's pages show that
// change on every run, each run giving other values.
func volatilePage(run int) string {
	v := []struct{ id, ms, at, left, unix, date, jti, kid, hash string }{
		{"bcfbd085-a37d-b361-257f-656d04b5fc2f", "0.3", "08:09:33", "14m 58s", "1796285373", "2026-12-03 08:09:33 UTC", "LVKGK7V4G6DFMOJIASNDN5VEBD", "LTzuWyqMQLp2uJC4GbRnZTPspF2S-XN6UC9eKKPwQfc", "9e3knC_rbJJ-k5TF2-qeug"},
		{"787bc4b4-049d-61f3-3d9a-d0d0c556e384", "12.7", "19:41:02", "9m 3s", "1796330462", "2026-12-03 19:41:02 UTC", "4GPDAD5VICYNNLR462JDLUITAI", "Qx81bd0aRkU3m_fz7N2cPq5wTeVd9yHsLiOg4Jn6XrA", "_dN_Z-jHaMNzMMYmSXKvaw"},
	}[run]
	return fmt.Sprintf(`<!doctype html><html><head><style>body{font:16px monospace}</style></head><body>
<p>Response 201 Created in %s ms</p>
<p>Expires at %s, in %s. <input value="bird" autofocus></p>
<table>
<tr><td>x-amzn-RequestId</td><td>%s</td></tr>
<tr><th>exp</th><td>%s<br><small>%s</small></td></tr>
<tr><td>jti</td><td>%s</td></tr>
<tr><td>at_hash</td><td>%s</td></tr>
</table>
<pre>{
  "alg": "RS256",
  "kid": "%s"
}</pre></body></html>`, v.ms, v.at, v.left, v.id, v.unix, v.date, v.jti, v.hash, v.kid)
}

// TestMaskMakesTwoRunsIdentical: two pages that differ only in volatile
// values give different screenshots, and identical PNG bytes once masked.
func TestMaskMakesTwoRunsIdentical(t *testing.T) {
	chromium := findChromium(t)
	run := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, volatilePage(run))
	}))
	t.Cleanup(srv.Close)
	t.Setenv("SCREENSHOTS_DIR", "")
	b := newBrowser(t, chromium, srv.URL)
	b.t = t
	capture := func(r int, mask bool) []byte {
		t.Helper()
		run = r
		b.open("/")
		b.waitText("pre", "kid")
		return b.capture(fmt.Sprint("run ", r), mask)
	}
	if changed, err := pixelsChanged(capture(0, false), capture(1, false)); err != nil || changed == 0 {
		t.Fatalf("unmasked, the two runs differ in %v of the pixels (%v): want a difference", changed, err)
	}
	masked0, masked1 := capture(0, true), capture(1, true)
	if !bytes.Equal(masked0, masked1) {
		changed, _ := pixelsChanged(masked0, masked1)
		t.Errorf("masked, the two runs still differ: %.3f%% of the pixels", 100*changed)
	}

	// screenshot keeps an unchanged image and rewrites a changed one.
	b.shots = t.TempDir()
	path := filepath.Join(b.shots, "page.png")
	run = 0
	b.open("/")
	b.screenshot("page")
	first, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	stale := time.Now().Add(-time.Hour)
	os.Chtimes(path, stale, stale)
	run = 1
	b.open("/")
	b.screenshot("page")
	if fi, err := os.Stat(path); err != nil || !fi.ModTime().Equal(stale) {
		t.Errorf("an image whose page changed only in volatile values was rewritten (%v)", err)
	}
	b.open("/?other")
	chromedpRun(t, b, `document.querySelector("p").textContent = "Response 200 OK"`)
	b.screenshot("page")
	if now, err := os.ReadFile(path); err != nil || bytes.Equal(now, first) {
		t.Errorf("an image whose page changed by one word was kept (%v)", err)
	}
}

func chromedpRun(t *testing.T, b *browser, js string) {
	t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[any](js)); err != nil {
		t.Fatal(err)
	}
}
