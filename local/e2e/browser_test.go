package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/color"
	"image/png"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/example/petstore-oidc/internal/dynamotest"
	"github.com/example/petstore-oidc/internal/testlog"
	"github.com/example/petstore-oidc/local/stack"
)

// stepTimeout bounds each step, so that a stuck page fails the test
// instead of hanging it.
const stepTimeout = 20 * time.Second

// TestBrowser follows the tutorial in a real browser: alice signs in, lists
// pets (200), creates one (201) and sees it, tries the no-token and
// tampered-token demonstrations (401), looks at her token and profile and
// signs out; bob signs in and cannot create a pet (403).
func TestBrowser(t *testing.T) {
	chromium := findChromium(t)
	logs := &testlog.Buffer{}
	s := startStack(t, slog.New(slog.NewJSONHandler(logs, nil)))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	b := newBrowser(t, chromium, s.WebURL)

	steps := []struct {
		name string
		run  func(b *browser)
	}{
		{"home page signed out", func(b *browser) {
			b.open("/")
			b.waitText("#signin", "Sign in")
			b.screenshot("01-home-signed-out")
		}},
		{"alice signs in", func(b *browser) {
			b.click("#signin")
			b.fillIdPForm("alice")
			b.screenshot("02-idp-sign-in")
			b.click(`button[type="submit"]`)
			b.waitText("#whoami", "Signed in as Alice Example")
			b.screenshot("03-home-signed-in")
		}},
		{"alice lists pets: 200", func(b *browser) {
			b.open("/console")
			b.waitVisible("#call-list")
			b.screenshot("04-console")
			b.call("#call-list", "200 OK")
			b.waitText("#body", `"type": "dog"`)
			b.screenshot("05-console-list-pets-200")
		}},
		{"alice creates a pet: 201, and sees it", func(b *browser) {
			b.fill("#pet-type", "bird")
			b.fill("#pet-price", "42.5")
			b.call("#call-create", "201 Created")
			b.waitText("#body", `"type": "bird"`)
			b.waitText("#result", "Location")
			b.screenshot("06-console-create-pet-201")
			b.call("#call-list", "200 OK")
			b.waitText("#body", `"type": "bird"`)
		}},
		{"alice's /me is the one docs/api.md shows", func(b *browser) {
			b.call("#call-me", "200 OK")
			b.waitText("#body", `"principal": "alice"`)
			body, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("#body")))
			if err != nil {
				b.t.Fatal(err)
			}
			want := docsMeExample(b.t)
			var got, example map[string]any
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				b.t.Fatalf("the console's /me body is not JSON: %v\n%s", err, body)
			}
			if err := json.Unmarshal([]byte(want), &example); err != nil {
				b.t.Fatalf("docs/api.md's /me example is not JSON: %v\n%s", err, want)
			}
			if !reflect.DeepEqual(got, example) {
				b.t.Errorf("GET /me as alice answers\n%s\ndocs/api.md shows\n%s", body, want)
			}
		}},
		{"no token: 401", func(b *browser) {
			b.call("#call-no-token", "401 Unauthorized")
			b.waitText("#meaning", "no Authorization header")
			b.waitText("#result", "UnauthorizedException")
			b.screenshot("07-console-no-token-401")
		}},
		{"tampered token: 401", func(b *browser) {
			b.call("#call-tampered", "401 Unauthorized")
			b.waitText("#meaning", "signature no longer matches")
			b.screenshot("08-console-tampered-token-401")
		}},
		{"token page", func(b *browser) {
			b.open("/token")
			b.waitText("#token-claims", "pets:write")
			b.waitText("main", "Decoded here for display only")
			b.screenshot("09-token")
		}},
		{"profile page", func(b *browser) {
			b.open("/profile")
			b.waitText("main", "alice@example.com")
			b.screenshot("10-profile")
		}},
		{"alice signs out", func(b *browser) {
			b.click("#signout")
			b.waitText("#signin", "Sign in")
			if loc := b.location(); loc != s.WebURL+"/" {
				b.t.Fatalf("after sign-out the browser is at %s, want %s/", loc, s.WebURL)
			}
			b.screenshot("11-signed-out")
		}},
		{"bob signs in and cannot create a pet: 403", func(b *browser) {
			b.click("#signin")
			b.fillIdPForm("bob")
			b.click(`button[type="submit"]`)
			b.waitText("#whoami", "Signed in as Bob Example")
			b.open("/console")
			b.call("#call-create", "403 Forbidden")
			b.waitText("#result", "AccessDeniedException")
			b.waitText("#meaning", "needs pets:write")
			b.screenshot("12-console-bob-create-403")
			b.call("#call-list", "200 OK")
		}},
		{"narrow screen: every page fits a phone", func(b *browser) {
			b.do("narrow viewport", chromedp.EmulateViewport(412, 860))
			for _, path := range []string{"/", "/token", "/profile", "/console"} {
				b.open(path)
				b.fitsWidth(path)
			}
			b.call("#call-create", "403 Forbidden")
			b.fitsWidth("/console after a 403")
			b.screenshot("13-narrow-console-403")
			b.do("open the provider's home page", chromedp.Navigate(s.IssuerURL+"/"))
			b.waitText("main", "Demo clients")
			b.fitsWidth("the provider's home page")
			b.open("/console")
			b.do("desktop viewport", chromedp.EmulateViewport(1280, 860))
		}},
		{"bob signs out", func(b *browser) {
			b.click("#signout")
			b.waitText("#signin", "Sign in")
		}},
		{"narrow screen: signed out, and the provider's sign-in form", func(b *browser) {
			b.do("narrow viewport", chromedp.EmulateViewport(412, 860))
			b.open("/")
			b.waitText("#signin", "Sign in")
			b.fitsWidth("/ signed out")
			b.click("#signin")
			b.waitVisible(`input[name="username"]`)
			b.fitsWidth("the provider's sign-in form")
			b.tablesLabelled("the provider's sign-in form")
			b.do("open the provider's home page", chromedp.Navigate(s.IssuerURL+"/"))
			b.waitText("main", "Demo clients")
			b.tablesLabelled("the provider's home page")
			b.do("desktop viewport", chromedp.EmulateViewport(1280, 860))
		}},
	}
	for _, step := range steps {
		if !t.Run(step.name, func(t *testing.T) {
			b.t = t
			step.run(b)
		}) {
			return // the later steps build on this one
		}
	}
	if strings.Contains(logs.String(), `"level":"ERROR"`) {
		t.Errorf("the stack logged errors:\n%s", logs.String())
	}
	// The pages came through the deployed code path: the function URL
	// front door and webclient.LambdaHandler, on both instances.
	for _, instance := range []string{`"instance":0`, `"instance":1`} {
		if !regexp.MustCompile(`"msg":"webclient request".*` + instance).MatchString(logs.String()) {
			t.Errorf("no page was served by web client instance %s behind the function URL", instance)
		}
	}
}

