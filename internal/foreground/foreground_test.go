//go:build linux || darwin

package foreground

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain makes the test binary the program under test when
// FOREGROUND_HELPER is set: it relaunches itself, and the relaunched copy
// waits for SIGINT, then exits 3.
func TestMain(m *testing.M) {
	if os.Getenv("FOREGROUND_HELPER") == "" {
		os.Exit(m.Run())
	}
	status, relaunched, err := Relaunch()
	if relaunched {
		fmt.Printf("relaunched: status %d, error %v\n", status, err)
		os.Exit(status)
	}
	interrupt, cont := make(chan os.Signal, 1), make(chan os.Signal, 1)
	signal.Notify(interrupt, os.Interrupt)
	signal.Notify(cont, syscall.SIGCONT)
	fmt.Printf("ready: leader %v\n", syscall.Getpgrp() == os.Getpid())
	for {
		select {
		case <-cont:
			fmt.Println("continued") // after Ctrl-Z and fg, with the terminal
		case <-interrupt:
			fmt.Println("got SIGINT")
			os.Exit(3)
		}
	}
}

// session is a program under script's pseudo-terminal, read line by line.
type session struct {
	t     *testing.T
	cmd   *exec.Cmd
	keys  io.Writer
	lines chan string
	seen  []string
}

func startSession(t *testing.T, command string) *session {
	t.Helper()
	if _, err := exec.LookPath("script"); err != nil {
		t.Fatalf("script (util-linux/bsdutils) is needed: %v", err)
	}
	cmd := exec.Command("script", "-qec", command, "/dev/null")
	cmd.Env = append(os.Environ(), "FOREGROUND_HELPER=1")
	keys, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	screen, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	s := &session{t: t, cmd: cmd, keys: keys, lines: make(chan string, 100)}
	go func() {
		sc := bufio.NewScanner(screen)
		for sc.Scan() {
			s.lines <- strings.TrimSpace(sc.Text())
		}
		close(s.lines)
	}()
	return s
}

// waitFor reads lines until one contains want.
func (s *session) waitFor(want string) {
	s.t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-s.lines:
			if !ok {
				s.t.Fatalf("ended before %q:\n%s", want, strings.Join(s.seen, "\n"))
			}
			s.seen = append(s.seen, l)
			if strings.Contains(l, want) {
				return
			}
		case <-timeout:
			s.t.Fatalf("no %q within 30 s:\n%s", want, strings.Join(s.seen, "\n"))
		}
	}
}

// TestCtrlZStopsTheJobAndFgResumesIt: from an interactive shell, Ctrl-Z
// stops the whole job (the shell gets its prompt back, as without the
// relaunch), fg resumes it with the terminal, and Ctrl-C then still
// reaches the relaunched copy alone.
func TestCtrlZStopsTheJobAndFgResumesIt(t *testing.T) {
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	s := startSession(t, "bash --norc --noprofile -i")
	fmt.Fprintf(s.keys, "sh -c '%s; echo \"the shell saw $?\"'\n", bin)
	s.waitFor("ready: leader true")
	s.keys.Write([]byte{0x1a}) // Ctrl-Z
	s.waitFor("Stopped")
	fmt.Fprintf(s.keys, "echo prompt back\n")
	s.waitFor("prompt back")
	fmt.Fprintf(s.keys, "fg\n")
	s.waitFor("continued")
	s.keys.Write([]byte{3}) // Ctrl-C
	s.waitFor("got SIGINT")
	s.waitFor("the shell saw 3")
	fmt.Fprintf(s.keys, "exit\n")
	if err := s.cmd.Wait(); err != nil {
		t.Errorf("script: %v\n%s", err, strings.Join(s.seen, "\n"))
	}
}

// TestCtrlCReachesOnlyTheRelaunchedProgram runs the program, under a
// pseudo-terminal, from a shell that shares its process group (as make
// does), and types Ctrl-C: the relaunched copy, leader of its own group,
// gets the SIGINT; the shell does not (it lives on to print the status),
// and the status it sees is the copy's.
func TestCtrlCReachesOnlyTheRelaunchedProgram(t *testing.T) {
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	s := startSession(t, fmt.Sprintf(`sh -c '%s; echo "the shell saw $?"'`, bin))
	s.waitFor("ready: leader true")
	s.keys.Write([]byte{3}) // Ctrl-C
	s.waitFor("got SIGINT")
	s.waitFor("relaunched: status 3, error <nil>")
	s.waitFor("the shell saw 3")
	if err := s.cmd.Wait(); err != nil {
		t.Errorf("script: %v\n%s", err, strings.Join(s.seen, "\n"))
	}
}
