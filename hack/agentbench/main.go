// Command agentbench measures the agent listener of the real o2ims binary
// under a fleet of edge nodes:
//
//	go run ./hack/agentbench [-agents 500] [-interval 10s] [-duration 3m] [-postgres URL]
//
// It builds the binary and serves it with the agent listener on loopback
// (SQLite in a fresh data directory, or a fresh schema of the PostgreSQL
// database -postgres names), mints one bootstrap token for the fleet with
// "o2ims agent token create", and runs the nodes as goroutines of this
// process. Each is a real internal/agent.Agent, with its own key, state
// directory and client certificate obtained by enrolling, describing the
// local provider's test machine, and connecting from its own loopback
// address (127.1.x.y), so that the server's per-address enrolment limit
// sees separate nodes. Starts are spread over one interval. Once every
// node has enrolled and one more interval has passed, it measures for
// -duration: the server's CPU time (utime+stime of /proc/PID/stat) and
// resident memory (VmRSS, sampled every second), and the latency and
// errors of the heartbeats. It prints a Markdown table (docs/benchmarks.md
// keeps one).
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"maps"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/nephoran/o2ims/internal/agent"
	"github.com/nephoran/o2ims/internal/edge"
	"github.com/nephoran/o2ims/internal/provider/local/localtest"
	"github.com/nephoran/o2ims/internal/testserver"
)

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on
// every Linux architecture Go supports.
const clockTicks = 100

func main() {
	agents := flag.Int("agents", 500, "simulated edge nodes")
	interval := flag.Duration("interval", 10*time.Second, "heartbeat interval (the server's --agent-heartbeat-interval)")
	duration := flag.Duration("duration", 3*time.Minute, "measurement window, after all nodes enrolled and one interval more")
	pg := flag.String("postgres", "", "PostgreSQL URL; the run uses a schema of its own there, dropped at the end (empty: SQLite)")
	flag.Parse()
	ctx := context.Background()
	if err := run(ctx, *agents, *interval, *duration, *pg); err != nil {
		log.Fatal(err)
	}
}

// recorder collects what the agents' requests did.
type recorder struct {
	measuring atomic.Bool
	mu        sync.Mutex
	latencies []time.Duration       // heartbeats answered 2xx while measuring
	slow      []time.Duration       // when, after the window began, a heartbeat over slowHeartbeat was sent
	errors    map[string]int        // path: requests failed while measuring
	samples   map[string]string     // path: one error
	outside   map[string]int        // path: requests failed before measuring
	calls     map[string]int        // path: requests while measuring
	enrolled  map[int]time.Duration // node: when its enrolment succeeded, after the start
	start     time.Time
	begin     time.Time // of the window
}

// slowHeartbeat is the latency from which a heartbeat's time is noted, to
// see whether slow ones come together (a periodic task of the server).
const slowHeartbeat = 100 * time.Millisecond

func (r *recorder) observe(node int) func(string, time.Duration, error) {
	return func(path string, took time.Duration, err error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		if path == edge.PathEnroll && err == nil {
			r.enrolled[node] = time.Since(r.start)
		}
		if !r.measuring.Load() {
			if err != nil {
				r.outside[path]++
			}
			return
		}
		r.calls[path]++
		if err != nil {
			r.errors[path]++
			r.samples[path] = err.Error()
			return
		}
		if path == edge.PathHeartbeat {
			r.latencies = append(r.latencies, took)
			if took > slowHeartbeat {
				r.slow = append(r.slow, time.Since(r.begin)-took)
			}
		}
	}
}

