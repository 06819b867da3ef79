package local

import (
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// scan bundles the roots one discovery reads from.
type scan struct {
	fsReader
	proc, sys, etc string
}

// fsReader reads the small text files of procfs, sysfs and /etc. Every
// method treats failure as absence: most of these files are optional, vary
// by kernel, driver and privilege, and must never abort discovery.
type fsReader struct {
	log *slog.Logger
}

// text returns the trimmed content of path. An empty file counts as absent
// because sysfs uses empty attributes to mean "not provided".
func (r fsReader) text(path string) (string, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		r.log.Debug("skipping unreadable file", "path", path, "err", err)
		return "", false
	}
	s := strings.TrimSpace(string(b))
	return s, s != ""
}

// integer returns the decimal integer stored in path.
func (r fsReader) integer(path string) (int64, bool) {
	s, ok := r.text(path)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		r.log.Debug("skipping malformed integer file", "path", path, "value", s)
		return 0, false
	}
	return n, true
}

// flag returns whether path holds a non-zero integer, the sysfs convention.
func (r fsReader) flag(path string) (value, ok bool) {
	n, ok := r.integer(path)
	return n != 0, ok
}

// linkBase returns the last element of a symlink's target, which is how
// sysfs names a device's driver and subsystem.
func (r fsReader) linkBase(path string) (string, bool) {
	target, err := os.Readlink(path)
	if err != nil {
		r.log.Debug("skipping unreadable link", "path", path, "err", err)
		return "", false
	}
	return filepath.Base(target), true
}

// exists reports whether path resolves, following symlinks.
func (r fsReader) exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// names lists the entries of dir in lexical order.
func (r fsReader) names(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		r.log.Debug("skipping unreadable directory", "path", dir, "err", err)
		return nil
	}
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}