// docsMeExample is the JSON example under docs/api.md's GET /me heading.
func docsMeExample(t *testing.T) string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join(repoRoot, "docs", "api.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)### `GET /me`\n+```json\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/api.md has no JSON example under ### `GET /me`")
	}
	return string(m[1])
}

// startStack starts the whole stack on free loopback ports. For the
// documentation's screenshots (SCREENSHOTS_DIR set) it first tries the
// ports a reader sees with `make local`, so that the pages show the same
// URLs.
func startStack(t *testing.T, log *slog.Logger) *stack.Stack {
	t.Helper()
	// Two web client instances behind the function URL, as Lambda may run:
	// the sign-in crosses them.
	opts := stack.Options{TemplatePath: "../../template.yaml", Logger: log, WebInstances: 2}
	if os.Getenv("SCREENSHOTS_DIR") != "" {
		opts.IdPAddr, opts.GatewayAddr, opts.WebAddr = "localhost:9000", "localhost:3000", "localhost:8080"
		s, err := stack.Start(context.Background(), opts)
		if err == nil {
			return s
		}
		t.Logf("the usual ports are taken (%v): the screenshots show other ports", err)
	}
	opts.IdPAddr, opts.GatewayAddr, opts.WebAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	s, err := stack.Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// findChromium returns Debian's chromium. Without it the test skips on a
// developer machine, and fails in CI, where it must run.
func findChromium(t *testing.T) string {
	t.Helper()
	path := os.Getenv("CHROMIUM")
	if path == "" {
		for _, name := range []string{"chromium", "chromium-browser"} {
			if p, err := exec.LookPath(name); err == nil {
				path = p
				break
			}
		}
	}
	if path == "" {
		msg := "chromium not found: install it with `apt-get install -y chromium` (or set CHROMIUM to its path) to run the browser tests"
		if dynamotest.InCI() {
			t.Fatal(msg + " (CI must run them)")
		}
		t.Skip(msg)
	}
	return path
}

// browser is one headless chromium with a fresh profile, driven step by
// step.
type browser struct {
	t     *testing.T
	ctx   context.Context
	web   string
	shots string
}

func newBrowser(t *testing.T, chromium, web string) *browser {
	t.Helper()
	profile := t.TempDir() // removed after the browser has stopped (cleanups run last-in first-out)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true), // containers have a small /dev/shm
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 860),
		chromedp.WSURLReadTimeout(30*time.Second),
	)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	// The first Do starts the browser, which lives as long as the context
	// it is given: ctx itself, not a shorter one. WSURLReadTimeout bounds
	// the start.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium (%s): %v", chromium, err)
	}
	return &browser{t: t, ctx: ctx, web: web, shots: screenshotDir(t)}
}

