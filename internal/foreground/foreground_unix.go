//go:build linux || darwin

package foreground

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

const tty = 0 // standard input

func relaunch(exe string, args []string) (int, bool, error) {
	fg, err := unix.IoctlGetInt(tty, unix.TIOCGPGRP)
	if err != nil { // not a terminal, or not this process's controlling one
		return 0, false, nil
	}
	if own := unix.Getpgrp(); fg != own || own == os.Getpid() {
		// In the background (Ctrl-C does not reach it), or already the
		// leader of the foreground group, as a shell starts a command.
		return 0, false, nil
	}
	cmd := exec.Command(exe, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Foreground: true, Ctty: tty}
	// From here, signals sent to this process (kill, not the terminal) are
	// passed on to the child, which decides how to stop.
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(signals)
	if err := cmd.Start(); err != nil {
		return 0, true, fmt.Errorf("start %s in its own process group: %w", exe, err)
	}
	go func() {
		for s := range signals {
			cmd.Process.Signal(s)
		}
	}()
	ws, err := waitForeground(cmd.Process.Pid, fg)
	restoreErr := giveTerminal(fg)
	if restoreErr != nil {
		restoreErr = fmt.Errorf("give the terminal back to process group %d: %w", fg, restoreErr)
	}
	switch {
	case err != nil:
		return 1, true, errors.Join(err, restoreErr)
	case ws.Signaled():
		return 128 + int(ws.Signal()), true, restoreErr
	default:
		return ws.ExitStatus(), true, restoreErr
	}
}

// waitForeground waits for the child to end. When Ctrl-Z stops it, this
// process hands the terminal back to its own group and stops that group
// too, so that the shell regains control as it would without the relaunch.
// Once continued (fg), it gives the terminal to the child again if its own
// group has it (not after bg), and continues the child.
func waitForeground(pid, fg int) (syscall.WaitStatus, error) {
	// The stop that kill(0, SIGTSTP) asks for may take effect after kill
	// returns (another thread may take the signal): SIGCONT, which only
	// comes once stopped and continued, says when to go on.
	cont := make(chan os.Signal, 1)
	signal.Notify(cont, syscall.SIGCONT)
	defer signal.Stop(cont)
	for {
		var ws syscall.WaitStatus
		_, err := syscall.Wait4(pid, &ws, syscall.WUNTRACED, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil || !ws.Stopped() {
			return ws, err
		}
		if err := giveTerminal(fg); err != nil {
			return ws, err
		}
		select {
		case <-cont:
		default:
		}
		syscall.Kill(0, syscall.SIGTSTP) // this process and make stop, until fg or bg
		<-cont
		if now, err := unix.IoctlGetInt(tty, unix.TIOCGPGRP); err == nil && now == unix.Getpgrp() {
			if err := giveTerminal(pid); err != nil {
				return ws, err
			}
		}
		syscall.Kill(-pid, syscall.SIGCONT)
	}
}

// giveTerminal makes pgrp the terminal's foreground group. A process of a
// background group that does so gets SIGTTOU, which would stop it, unless
// it is ignored.
func giveTerminal(pgrp int) error {
	signal.Ignore(syscall.SIGTTOU)
	defer signal.Reset(syscall.SIGTTOU)
	return unix.IoctlSetPointerInt(tty, unix.TIOCSPGRP, pgrp)
}
