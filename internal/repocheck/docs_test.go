package repocheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const root = "../.."

// markdownFiles are README.md and every page under docs/.
func markdownFiles(t *testing.T) []string {
	t.Helper()
	files := []string{filepath.Join(root, "README.md")}
	err := filepath.WalkDir(filepath.Join(root, "docs"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".md") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var (
	linkRe      = regexp.MustCompile(`!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	fenceRe     = regexp.MustCompile("(?s)```.*?```")
	inlineRe    = regexp.MustCompile("`([^`\n]+)`")
	headingRe   = regexp.MustCompile(`(?m)^#{1,6}\s+(.+?)\s*$`)
	makeRe      = regexp.MustCompile(`\bmake ([a-z][a-z0-9-]*)`)
	envTokenRe  = regexp.MustCompile(`^[A-Z][A-Z0-9_]*[A-Z0-9]$`)
	envAssignRe = regexp.MustCompile(`(?m)(?:^|\s)(?:export\s+)?([A-Z][A-Z0-9_]+)=`)
)

// slug is GitHub's anchor for a heading.
func slug(heading string) string {
	heading = strings.ToLower(strings.NewReplacer("`", "", "*", "").Replace(heading))
	var b strings.Builder
	for _, r := range heading {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func anchors(t *testing.T, file string) []string {
	var out []string
	for _, m := range headingRe.FindAllStringSubmatch(fenceRe.ReplaceAllString(read(t, file), ""), -1) {
		out = append(out, slug(m[1]))
	}
	return out
}

func TestLinksAndImagesResolve(t *testing.T) {
	for _, file := range markdownFiles(t) {
		text := fenceRe.ReplaceAllString(read(t, file), "")
		for _, m := range linkRe.FindAllStringSubmatch(text, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path, frag, _ := strings.Cut(target, "#")
			resolved := file
			if path != "" {
				resolved = filepath.Join(filepath.Dir(file), path)
				if _, err := os.Stat(resolved); err != nil {
					t.Errorf("%s: link %q: %v", file, target, err)
					continue
				}
			}
			if frag != "" && strings.HasSuffix(resolved, ".md") && !slices.Contains(anchors(t, resolved), frag) {
				t.Errorf("%s: link %q: no heading #%s in %s", file, target, frag, resolved)
			}
		}
	}
}

func TestMakeTargetsExist(t *testing.T) {
	makefile := read(t, filepath.Join(root, "Makefile"))
	for _, file := range markdownFiles(t) {
		text := read(t, file)
		code := strings.Join(fenceRe.FindAllString(text, -1), "\n")
		for _, m := range inlineRe.FindAllString(fenceRe.ReplaceAllString(text, ""), -1) {
			code += "\n" + m
		}
		for _, m := range makeRe.FindAllStringSubmatch(code, -1) {
			if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(m[1]) + `:`).MatchString(makefile) {
				t.Errorf("%s names `make %s`, which the Makefile does not define", file, m[1])
			}
		}
	}
}

// notEnvironment are upper-case words the docs quote that are not
// environment variables.
var notEnvironment = []string{
	// DynamoDB vocabulary
	"PAY_PER_REQUEST", "HASH", "RANGE", "PITR", "RRU", "WRU", "ADD", "SET", "COUNT",
	// HTTP methods and API Gateway vocabulary
	"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY", "TOKEN", "REQUEST", "NONE",
	"UNAUTHORIZED", "ACCESS_DENIED", "AUTHORIZER_CONFIGURATION_ERROR", "AUTHORIZER_FAILURE",
	"DEFAULT_4XX", "DEFAULT_5XX", "MISSING_AUTHENTICATION_TOKEN", "CAPABILITY_IAM",
	// JOSE and OAuth vocabulary
	"RS256", "PS256", "ES256", "HS256", "JWT", "JWKS", "PKCE", "CSRF", "CORS", "BFF",
	// placeholders in example values
	"YOUR_TENANT", "POOL_ID", "USER_POOL_ID", "REGION", "YOUR_DOMAIN",
	// log levels
	"DEBUG", "INFO", "WARN", "ERROR",
	// shell variables of the examples
	"TOKEN", "API", "READ", "READ_ONLY", "DEMO_PASSWORD", "TOKEN_ENDPOINT", "FN",
}

// toolEnvironment are variables read by tools, not by this repository's code.
// The AWS SDK reads the AWS_ ones (region, credentials, endpoint).
var toolEnvironment = []string{"GOFLAGS", "CGO_ENABLED", "GOTOOLCHAIN", "GOOS", "GOARCH", "GODEBUG", "GOCACHE", "GOMODCACHE", "GOPROXY", "AWS_LAMBDA_RUNTIME_API",
	"AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_ENDPOINT_URL_DYNAMODB"}

// codeEnvironment collects the variables the Go code reads: the string
// given to Getenv/LookupEnv (or a getenv parameter), and the value of every
// constant named Env....
func codeEnvironment(t *testing.T) []string {
	t.Helper()
	var names []string
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() && (d.Name() == ".git" || d.Name() == "build") || !strings.HasSuffix(p, ".go") {
			return err
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				name := ""
				switch fn := n.Fun.(type) {
				case *ast.SelectorExpr:
					name = fn.Sel.Name
				case *ast.Ident:
					name = fn.Name
				}
				if (strings.EqualFold(name, "getenv") || name == "LookupEnv" || name == "Setenv") && len(n.Args) > 0 {
					if s, ok := stringLit(n.Args[0]); ok {
						names = append(names, s)
					}
				}
			case *ast.ValueSpec:
				for i, id := range n.Names {
					if strings.HasPrefix(id.Name, "Env") && i < len(n.Values) {
						if s, ok := stringLit(n.Values[i]); ok {
							names = append(names, s)
						}
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

// makeVariables are the variables the Makefile uses (FUZZTIME, GUIDED...).
func makeVariables(t *testing.T) []string {
	var names []string
	for _, m := range regexp.MustCompile(`\$\(([A-Z][A-Z0-9_]*)\)|(?m)^([A-Z][A-Z0-9_]*)\s*[:?]?=`).FindAllStringSubmatch(read(t, filepath.Join(root, "Makefile")), -1) {
		names = append(names, m[1]+m[2])
	}
	return names
}

// scriptVariables are the variables the scripts read with a default
// (${COLD:-}).
func scriptVariables(t *testing.T) []string {
	var names []string
	files, err := filepath.Glob(filepath.Join(root, "scripts", "*.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		for _, m := range regexp.MustCompile(`\$\{([A-Z][A-Z0-9_]*):-`).FindAllStringSubmatch(read(t, f), -1) {
			names = append(names, m[1])
		}
	}
	return names
}

func TestEnvironmentVariablesAreReadByTheCode(t *testing.T) {
	known := append(append(codeEnvironment(t), makeVariables(t)...), scriptVariables(t)...)
	for _, want := range []string{"ISSUER", "AUDIENCE", "JWKS_URI", "ROUTE_SCOPES"} {
		if !slices.Contains(known, want) {
			t.Fatalf("the scan of the code misses %s: the test is broken", want)
		}
	}
	for _, file := range markdownFiles(t) {
		text := read(t, file)
		var mentioned []string
		for _, m := range inlineRe.FindAllStringSubmatch(fenceRe.ReplaceAllString(text, ""), -1) {
			word, _, _ := strings.Cut(m[1], "=")
			if envTokenRe.MatchString(word) {
				mentioned = append(mentioned, word)
			}
		}
		for _, block := range fenceRe.FindAllString(text, -1) {
			for _, m := range envAssignRe.FindAllStringSubmatch(block, -1) {
				mentioned = append(mentioned, m[1])
			}
		}
		for _, name := range mentioned {
			if !slices.Contains(known, name) && !slices.Contains(notEnvironment, name) && !slices.Contains(toolEnvironment, name) {
				t.Errorf("%s names %s, which no code reads", file, name)
			}
		}
	}
}
