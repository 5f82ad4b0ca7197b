package tables

import (
	"strings"
	"testing"
)

// The embedded server holds whatever anyone writes into it, without
// checking credentials: it listens on loopback only.
func TestStartServerListensOnLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0", "example.com:0", "nonsense"} {
		if s, err := StartServer(addr); err == nil || !strings.Contains(err.Error(), "loopback only") {
			if s != nil {
				s.Close()
			}
			t.Errorf("StartServer(%q): %v, want a refusal", addr, err)
		}
	}
	for _, addr := range []string{"127.0.0.1:0", "localhost:0"} {
		s, err := StartServer(addr)
		if err != nil {
			t.Errorf("StartServer(%q): %v", addr, err)
			continue
		}
		s.Close()
	}
}
