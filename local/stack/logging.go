package stack

import (
	"bytes"
	"context"
	"log"
	"log/slog"
)

// serverErrorLog is where net/http reports what a handler cannot: a panic
// (the IdP has no recover of its own), a second WriteHeader, an Accept
// error. Without it those go to the log package, which a command may have
// routed anywhere. Only the first line of a message is kept: a panic's
// goroutine dump is not for the log.
func serverErrorLog(l *slog.Logger) *log.Logger {
	return log.New(firstLineWriter{l}, "", 0)
}

type firstLineWriter struct{ l *slog.Logger }

func (w firstLineWriter) Write(p []byte) (int, error) {
	msg, _, _ := bytes.Cut(bytes.TrimSpace(p), []byte("\n"))
	w.l.Error(string(msg))
	return len(p), nil
}

// WithoutRouteLines drops the provider library's start-up lines, one
// "registered route" record per endpoint, which it writes through slog's
// default logger; everything else passes, net/http's and the log package's
// messages included. Commands give it to slog.SetDefault.
func WithoutRouteLines(h slog.Handler) slog.Handler { return routeFilter{h} }

type routeFilter struct{ slog.Handler }

func (f routeFilter) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "registered route" {
		return nil
	}
	return f.Handler.Handle(ctx, r)
}

func (f routeFilter) WithAttrs(as []slog.Attr) slog.Handler {
	return routeFilter{f.Handler.WithAttrs(as)}
}

func (f routeFilter) WithGroup(name string) slog.Handler {
	return routeFilter{f.Handler.WithGroup(name)}
}
