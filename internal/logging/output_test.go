package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Reconfigure changes level and format of the logger and of every logger
// derived from it, at once.
func TestReconfigure(t *testing.T) {
	var out bytes.Buffer
	l, err := Open(Config{Format: "text", Level: "info"}, &out, &out)
	if err != nil {
		t.Fatal(err)
	}
	derived := l.With("component", "x").WithGroup("g")
	derived.Debug("hidden")
	derived.Info("as text", "k", 1)
	if err := l.Reconfigure("json", "debug"); err != nil {
		t.Fatal(err)
	}
	derived.Debug("as json", "k", 2)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("lines %q", lines)
	}
	if !strings.Contains(lines[0], "msg=\"as text\"") || !strings.Contains(lines[0], "component=x") || !strings.Contains(lines[0], "g.k=1") {
		t.Errorf("text line %q", lines[0])
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[1]), &rec); err != nil {
		t.Fatalf("json line %q: %v", lines[1], err)
	}
	if rec["msg"] != "as json" || rec["component"] != "x" || rec["g"].(map[string]any)["k"] != float64(2) {
		t.Errorf("json record %v", rec)
	}
	for _, bad := range [][2]string{{"yaml", "info"}, {"json", "loud"}} {
		if err := l.Reconfigure(bad[0], bad[1]); err == nil {
			t.Errorf("Reconfigure(%q, %q) accepted", bad[0], bad[1])
		}
	}
	// A refused change leaves the logger as it was.
	derived.Debug("still json")
	if !strings.Contains(out.String(), `"msg":"still json"`) {
		t.Errorf("after a refused change: %q", out.String())
	}
}

func TestOpenOutputs(t *testing.T) {
	var stdout, stderr bytes.Buffer
	for out, want := range map[string]*bytes.Buffer{"stdout": &stdout, "": &stderr, "stderr": &stderr} {
		l, err := Open(Config{Output: out, Level: "info"}, &stdout, &stderr)
		if err != nil {
			t.Fatal(err)
		}
		before := want.Len()
		l.Info("hello")
		if want.Len() == before {
			t.Errorf("output %q wrote nowhere", out)
		}
	}
	for _, bad := range []string{"syslog", "file:"} {
		if _, err := Open(Config{Output: bad, Level: "info"}, &stdout, &stderr); err == nil {
			t.Errorf("output %q accepted", bad)
		}
	}
}

// A file output rotates by size, keeps MaxBackups old files, and reopens
// its path when asked (after logrotate moved it away).
func TestRotatingFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "o2ims.log")
	l, err := Open(Config{Output: "file:" + path, Level: "info", Format: "json"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	l.file.maxBytes = 300 // a few records per file
	for i := range 40 {
		l.InfoContext(context.Background(), "record", "i", i)
	}
	for _, name := range []string{"o2ims.log", "o2ims.log.1", "o2ims.log.5"} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil || st.Size() == 0 || st.Size() > 300 {
			t.Errorf("%s: %v, %v", name, st, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "o2ims.log.6")); err == nil {
		t.Error("more than MaxBackups old files kept")
	}
	// The newest records are in the current file, the next older ones in .1.
	cur, _ := os.ReadFile(path)
	if !strings.Contains(string(cur), `"i":39`) {
		t.Errorf("current file %q", cur)
	}
	if err := os.Rename(path, path+".moved"); err != nil {
		t.Fatal(err)
	}
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	l.Info("after reopen")
	if b, _ := os.ReadFile(path); !strings.Contains(string(b), "after reopen") {
		t.Errorf("reopened file %q", b)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}
