// Package logging builds the server's slog logger and carries the request
// identifier in contexts, so every line logged while serving a request names
// that request.
package logging

import (
	"context"
	"go.opentelemetry.io/otel/trace"
	"io"
	"log/slog"
)

type ctxKey struct{}

// WithRequestID returns a context carrying the request identifier id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// RequestID returns the request identifier carried by ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// New returns a logger writing to w in format "json" or "text" at level
// ("debug", "info", "warn", "error"). Records logged with a context that
// carries a request identifier get a request_id attribute.
func New(w io.Writer, format, level string) (*slog.Logger, error) {
	st := &state{w: w}
	if err := st.set(format, level); err != nil {
		return nil, err
	}
	return slog.New(&dynamic{state: st}), nil
}

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
