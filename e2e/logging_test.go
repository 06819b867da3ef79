package e2e

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/testserver"
)

// waitRecord waits for a log record with message msg.
func waitRecord(t *testing.T, s *server, msg string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if recs := s.LogRecords(msg); len(recs) > 0 {
			return recs[len(recs)-1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q record:\n%s", msg, s.Logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// SIGHUP reads the log level again from the configuration file, while the
// server serves on; a bad value leaves logging as it was.
func TestLogReloadOnSIGHUP(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "o2ims.yaml")
	if err := os.WriteFile(cfg, []byte("log-level: info\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := start(t, "--config", cfg)
	if err := os.WriteFile(cfg, []byte("log-level: debug\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if rec := waitRecord(t, s, "SIGHUP: logging reconfigured"); rec["logLevel"] != "debug" || rec["logFormat"] != "json" {
		t.Errorf("reload record %v (the command line's --log-format json wins)", rec)
	}
	if err := os.WriteFile(cfg, []byte("log-level: loud\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if rec := waitRecord(t, s, "SIGHUP: logging unchanged"); !strings.Contains(rec["err"].(string), "loud") {
		t.Errorf("refused reload %v", rec)
	}
	if status, _, _ := s.get(t, "/readyz"); status != 200 {
		t.Errorf("readyz after SIGHUP: %d", status)
	}
	s.stop(t)
}

// --log-output file:/path writes the log to a file, reopened on SIGHUP
// after logrotate moved it away.
func TestLogToFile(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	log := filepath.Join(dir, "o2ims.log")
	p, err := testserver.Run(binary, "serve", "--listen", addr, "--agent-listen=", "--data-dir", dir, "--log-format", "json", "--log-output", "file:"+log)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Kill()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready: %v\n%s", err, p.Logs())
		}
	}
	contains := func(path, want string) bool {
		b, _ := os.ReadFile(path)
		return strings.Contains(string(b), want)
	}
	if !contains(log, `"msg":"serving"`) {
		t.Fatalf("log file lacks the serving record")
	}
	if err := os.Rename(log, log+".1"); err != nil {
		t.Fatal(err)
	}
	if err := p.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !contains(log, "SIGHUP: logging reconfigured") {
		if time.Now().After(deadline) {
			t.Fatal("the log file was not reopened")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if strings.Contains(p.Logs(), `"msg":"serving"`) {
		t.Errorf("records went to stderr too: %s", p.Logs())
	}
}
