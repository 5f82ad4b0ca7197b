package main

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary builds cmd/local once for the tests that run it as a user does.
var binary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "cmd-local-test")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "local")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", errors.New(string(out))
	}
	return bin, nil
})

func build(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds cmd/local")
	}
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bin, err := binary(); err == nil {
		os.RemoveAll(filepath.Dir(bin))
	}
	os.Exit(code)
}

// TestHelpExitsZeroAndDescribesEveryCommand: -h is a question, not an
// error, and its answer names each subcommand.
func TestHelpExitsZeroAndDescribesEveryCommand(t *testing.T) {
	bin := build(t)
	for _, args := range [][]string{{"-h"}, {"-help"}, {"help"}, {"serve", "-h"}} {
		var stderr strings.Builder
		cmd := exec.Command(bin, args...)
		cmd.Stderr = &stderr
		out, err := cmd.Output() // the help on stdout, so that -h | less shows it
		if err != nil || stderr.Len() > 0 {
			t.Errorf("%v: %v, stderr %q\n%s", args, err, stderr.String(), out)
		}
		for _, want := range []string{"serve ", "token ", "event ", "-idp-extra-listen", "-template"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("%v: the help lacks %q:\n%s", args, want, out)
			}
		}
		if strings.Contains(string(out), "error") {
			t.Errorf("%v: the help reports an error:\n%s", args, out)
		}
	}
	for _, cmd := range []string{"token", "event"} {
		out, err := exec.Command(bin, cmd, "-h").Output()
		if err != nil || !strings.Contains(string(out), "go run ./cmd/local "+cmd) || !strings.Contains(string(out), "-issuer") {
			t.Errorf("%s -h: %v\n%s", cmd, err, out)
		}
	}
	out, err := exec.Command(bin, "-no-such-flag").CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(out), "-no-such-flag") {
		t.Errorf("a bad flag: %v\n%s", err, out)
	}
	// An unknown command is a usage error too: status 2, on stderr.
	var stderr strings.Builder
	cmd := exec.Command(bin, "sevre")
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if !errors.As(err, &exit) || exit.ExitCode() != 2 || len(stdout) > 0 || !strings.Contains(stderr.String(), `unknown command "sevre"`) {
		t.Errorf("an unknown command: %v, stdout %q, stderr %q", err, stdout, stderr.String())
	}
}

// TestRunsFromAnyDirectoryAndStopsQuietlyOnCtrlC starts the stack from a
// subdirectory of the repository (the template is found at its root),
// checks the banner is the first thing printed, and stops it with SIGINT,
// which is the documented way to stop: exit status 0.
func TestRunsFromAnyDirectoryAndStopsQuietlyOnCtrlC(t *testing.T) {
	bin := build(t)
	cmd := exec.Command(bin, "-idp-port", "0", "-gateway-port", "0", "-web-port", "0")
	cmd.Dir = filepath.Join("..", "..", "docs")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	lines := lineStream(stdout)
	var seen []string
	timeout := time.After(60 * time.Second)
	for ready := false; !ready; {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("exited before its banner:\n%s", strings.Join(seen, "\n"))
			}
			seen = append(seen, l)
			ready = strings.HasPrefix(l, "Try: ")
		case <-timeout:
			t.Fatalf("no banner within 60 s:\n%s", strings.Join(seen, "\n"))
		}
	}
	if first := strings.TrimSpace(strings.Join(seen, "\n")); !strings.HasPrefix(first, "PetStore stack running") {
		t.Errorf("the banner is not the first thing printed:\n%s", first)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	for l := range lines {
		seen = append(seen, l)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("after Ctrl-C: %v (want exit status 0)\n%s", err, strings.Join(seen, "\n"))
	}
	if all := strings.Join(seen, "\n"); strings.Contains(all, "registered route") {
		t.Errorf("the provider library's route lines are printed:\n%s", all)
	}
	if last := seen[len(seen)-1]; last != "stopping..." {
		t.Errorf("the last line is %q, want stopping...", last)
	}
}

// TestOutsideTheRepositoryTheErrorSaysWhatToDo: without a template to
// find, the error says how to give one.
func TestOutsideTheRepositoryTheErrorSaysWhatToDo(t *testing.T) {
	bin := build(t)
	cmd := exec.Command(bin, "-idp-port", "0", "-gateway-port", "0", "-web-port", "0")
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(string(out), "give -template PATH") {
		t.Errorf("%v\n%s", err, out)
	}
}

// TestMakeLocalExitsZeroOnCtrlCFromATerminal runs `make local` as a person
// does, under a pseudo-terminal (util-linux script), and types Ctrl-C once
// the banner is out: make must end with status 0 and no "make: ***" line.
// Without internal/foreground the terminal's SIGINT also reaches make,
// which then exits 130.
func TestMakeLocalExitsZeroOnCtrlCFromATerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs make local")
	}
	for _, tool := range []string{"make", "script"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed (script is in util-linux/bsdutils): %v", tool, err)
		}
	}
	cmd := exec.Command("script", "-qec", "make local ARGS='-idp-port 0 -gateway-port 0 -web-port 0'", "/dev/null")
	cmd.Dir = filepath.Join("..", "..")
	keys, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	screen, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	lines := lineStream(screen)
	var seen []string
	timeout := time.After(5 * time.Minute) // make local compiles first
	for ready := false; !ready; {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("make local ended before its banner:\n%s", strings.Join(seen, "\n"))
			}
			seen = append(seen, l)
			ready = strings.HasPrefix(l, "Try: ")
		case <-timeout:
			t.Fatalf("no banner within 5 minutes:\n%s", strings.Join(seen, "\n"))
		}
	}
	if _, err := keys.Write([]byte{3}); err != nil { // Ctrl-C
		t.Fatal(err)
	}
	for l := range lines {
		seen = append(seen, l)
	}
	all := strings.Join(seen, "\n")
	if err := cmd.Wait(); err != nil {
		t.Errorf("make local after Ctrl-C: %v, want exit status 0\n%s", err, all)
	}
	if strings.Contains(all, "make: ***") || !strings.Contains(all, "stopping...") {
		t.Errorf("want the stack's own stop and no make error:\n%s", all)
	}
}

// lineStream sends each line read from r, and closes at its end.
func lineStream(r io.Reader) <-chan string {
	lines := make(chan string, 100)
	go func() {
		s := bufio.NewScanner(r)
		for s.Scan() {
			lines <- s.Text()
		}
		close(lines)
	}()
	return lines
}
