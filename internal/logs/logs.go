// Package logs is the module's one logging seam: the attribute keys and
// values every package uses, attributes made for direct use in a slog call,
// and Sink, the helper each package writes its records through.
//
// A record names its instance with the key "name" (the Config's Name, the
// same word as the metrics' constant label) and its package with the key
// "component" ("breaker", "taskmon", "reloader", "mockstate", "ticker", ...).
// Messages do not repeat the package name. A recovered panic is logged with
// its value under "panic" and its stack, cut to MaxStack bytes, under
// "stack"; an error's message and a panic's value are cut to MaxMessage
// bytes. An outcome (a metric label and a log attribute alike) uses the key
// "result", with one of the values Results lists, and a cancellation is
// spelled "canceled", as Go's context.Canceled. A user's function that calls
// runtime.Goexit where a panic would be recovered is logged as a panic whose
// value is contain.Goexit ("runtime.Goexit").
package logs

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"unicode/utf8"
)

// Keys shared by every package's log records.
const (
	Name      = "name"      // the instance: Config.Name
	Component = "component" // the package: "breaker", "taskmon", ...
	Result    = "result"    // an outcome; also the metric label key
	Panic     = "panic"     // a recovered panic's value
	Stack     = "stack"     // a recovered panic's stack, cut to MaxStack bytes
	Error     = "error"     // an error
)

// Canceled is the one spelling of a cancellation, in label values and log
// attributes alike.
const Canceled = "canceled"

// The values of the "result" label and log attribute: one word for one
// outcome in every package.
const (
	ResultSuccess  = "success"  // the call, task or reload returned nil
	ResultFailure  = "failure"  // it returned an error (a reload also when it called runtime.Goexit)
	ResultPanic    = "panic"    // it panicked
	ResultCanceled = Canceled   // it ended because its own context did
	ResultExited   = "exited"   // a task called runtime.Goexit (taskmon only)
	ResultIgnored  = "ignored"  // an error the breaker does not count (breaker only)
	ResultRejected = "rejected" // a call the breaker refused (breaker only)
)

// Results returns every value of the "result" label and log attribute.
func Results() []string {
	return []string{ResultSuccess, ResultFailure, ResultPanic, ResultCanceled, ResultExited, ResultIgnored, ResultRejected}
}

// MaxStack bounds the bytes of a stack trace written to a log record.
const MaxStack = 8 << 10

// MaxMessage bounds the bytes of an error's message or a panic's value
// written to a log record: an error that lists what it refused (thousands of
// instruments, say) must not make a record of megabytes.
const MaxMessage = 4 << 10

// CutMessage returns s cut to at most MaxMessage bytes (on a rune
// boundary), marking the cut with the number of bytes left out.
func CutMessage(s string) string {
	if len(s) <= MaxMessage {
		return s
	}
	n := MaxMessage - 40 // room for the mark
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + fmt.Sprintf("… (%d more bytes)", len(s)-n)
}

// Logger returns l, or slog.Default() when l is nil. Call it each time a
// record is written, not once at construction, so that a later
// slog.SetDefault is honoured.
func Logger(l *slog.Logger) *slog.Logger {
	if l != nil {
		return l
	}
	return slog.Default()
}

// Sink writes the records of one instance of a component. Its zero Logger
// means slog.Default(), looked up at each record.
type Sink struct {
	Logger    *slog.Logger
	Component string      // the package: "breaker", "ticker", ...
	Name      string      // the instance: Config.Name
	Extra     []slog.Attr // written after the instance's attributes
}

// Enabled reports whether a record at level would be written.
func (s Sink) Enabled(level slog.Level) bool {
	return Logger(s.Logger).Enabled(context.Background(), level)
}

// Log writes a record: the component, the name, Extra, then attrs.
func (s Sink) Log(level slog.Level, msg string, attrs ...slog.Attr) {
	s.LogContext(context.Background(), level, msg, attrs...)
}

// LogContext is Log with the context passed on to the handler.
func (s Sink) LogContext(ctx context.Context, level slog.Level, msg string, attrs ...slog.Attr) {
	l := Logger(s.Logger)
	if !l.Enabled(ctx, level) {
		return
	}
	all := make([]slog.Attr, 0, 2+len(s.Extra)+len(attrs))
	all = append(all, slog.String(Component, s.Component), slog.String(Name, s.Name))
	all = append(all, s.Extra...)
	l.LogAttrs(ctx, level, msg, append(all, attrs...)...)
}

// Attrs returns the instance's attributes followed by more, for a caller
// that writes its own record.
func (s Sink) Attrs(more ...slog.Attr) []slog.Attr {
	all := make([]slog.Attr, 0, 2+len(s.Extra)+len(more))
	all = append(all, slog.String(Component, s.Component), slog.String(Name, s.Name))
	all = append(all, s.Extra...)
	return append(all, more...)
}

// CutStack returns stack cut to at most MaxStack bytes, marking the cut.
func CutStack(stack []byte) string {
	if len(stack) <= MaxStack {
		return string(stack)
	}
	const mark = "\n... (stack cut)"
	return string(stack[:MaxStack-len(mark)]) + mark
}

// PanicValue returns the "panic" attribute for a value recovered from a
// panic (or contain.Goexit).
func PanicValue(v any) slog.Attr { return slog.String(Panic, CutMessage(fmt.Sprint(v))) }

// StackTrace returns the "stack" attribute for a stack captured where a
// panic was recovered (debug.Stack() here when stack is nil), cut to
// MaxStack bytes.
func StackTrace(stack []byte) slog.Attr {
	if stack == nil {
		stack = debug.Stack()
	}
	return slog.String(Stack, CutStack(stack))
}

// Err returns the "error" attribute for err: its message, as a string, cut
// to MaxMessage bytes. An error type that implements json.Marshaler (a
// PanicError, say) would otherwise be written by a JSON handler as an
// object, so every package logs an error through Err. A nil err gives an
// empty attribute, which handlers leave out.
func Err(err error) slog.Attr {
	if err == nil {
		return slog.Attr{}
	}
	return slog.String(Error, CutMessage(err.Error()))
}