// screenshotDir is SCREENSHOTS_DIR (make screenshots sets it to
// docs/images), else a temporary directory.
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("SCREENSHOTS_DIR")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// do runs actions within one step's time limit.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("not done within %s", stepTimeout)
		}
		b.t.Fatalf("%s: %v\n(page at %s)\n%s", what, err, b.location(), b.pageText())
	}
}

func (b *browser) open(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.web+path))
}

func (b *browser) click(sel string) {
	b.t.Helper()
	b.do("click "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
}

func (b *browser) fill(sel, value string) {
	b.t.Helper()
	b.do("fill "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.SetValue(chromedp.CSS(sel), value))
}

func (b *browser) waitVisible(sel string) {
	b.t.Helper()
	b.do("wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
}

// waitText waits until the element's text holds want.
func (b *browser) waitText(sel, want string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	var last string
	for ctx.Err() == nil {
		text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err == nil && strings.Contains(text, want) {
			return
		}
		last = text
		time.Sleep(50 * time.Millisecond)
	}
	b.t.Fatalf("%s never showed %q within %s; last text:\n%s\n(page at %s)", sel, want, stepTimeout, last, b.location())
}

// call presses a console button and waits for the answer's status.
func (b *browser) call(button, wantStatus string) {
	b.t.Helper()
	b.click(button)
	b.waitText("#status", wantStatus)
}

// fillIdPForm fills the development IdP's login form (the demo users'
// passwords are their names).
func (b *browser) fillIdPForm(user string) {
	b.t.Helper()
	b.do("fill the sign-in form for "+user,
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), user),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), user),
	)
}

