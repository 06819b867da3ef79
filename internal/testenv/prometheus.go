package testenv

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// PrometheusBinaries lists the files StartPrometheus needs in the bin
// directory, built by hack/prometheus/build.sh (`make testenv`):
// Prometheus 3.16.0 without its web UI, and promtool.
var PrometheusBinaries = []string{"prometheus", "promtool"}

// MissingPrometheusBinaries returns the names of the files from
// PrometheusBinaries that are not in dir.
func MissingPrometheusBinaries(dir string) []string {
	var missing []string
	for _, name := range PrometheusBinaries {
		if _, err := os.Stat(filepath.Join(dir, name)); dir == "" || err != nil {
			missing = append(missing, name)
		}
	}
	return missing
}

// RequirePrometheus returns the directory holding prometheus and promtool.
// When they are missing it skips the test with a message saying how to
// build them, or fails it as Require does (CI, O2IMS_TESTENV_REQUIRED=1).
func RequirePrometheus(t testing.TB) string {
	t.Helper()
	dir := DefaultBinDir()
	requireBinaries(t, MissingPrometheusBinaries(dir), "Prometheus and promtool")
	return dir
}

// Prometheus is a prometheus server running as a child of the test binary,
// listening on loopback only.
type Prometheus struct {
	// URL is its base URL, http://127.0.0.1:<port>, for the HTTP API
	// (/api/v1/...).
	URL string
	// Dir holds the configuration, the TSDB (data/) and prometheus.log.
	Dir string

	proc *process
}

// StartPrometheus runs binDir/prometheus with config (prometheus.yml; its
// relative rule_files are resolved in dir) and its TSDB in dir/data, and
// returns once /-/ready answers. Like the control plane's processes it is
// killed when the test binary dies; Stop ends it earlier.
func StartPrometheus(ctx context.Context, binDir, dir string, config []byte) (*Prometheus, error) {
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, config, 0o600); err != nil {
		return nil, err
	}
	client := &http.Client{Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	// Ports are reserved and released as in Start; on the rare "address
	// already in use" a new one is tried.
	for attempt := 1; ; attempt++ {
		free, err := freePorts(1)
		if err != nil {
			return nil, err
		}
		addr := "127.0.0.1:" + strconv.Itoa(free[0])
		proc, err := startProcess(dir, "prometheus", filepath.Join(binDir, "prometheus"),
			"--config.file="+cfg,
			"--storage.tsdb.path="+filepath.Join(dir, "data"),
			"--web.listen-address="+addr,
		)
		if err != nil {
			return nil, err
		}
		p := &Prometheus{URL: "http://" + addr, Dir: dir, proc: proc}
		err = waitHealthy(ctx, proc, client, p.URL+"/-/ready", 60*time.Second)
		if err == nil {
			return p, nil
		}
		_ = proc.stop(syscall.SIGKILL, 0)
		if attempt == 3 || !strings.Contains(err.Error(), "address already in use") || ctx.Err() != nil {
			return nil, err
		}
	}
}

// Stop ends Prometheus (SIGTERM, then SIGKILL after ten seconds).
func (p *Prometheus) Stop() error { return p.proc.stop(syscall.SIGTERM, 10*time.Second) }

// Log returns the last lines of Prometheus's log, for failure messages.
func (p *Prometheus) Log() string { return p.proc.tail() }
