package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// inlineGoTest is a go test command quoted in a paragraph, with a package.
var inlineGoTest = regexp.MustCompile("`(go test [^`]*\\./[^`]*)`")

// documentedGoTests are the go test commands of the docs: those of the
// bash and sh blocks, and those quoted in the text that name a package.
func documentedGoTests(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, b := range docBlocks(t) {
		for _, c := range b.commands {
			if strings.HasPrefix(c.text, "go test ") {
				out = append(out, c.text)
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	tutorial, _ := filepath.Glob(filepath.Join(repoRoot, "docs", "tutorial", "*.md"))
	for _, f := range append(append(files, tutorial...), filepath.Join(repoRoot, "README.md")) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range inlineGoTest.FindAllStringSubmatch(string(b), -1) {
			out = append(out, m[1])
		}
	}
	return out
}

// goTestTarget is what a go test command selects: its packages, and the
// pattern of -fuzz, else -run (unless it runs none), else -bench, else
// every test.
func goTestTarget(command string) (pattern string, pkgs []string) {
	flags := map[string]string{}
	fields := strings.Fields(command)[2:]
	for i := 0; i < len(fields); i++ {
		f := strings.Trim(fields[i], `'"`)
		switch {
		case strings.HasPrefix(f, "./"):
			pkgs = append(pkgs, f)
		case strings.HasPrefix(f, "-"):
			name, value, ok := strings.Cut(strings.TrimLeft(f, "-"), "=")
			if !ok && i+1 < len(fields) && !strings.HasPrefix(fields[i+1], "-") && !strings.HasPrefix(fields[i+1], "./") {
				value, i = strings.Trim(fields[i+1], `'"`), i+1
			}
			flags[name] = value
		}
	}
	pattern = "."
	switch {
	case flags["fuzz"] != "":
		pattern = flags["fuzz"]
	case flags["run"] != "" && flags["run"] != "^$":
		pattern = flags["run"]
	case flags["bench"] != "":
		pattern = flags["bench"]
	}
	return pattern, pkgs
}

var listedName = regexp.MustCompile(`(?m)^(Test|Fuzz|Benchmark|Example)\w*$`)

// listTests runs go test -list and returns the names it lists.
func listTests(t *testing.T, pattern string, pkgs []string) ([]string, error) {
	t.Helper()
	cmd := exec.Command("go", append([]string{"test", "-list", pattern}, pkgs...)...)
	cmd.Dir = repoRoot
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out)
	}
	return listedName.FindAllString(string(out), -1), nil
}

// TestDocsGoTestCommandsNameRealTests: every go test command of the docs
// names packages that exist and a pattern that selects at least one test
// in them, so that a renamed test cannot leave a command that passes by
// running nothing ("no tests to run").
func TestDocsGoTestCommandsNameRealTests(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the test binaries of the documented packages")
	}
	commands := documentedGoTests(t)
	if len(commands) < 3 {
		t.Fatalf("only %d go test commands found in the docs: the parser broke", len(commands))
	}
	for _, c := range commands {
		pattern, pkgs := goTestTarget(c)
		if len(pkgs) == 0 {
			t.Errorf("%q names no package", c)
			continue
		}
		names, err := listTests(t, pattern, pkgs)
		switch {
		case err != nil:
			t.Errorf("%q: %v", c, err)
		case len(names) == 0:
			t.Errorf("%q runs no test: go test -list %s %s lists none", c, pattern, strings.Join(pkgs, " "))
		default:
			t.Logf("%q: %d tests, e.g. %s", c, len(names), names[0])
		}
	}
	// The check can fail: a pattern that names nothing lists nothing.
	if names, err := listTests(t, "TestNoSuchTestAnywhere", []string{"./authorizer"}); err != nil || len(names) != 0 {
		t.Errorf("go test -list of a missing test: %v, %v; want no names", names, err)
	}
}

func TestGoTestTarget(t *testing.T) {
	tests := []struct {
		command, pattern, pkgs string
	}{
		{"go test -run TestRefusedTokens -v ./authorizer", "TestRefusedTokens", "./authorizer"},
		{"go test -race ./webclient/... ./cmd/webclient/...", ".", "./webclient/... ./cmd/webclient/..."},
		{"go test ./api -run '^$' -fuzz FuzzLambdaHandler -fuzztime 300000x", "FuzzLambdaHandler", "./api"},
		{"go test -run=TestBrowser -v ./local/e2e", "TestBrowser", "./local/e2e"},
		{"go test -run '^$' -bench 'AuthorizeFresh' ./authorizer", "AuthorizeFresh", "./authorizer"},
	}
	for _, tt := range tests {
		pattern, pkgs := goTestTarget(tt.command)
		if pattern != tt.pattern || strings.Join(pkgs, " ") != tt.pkgs {
			t.Errorf("%q: %q %q, want %q %q", tt.command, pattern, pkgs, tt.pattern, tt.pkgs)
		}
	}
}