func run(ctx context.Context, n int, interval, window time.Duration, pg string) error {
	work, err := os.MkdirTemp("", "agentbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	root, err := testserver.ModuleRoot()
	if err != nil {
		return err
	}
	binary, err := testserver.Build(root, work, "./cmd/o2ims")
	if err != nil {
		return err
	}
	machine := filepath.Join(work, "machine")
	if err := localtest.Build(machine); err != nil {
		return err
	}

	dataDir := filepath.Join(work, "data")
	args := []string{"--data-dir", dataDir, "--local-provider=false", "--local-gitops=false",
		"--agent-listen", "127.0.0.1:0", "--agent-hosts", "127.0.0.1", "--agent-heartbeat-interval", interval.String()}
	store := "SQLite"
	if pg != "" {
		dbURL, drop, err := freshSchema(ctx, pg)
		if err != nil {
			return err
		}
		defer drop()
		args = append(args, "--database-url", dbURL)
		store = "PostgreSQL"
	}
	srv, err := testserver.Start(binary, dataDir, args...)
	if err != nil {
		return err
	}
	defer srv.Kill()
	recs := srv.LogRecords("agent listener serving")
	if len(recs) != 1 {
		return fmt.Errorf("no agent listener in the server's log:\n%s", srv.Logs())
	}
	agentURL := "https://" + recs[0]["addr"].(string)
	tokenArgs := []string{"agent", "token", "create", "--data-dir", dataDir, "--pool", "bench", "--uses", strconv.Itoa(n),
		"--ttl", "2h", "--log-level", "warn", "-o", "json"}
	if i := slices.Index(args, "--database-url"); i >= 0 {
		tokenArgs = append(tokenArgs, args[i:i+2]...)
	}
	out, err := exec.CommandContext(ctx, binary, tokenArgs...).Output()
	if err != nil {
		return fmt.Errorf("token create: %w", err)
	}
	var tok struct{ Token, CAHash string }
	if err := json.Unmarshal(out, &tok); err != nil {
		return fmt.Errorf("token create printed %s: %w", out, err)
	}

	rec := &recorder{errors: map[string]int{}, samples: map[string]string{}, outside: map[string]int{}, calls: map[string]int{},
		enrolled: map[int]time.Duration{}, start: time.Now()}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	failed := make(chan error, n)
	for i := range n {
		a, err := agent.New(agent.Options{
			Server: agentURL, BootstrapToken: tok.Token, CAHash: tok.CAHash, Pool: "bench",
			NodeName: fmt.Sprintf("bench-node-%04d", i), Root: machine, StateDir: filepath.Join(work, "state", strconv.Itoa(i)),
			Version: "agentbench", Addresses: []string{sourceAddr(i).String()},
			LocalAddr: &net.TCPAddr{IP: sourceAddr(i)}, OnRequest: rec.observe(i),
		}, nil)
		if err != nil {
			return err
		}
		wg.Go(func() {
			// Spread over one interval, as a fleet's nodes are.
			select {
			case <-time.After(time.Duration(i) * interval / time.Duration(n)):
			case <-runCtx.Done():
				return
			}
			if err := a.Run(runCtx); err != nil {
				failed <- fmt.Errorf("node %d: %w", i, err)
			}
		})
	}

	// Every node enrolled.
	var enrolAll time.Duration
	for deadline := time.Now().Add(5*interval + 2*time.Minute); ; time.Sleep(100 * time.Millisecond) {
		rec.mu.Lock()
		done := len(rec.enrolled)
		if done == n {
			for _, d := range rec.enrolled {
				enrolAll = max(enrolAll, d)
			}
		}
		rec.mu.Unlock()
		select {
		case err := <-failed:
			return err
		default:
		}
		if done == n {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d nodes enrolled in time", done, n)
		}
	}
	time.Sleep(interval) // the inventories, and heartbeats at their pace

	load, _ := os.ReadFile("/proc/loadavg")
	pid := srv.Pid()
	cpu0, err := cpuTime(pid)
	if err != nil {
		return err
	}
	self0, _ := cpuTime(os.Getpid())
	begin := time.Now()
	rec.mu.Lock()
	rec.begin = begin
	rec.mu.Unlock()
	rec.measuring.Store(true)
	var rssMax, rssSum, rssN int64
	for time.Since(begin) < window {
		time.Sleep(time.Second)
		rss, err := testserver.ResidentKiB(pid)
		if err != nil {
			return err
		}
		rssMax, rssSum, rssN = max(rssMax, rss), rssSum+rss, rssN+1
		select {
		case err := <-failed:
			return err
		default:
		}
	}
	rec.measuring.Store(false)
	elapsed := time.Since(begin)
	cpu1, err := cpuTime(pid)
	if err != nil {
		return err
	}
	self1, _ := cpuTime(os.Getpid())
	rssEnd, _ := testserver.ResidentKiB(pid)
	stop()
	wg.Wait()

	rec.mu.Lock()
	defer rec.mu.Unlock()
	lat := slices.Clone(rec.latencies)
	slices.Sort(lat)
	errs := 0
	for _, c := range rec.errors {
		errs += c
	}
	fmt.Printf("%d agents, heartbeat every %s, %s measured on %s; load average at the start: %s\n\n", n, interval,
		elapsed.Round(time.Second), store, strings.TrimSpace(string(load)))
	fmt.Println("| measure | value |")
	fmt.Println("|---|---|")
	fmt.Printf("| enrolment of all %d nodes (starts spread over %s) | %s |\n", n, interval, enrolAll.Round(time.Millisecond))
	fmt.Printf("| heartbeats answered | %d (%.1f/s) |\n", len(lat), float64(len(lat))/elapsed.Seconds())
	if len(lat) > 0 {
		fmt.Printf("| heartbeat latency p50 / p90 / p99 / max | %s / %s / %s / %s |\n", ms(pct(lat, 0.50)), ms(pct(lat, 0.90)), ms(pct(lat, 0.99)), ms(lat[len(lat)-1]))
		fmt.Printf("| heartbeats over %s, by the second of the window they were sent in | %d: %s |\n", slowHeartbeat, len(rec.slow), bySecond(rec.slow))
	}
	fmt.Printf("| failed requests while measuring | %d of %d |\n", errs, sum(rec.calls))
	for path, c := range rec.errors {
		fmt.Printf("| … %s | %d, e.g. %s |\n", path, c, rec.samples[path])
	}
	if o := sum(rec.outside); o > 0 {
		fmt.Printf("| failed requests before measuring (retried) | %d %v |\n", o, rec.outside)
	}
	cpu := (cpu1 - cpu0).Seconds()
	fmt.Printf("| server CPU | %.1f s in %s: %.1f%% of one core |\n", cpu, elapsed.Round(time.Second), 100*cpu/elapsed.Seconds())
	fmt.Printf("| server resident memory (VmRSS) mean / max / end | %d / %d / %d MiB |\n", rssSum/rssN/1024, rssMax/1024, rssEnd/1024)
	fmt.Printf("| this process (the %d agents) CPU | %.1f%% of one core |\n", n, 100*(self1-self0).Seconds()/elapsed.Seconds())
	return nil
}

// sourceAddr is node i's loopback address, 127.1.x.y.
func sourceAddr(i int) net.IP { return net.IPv4(127, 1, byte(i/250), byte(i%250+1)) }

// cpuTime is the user and system time of process pid.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces: fields are counted after it.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %q", pid, s)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(f[12], 10, 64) // field 15
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// freshSchema creates a schema of its own in the database of base and
// returns base with search_path naming it, and a function dropping it.
func freshSchema(ctx context.Context, base string) (string, func(), error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, err
	}
	db, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, err
	}
	schema := fmt.Sprintf("agentbench_%d", os.Getpid())
	if _, err := db.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE; CREATE SCHEMA "+schema); err != nil {
		db.Close()
		return "", nil, fmt.Errorf("creating schema %s: %w", schema, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), func() {
		if _, err := db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			log.Printf("dropping schema %s: %v", schema, err)
		}
		db.Close()
	}, nil
}

// bySecond counts the instants per whole second, "12s×30 13s×4 …".
func bySecond(at []time.Duration) string {
	counts := map[int]int{}
	for _, d := range at {
		counts[int(d/time.Second)]++
	}
	var parts []string
	for _, sec := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%ds×%d", sec, counts[sec]))
	}
	return strings.Join(parts, " ")
}

func pct(sorted []time.Duration, p float64) time.Duration {
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func sum(m map[string]int) int {
	s := 0
	for _, v := range m {
		s += v
	}
	return s
}
