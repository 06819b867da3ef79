package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
)

// Config selects the logger's format, level and output.
type Config struct {
	Format string // json or text
	Level  string // debug, info, warn or error
	// Output is stdout, stderr (the default) or file:/path.
	Output string
	// MaxSizeMB rotates a file output when it would grow past it (100);
	// MaxBackups old files are kept as path.1 … path.N (5).
	MaxSizeMB, MaxBackups int
}

// Logger is the process's logger: its level and format change while it
// runs (Reconfigure), and a file output rotates by size and reopens on
// demand (Reopen, for an external logrotate).
type Logger struct {
	*slog.Logger
	state *state
	file  *RotatingFile
}

// Open returns the logger cfg describes; stderr and stdout are the
// process's streams.
func Open(cfg Config, stdout, stderr io.Writer) (*Logger, error) {
	var w io.Writer
	var file *RotatingFile
	switch out := cfg.Output; {
	case out == "" || out == "stderr":
		w = stderr
	case out == "stdout":
		w = stdout
	case strings.HasPrefix(out, "file:"):
		f, err := OpenRotating(strings.TrimPrefix(out, "file:"), int64(max(cfg.MaxSizeMB, 0))<<20, cfg.MaxBackups)
		if err != nil {
			return nil, err
		}
		w, file = f, f
	default:
		return nil, fmt.Errorf("log output %q: use stdout, stderr or file:/path", out)
	}
	st := &state{w: w}
	if err := st.set(cfg.Format, cfg.Level); err != nil {
		if file != nil {
			file.Close()
		}
		return nil, err
	}
	return &Logger{Logger: slog.New(&dynamic{state: st}), state: st, file: file}, nil
}

// Reconfigure changes the format and level of every logger derived from
// l, at once.
func (l *Logger) Reconfigure(format, level string) error { return l.state.set(format, level) }

// Reopen reopens a file output (after logrotate moved it); it does
// nothing for stdout and stderr.
func (l *Logger) Reopen() error {
	if l.file == nil {
		return nil
	}
	return l.file.Reopen()
}

// Close closes a file output.
func (l *Logger) Close() error {
	if l.file == nil {
		return nil
	}
	return l.file.Close()
}

// state is the shared, switchable part of a Logger: the base handler of
// the current format and the level every handler reads.
type state struct {
	w     io.Writer
	level slog.LevelVar
	base  atomic.Pointer[slog.Handler]
	gen   atomic.Uint64
}

func (s *state) set(format, level string) error {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return fmt.Errorf("log level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: &s.level}
	var h slog.Handler
	switch strings.ToLower(format) {
	case "json":
		h = slog.NewJSONHandler(s.w, opts)
	case "text", "":
		h = slog.NewTextHandler(s.w, opts)
	default:
		return fmt.Errorf("log format %q: use json or text", format)
	}
	h = requestIDHandler{h}
	s.level.Set(lvl)
	s.base.Store(&h)
	s.gen.Add(1)
	return nil
}

// dynamic is a handler over the state's current base handler with the
// attributes and groups added to it, rebuilt when the format changes.
type dynamic struct {
	state *state
	steps []func(slog.Handler) slog.Handler
	built atomic.Pointer[builtHandler]
}

type builtHandler struct {
	gen uint64
	h   slog.Handler
}

func (d *dynamic) handler() slog.Handler {
	gen := d.state.gen.Load()
	if b := d.built.Load(); b != nil && b.gen == gen {
		return b.h
	}
	h := *d.state.base.Load()
	for _, step := range d.steps {
		h = step(h)
	}
	d.built.Store(&builtHandler{gen: gen, h: h})
	return h
}

func (d *dynamic) Enabled(_ context.Context, l slog.Level) bool { return l >= d.state.level.Level() }

func (d *dynamic) Handle(ctx context.Context, r slog.Record) error { return d.handler().Handle(ctx, r) }

func (d *dynamic) WithAttrs(attrs []slog.Attr) slog.Handler {
	return d.with(func(h slog.Handler) slog.Handler { return h.WithAttrs(attrs) })
}

func (d *dynamic) WithGroup(name string) slog.Handler {
	return d.with(func(h slog.Handler) slog.Handler { return h.WithGroup(name) })
}

func (d *dynamic) with(step func(slog.Handler) slog.Handler) slog.Handler {
	steps := append(d.steps[:len(d.steps):len(d.steps)], step)
	return &dynamic{state: d.state, steps: steps}
}

// RotatingFile is a log file that is renamed to path.1 (and older ones
// shifted up to path.N) when a write would take it past its size limit.
type RotatingFile struct {
	path     string
	maxBytes int64
	backups  int

	mu   sync.Mutex
	f    *os.File
	size int64
}

// OpenRotating opens (appending) the log file at path; maxBytes 0 means
// 100 MiB and backups 0 means 5.
func OpenRotating(path string, maxBytes int64, backups int) (*RotatingFile, error) {
	if path == "" {
		return nil, fmt.Errorf("log output file: a path is required (file:/var/log/o2ims.log)")
	}
	if maxBytes <= 0 {
		maxBytes = 100 << 20
	}
	if backups <= 0 {
		backups = 5
	}
	r := &RotatingFile{path: filepath.Clean(path), maxBytes: maxBytes, backups: backups}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *RotatingFile) open() error {
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("log output: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("log output: %w", err)
	}
	r.f, r.size = f, st.Size()
	return nil
}

// Write appends p, rotating first when p would take the file past its
// limit (a record larger than the limit gets a file of its own).
func (r *RotatingFile) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.size > 0 && r.size+int64(len(p)) > r.maxBytes {
		if err := r.rotate(); err != nil {
			return 0, err
		}
	}
	n, err := r.f.Write(p)
	r.size += int64(n)
	return n, err
}

func (r *RotatingFile) rotate() error {
	if err := r.f.Close(); err != nil {
		return fmt.Errorf("log output: %w", err)
	}
	for i := r.backups - 1; i >= 1; i-- {
		_ = os.Rename(fmt.Sprintf("%s.%d", r.path, i), fmt.Sprintf("%s.%d", r.path, i+1))
	}
	if err := os.Rename(r.path, r.path+".1"); err != nil {
		return fmt.Errorf("log output: %w", err)
	}
	return r.open()
}

// Reopen closes and reopens the file at its path.
func (r *RotatingFile) Reopen() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	_ = r.f.Close()
	return r.open()
}

// Close closes the file.
func (r *RotatingFile) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.f.Close()
}
