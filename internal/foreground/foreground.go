// Package foreground gives a long-running command the terminal's Ctrl-C to
// itself when it runs under another program, such as make, that shares its
// process group.
//
// A terminal sends Ctrl-C's SIGINT to its whole foreground process group.
// `make local` runs the stack in make's own group, so make receives the
// SIGINT too, and GNU make, once its child has exited, re-raises SIGINT on
// itself: the shell sees status 130 even though the stack stopped cleanly.
// No recipe can prevent this. Instead, the command starts itself again in
// a process group of its own and makes that group the terminal's
// foreground: Ctrl-C then reaches only the stack, and this process exits
// with the stack's status, which make passes on. Ctrl-Z still stops the
// whole job and fg resumes it: this process passes the stop on to its own
// group, then the terminal back to the stack.
package foreground

import "os"

// Relaunch runs this program again, with the same arguments, in its own
// process group in the terminal's foreground, when the standard input is
// the controlling terminal and this process is in the foreground group
// without leading it (started by make or go run rather than by a shell).
// Then it returns the status to exit with and true. Otherwise it does
// nothing and returns false: the caller runs as usual.
func Relaunch() (status int, relaunched bool, err error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, false, nil
	}
	return relaunch(exe, os.Args[1:])
}
