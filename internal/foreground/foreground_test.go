//go:build linux || darwin

package foreground

import (
	"bufio"
	"fmt"
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
	interrupt := make(chan os.Signal, 1)
	signal.Notify(interrupt, os.Interrupt)
	fmt.Printf("ready: leader %v\n", syscall.Getpgrp() == os.Getpid())
	<-interrupt
	fmt.Println("got SIGINT")
	os.Exit(3)
}

// TestCtrlCReachesOnlyTheRelaunchedProgram runs the program, under a
// pseudo-terminal, from a shell that shares its process group (as make
// does), and types Ctrl-C: the relaunched copy, leader of its own group,
// gets the SIGINT; the shell does not (it lives on to print the status),
// and the status it sees is the copy's.
func TestCtrlCReachesOnlyTheRelaunchedProgram(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Fatalf("script (util-linux/bsdutils) is needed: %v", err)
	}
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("script", "-qec", fmt.Sprintf(`sh -c '%s; echo "the shell saw $?"'`, bin), "/dev/null")
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
	lines := make(chan string, 20)
	go func() {
		s := bufio.NewScanner(screen)
		for s.Scan() {
			lines <- strings.TrimSpace(s.Text())
		}
		close(lines)
	}()
	var seen []string
	timeout := time.After(30 * time.Second)
	for ready := false; !ready; {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("ended before ready:\n%s", strings.Join(seen, "\n"))
			}
			seen = append(seen, l)
			ready = strings.HasPrefix(l, "ready")
		case <-timeout:
			t.Fatalf("not ready within 30 s:\n%s", strings.Join(seen, "\n"))
		}
	}
	keys.Write([]byte{3}) // Ctrl-C
	for l := range lines {
		seen = append(seen, l)
	}
	all := strings.Join(seen, "\n")
	if err := cmd.Wait(); err != nil {
		t.Errorf("script: %v\n%s", err, all)
	}
	for _, want := range []string{"ready: leader true", "got SIGINT", "relaunched: status 3, error <nil>", "the shell saw 3"} {
		if !strings.Contains(all, want) {
			t.Errorf("no %q in:\n%s", want, all)
		}
	}
}
