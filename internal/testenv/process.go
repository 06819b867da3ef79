package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// process is one control-plane program running as a child of the test binary,
// with its output going to a log file in the plane's directory.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process has exited
	waitErr error         // valid once done is closed
}

// spawner starts every child from one goroutine locked to its OS thread for
// the life of the test binary. Pdeathsig is delivered when the thread that
// forked the child exits, not when the process does; Go may retire threads, so
// only a thread that never exits makes Pdeathsig mean "the test binary died".
// That is what keeps a test binary killed by a timeout, a panic or ^C from
// leaving control planes behind.
var spawner struct {
	once sync.Once
	reqs chan spawnRequest
}

type spawnRequest struct {
	cmd *exec.Cmd
	err chan error
}

func spawn(cmd *exec.Cmd) error {
	spawner.once.Do(func() {
		spawner.reqs = make(chan spawnRequest)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread must outlive every child
			for r := range spawner.reqs {
				r.err <- r.cmd.Start()
			}
		}()
	})
	r := spawnRequest{cmd: cmd, err: make(chan error, 1)}
	spawner.reqs <- r
	return <-r.err
}

// startProcess runs bin with args in its own process group, so that stopping
// it also stops anything it forked, and appends its output to dir/name.log.
// The environment is reduced to PATH, HOME and TMPDIR inside dir: etcd reads
// ETCD_* variables as flags and kwok reads ~/.kwok/kwok.yaml, and a developer's
// settings must not change what the tests run against.
func startProcess(dir, name, bin string, args ...string) (*process, error) {
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child holds its own descriptor
	fmt.Fprintf(logFile, "=== %s %s %s\n", time.Now().Format(time.RFC3339Nano), bin, strings.Join(args, " "))

	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "TMPDIR=" + dir}
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := spawn(cmd); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop signals the whole process group with sig, waits up to grace for the
// leader to exit, and then kills the group. The final SIGKILL also reaches
// children that outlive a leader which exited on sig.
func (p *process) stop(sig syscall.Signal, grace time.Duration) error {
	pgid := p.cmd.Process.Pid // Setpgid makes the leader's pid the group id
	if sig != syscall.SIGKILL {
		_ = syscall.Kill(-pgid, sig)
		select {
		case <-p.done:
		case <-time.After(grace):
		}
	}
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill %s: %w", p.name, err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("%s (pid %d) did not exit after SIGKILL", p.name, pgid)
	}
}

// tail returns the last lines of the process's log, for error messages: the
// reason a program refused to start is nearly always in its final lines.
func (p *process) tail() string {
	const maxBytes, maxLines = 8 << 10, 30
	f, err := os.Open(p.logPath)
	if err != nil {
		return ""
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > maxBytes {
		_, _ = f.Seek(-maxBytes, io.SeekEnd)
	}
	b, _ := io.ReadAll(f)
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > maxLines {
		lines = lines[len(lines)-maxLines:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// describe explains a failure of this process with the tail of its log.
func (p *process) describe(err error) error {
	state := "running"
	if p.exited() {
		state = fmt.Sprintf("exited (%v)", p.waitErr)
	}
	return fmt.Errorf("testenv: %s: %w; process %s; last lines of %s:\n%s", p.name, err, state, p.logPath, p.tail())
}
