// Package testserver builds the o2ims binary and runs "o2ims serve" as a
// real process for end-to-end tests: on a free loopback port, with JSON
// logs kept for the test's failure output. The e2e tests, the Go SDK's and
// o2ctl's all start their servers with it.
package testserver

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Build compiles the command pkg (such as "./cmd/o2ims") of the module
// rooted at root into dir and returns the binary's path.
func Build(root, dir, pkg string) (string, error) {
	out := filepath.Join(dir, filepath.Base(pkg))
	build := exec.Command("go", "build", "-o", out, pkg)
	build.Dir = root
	if b, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building %s: %w\n%s", pkg, err, b)
	}
	return out, nil
}

// Server is a running o2ims process: "o2ims serve" (Start) or another
// subcommand (Run).
type Server struct {
	// Addr is the host:port the server listens on (Start only).
	Addr string
	// Args are the arguments it was started with, after "serve" for Start.
	Args []string

	cmd     *exec.Cmd
	done    chan struct{}
	err     error // of cmd.Wait, once done is closed
	serving chan string
	mu      sync.Mutex
	logs    strings.Builder
	killed  sync.Once
}

// Start runs binary "serve" with args on 127.0.0.1:0 with JSON logs, in
// dataDir unless args name a --data-dir, and returns once the server logs
// that it is serving (within 60 seconds). The agent listener, on
// 127.0.0.1:8443 by default, is off unless args name an --agent-listen
// (127.0.0.1:0 for a free port), so that parallel servers never collide.
func Start(binary, dataDir string, args ...string) (*Server, error) {
	return StartEnv(binary, dataDir, nil, args...)
}

// StartEnv is Start with the process environment env (nil: this
// process's).
func StartEnv(binary, dataDir string, env []string, args ...string) (*Server, error) {
	if !slices.Contains(args, "--data-dir") {
		args = append([]string{"--data-dir", dataDir}, args...)
	}
	args = append([]string{"--listen", "127.0.0.1:0", "--agent-listen=", "--log-format", "json"}, args...)
	s, err := launch(binary, env, append([]string{"serve"}, args...))
	if err != nil {
		return nil, err
	}
	s.Args = args
	select {
	case a := <-s.serving:
		s.Addr = a
		return s, nil
	case <-s.done:
		return nil, fmt.Errorf("o2ims exited before serving (%v):\n%s", s.err, s.Logs())
	case <-time.After(60 * time.Second):
		s.Kill()
		return nil, fmt.Errorf("o2ims did not report serving within 60s:\n%s", s.Logs())
	}
}

// Run starts binary with args (a subcommand and its flags, such as
// "controller") and returns at once; its stderr is kept as the log.
func Run(binary string, args ...string) (*Server, error) {
	s, err := launch(binary, nil, args)
	if err != nil {
		return nil, err
	}
	s.Args = args
	return s, nil
}

// launch starts the process and keeps its stderr, telling on serving the
// address of the first "serving" record.
func launch(binary string, env, args []string) (*Server, error) {
	s := &Server{done: make(chan struct{}), serving: make(chan string, 1)}
	s.cmd = exec.Command(binary, args...)
	s.cmd.Env = env
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			s.mu.Lock()
			s.logs.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
			var rec struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "serving" && rec.Addr != "" {
				select {
				case s.serving <- rec.Addr:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	return s, nil
}

// Logs returns what the server has logged so far.
func (s *Server) Logs() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs.String()
}

// LogRecords returns the JSON log records whose msg is msg.
func (s *Server) LogRecords(msg string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(s.Logs(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// DataDir is the --data-dir the server was started with.
func (s *Server) DataDir() string {
	for i, a := range s.Args {
		if a == "--data-dir" && i+1 < len(s.Args) {
			return s.Args[i+1]
		}
	}
	return ""
}

// Done is closed when the process has exited.
func (s *Server) Done() <-chan struct{} { return s.done }

// Err is the process's exit error, once Done is closed.
func (s *Server) Err() error { return s.err }

// Signal sends sig to the process.
func (s *Server) Signal(sig os.Signal) error { return s.cmd.Process.Signal(sig) }

// Kill ends the process with SIGKILL, as a crash would, and waits for it;
// it may be called more than once.
func (s *Server) Kill() {
	s.killed.Do(func() {
		select {
		case <-s.done:
			return
		default:
		}
		_ = s.cmd.Process.Kill()
		<-s.done
	})
}

// Pid is the process id.
func (s *Server) Pid() int { return s.cmd.Process.Pid }