// fitsWidth fails when the page does not fit the viewport's width: it
// scrolls sideways, an element of the header or a table cell lies outside
// the screen, or a cell is squeezed so narrow that its text wraps letter by
// letter.
func (b *browser) fitsWidth(page string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
		const w = document.documentElement.clientWidth, bad = [];
		if (document.documentElement.scrollWidth > w) bad.push("the page is " + document.documentElement.scrollWidth + " px wide in " + w + " px");
		const name = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className ? "." + el.className : "");
		const shown = el => el.getBoundingClientRect().width > 0;
		for (const el of document.querySelectorAll("td, th, pre, .button")) {
			const r = el.getBoundingClientRect();
			if (shown(el) && (r.right > w + 0.5 || r.left < -0.5)) bad.push(name(el) + " lies outside the screen (" + Math.round(r.left) + " to " + Math.round(r.right) + " px)");
		}
		for (const el of document.querySelectorAll("header a, header button, header .who")) {
			const r = el.getBoundingClientRect();
			if (shown(el) && (r.left < 8 || r.right > w - 8)) bad.push(name(el) + " touches the edge of the screen (" + Math.round(r.left) + " to " + Math.round(r.right) + " px)");
		}
		const header = document.querySelector("header");
		if (header && header.getBoundingClientRect().height > 130) bad.push("the header is " + Math.round(header.getBoundingClientRect().height) + " px high: its parts stack");
		for (const td of document.querySelectorAll("td")) {
			const r = td.getBoundingClientRect();
			if (td.textContent.trim().length > 8 && shown(td) && r.width < 96) bad.push(name(td) + " is squeezed to " + Math.round(r.width) + " px: " + td.textContent.trim().slice(0, 30));
		}
		for (const pre of document.querySelectorAll("pre")) {
			if (getComputedStyle(pre).wordBreak === "break-all") bad.push(name(pre) + " breaks words anywhere (word-break: break-all)");
		}
		return bad;
	})()`))
	if err != nil {
		b.t.Fatalf("%s: %v", page, err)
	}
	for _, p := range problems {
		b.t.Errorf("%s at 412 px: %s", page, p)
	}
}

// tablesLabelled fails when a table hides its header row (as a narrow
// screen stacks its cells) and a cell has no label of its own, so that a
// reader cannot tell which value is which.
func (b *browser) tablesLabelled(page string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
		const bad = [];
		for (const table of document.querySelectorAll("table")) {
			const head = table.querySelector("thead");
			if (!head) { bad.push("a table has no header row"); continue; }
			if (head.getBoundingClientRect().height > 0) continue;
			for (const td of table.querySelectorAll("tbody td")) {
				const label = getComputedStyle(td, "::before").content;
				if (!td.dataset.label || !label || label === "none" || label === "normal") bad.push("a cell without its column's label: " + td.textContent.trim().slice(0, 30));
			}
		}
		return bad;
	})()`))
	if err != nil {
		b.t.Fatalf("%s: %v", page, err)
	}
	for _, p := range problems {
		b.t.Errorf("%s at 412 px: %s", page, p)
	}
}

func (b *browser) location() string {
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	return loc
}

func (b *browser) pageText() string {
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
	defer cancel()
	text, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	return text
}

// screenshot saves the whole page as name.png, its volatile values masked
// first. A PNG already there is rewritten only when a pixel differs, so
// that make screenshots changes an image exactly when the page changed.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	// A page still settling (a layout shift, a late font) gives a shot
	// unlike the next: take shots until two in a row agree (the mask is
	// idempotent), at most five.
	png := b.capture(name, true)
	for range 4 {
		again := b.capture(name, true)
		if changed, err := pixelsChanged(png, again); err == nil && changed == 0 {
			break
		}
		png = again
	}
	path := filepath.Join(b.shots, name+".png")
	if old, err := os.ReadFile(path); err == nil {
		changed, err := pixelsChanged(old, png)
		if err != nil {
			b.t.Fatalf("screenshot %s: %v", name, err)
		}
		if changed == 0 {
			b.t.Logf("screenshot %s kept: no pixel changed", path)
			return
		}
		b.t.Logf("screenshot %s: %.3f%% of its pixels changed", path, 100*changed)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot %s written", path)
}

