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

func relaunch(exe string, args []string) (int, bool, error) {
	const tty = 0 // standard input
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
	err = cmd.Wait()
	// This process is now in a background group: taking the terminal back
	// raises SIGTTOU, which would stop it, unless ignored.
	signal.Ignore(syscall.SIGTTOU)
	restoreErr := unix.IoctlSetPointerInt(tty, unix.TIOCSPGRP, fg)
	signal.Reset(syscall.SIGTTOU)
	if restoreErr != nil {
		restoreErr = fmt.Errorf("give the terminal back to process group %d: %w", fg, restoreErr)
	}
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, true, restoreErr
	case errors.As(err, &exit):
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), true, restoreErr
		}
		return exit.ExitCode(), true, restoreErr
	default:
		return 1, true, errors.Join(err, restoreErr)
	}
}