// capture takes a screenshot of the whole page, its volatile values
// masked first when mask is set.
func (b *browser) capture(name string, mask bool) []byte {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if mask {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](maskVolatile)); err != nil {
			b.t.Fatalf("screenshot %s: mask the volatile values: %v", name, err)
		}
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	return png
}

// maskVolatile replaces, in the page's text, the values that change on
// every run with fixed placeholders: request ids, durations, times and
// timestamps, and the per-sign-in claims (jti, nonce, hashes, the key id),
// whose letters, digits, - and _ become x. It also hides the text cursor. Two
// runs of an unchanged page then give the same pixels.
const maskVolatile = `(() => {
	const perRun = new Set(["jti", "nonce", "at_hash", "c_hash", "sid", "kid"]);
	const redact = s => s.replace(/[A-Za-z0-9_-]/g, "x");
	const rules = [
		[/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "00000000-0000-0000-0000-000000000000"],
		[/\b\d+(\.\d+)? ms\b/g, "0.4 ms"],
		[/\b\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC\b/g, "2026-01-01 12:00:00 UTC"],
		[/\b\d{2}:\d{2}:\d{2}\b/g, "12:00:00"],
		[/\b\d+m \d+s\b/g, "14m 59s"],
		[/\b1\d{9}\b/g, "1767268800"],
		[/("(?:kid|jti|nonce|at_hash|c_hash|sid)": ")([^"]*)"/g, (_, k, v) => k + redact(v) + '"'],
	];
	const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
	for (let n = walker.nextNode(); n; n = walker.nextNode()) {
		let t = n.nodeValue;
		for (const [re, to] of rules) t = t.replace(re, to);
		if (t !== n.nodeValue) n.nodeValue = t;
	}
	for (const row of document.querySelectorAll("tr")) {
		const cells = row.querySelectorAll("td, th");
		if (cells.length < 2 || !perRun.has(cells[0].textContent.trim())) continue;
		const values = document.createTreeWalker(cells[1], NodeFilter.SHOW_TEXT);
		for (let n = values.nextNode(); n; n = values.nextNode()) n.nodeValue = redact(n.nodeValue);
	}
	if (!document.getElementById("mask-volatile")) {
		const style = document.createElement("style");
		style.id = "mask-volatile";
		style.textContent = "* { caret-color: transparent !important; transition: none !important; animation: none !important; }";
		document.head.appendChild(style);
	}
	return true;
})()`

// pixelsChanged is the share of pixels that differ between two PNGs by
// more than rasterTolerance in a colour channel; 1 when their sizes differ.
func pixelsChanged(a, b []byte) (float64, error) {
	ia, err := png.Decode(bytes.NewReader(a))
	if err != nil {
		return 0, err
	}
	ib, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	if ia.Bounds() != ib.Bounds() {
		return 1, nil
	}
	r := ia.Bounds()
	differ := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if colourDistance(ia.At(x, y), ib.At(x, y)) > rasterTolerance {
				differ++
			}
		}
	}
	return float64(differ) / float64(r.Dx()*r.Dy()), nil
}

// rasterTolerance is how far (of 255) a channel may move without the pixel
// counting as changed: Chromium draws the anti-aliased edge of a rounded
// corner a level or two apart from one run to the next, while any change
// of text or colour moves pixels by tens of levels.
const rasterTolerance = 8

// colourDistance is the largest difference of the two colours' channels,
// in levels of 255.
func colourDistance(a, b color.Color) uint32 {
	r1, g1, b1, a1 := a.RGBA()
	r2, g2, b2, a2 := b.RGBA()
	d := uint32(0)
	for _, p := range [][2]uint32{{r1, r2}, {g1, g2}, {b1, b2}, {a1, a2}} {
		x, y := p[0]>>8, p[1]>>8
		if x > y {
			x, y = y, x
		}
		d = max(d, y-x)
	}
	return d
}
