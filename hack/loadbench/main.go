// Command loadbench measures the real o2ims binary over loopback HTTP:
//
//	go run ./hack/loadbench [-duration 5s] [-conns 8] [-resources 100000] [-database-url postgres://…]
//
// It builds the binary, seeds an SQLite data directory (or the
// PostgreSQL database of -database-url, whose tables it replaces) with the benchmark
// data set (internal/inventory/inventorytest: resources in 10 pools of 50
// types), serves it with the local provider off and rate limiting off,
// and drives it with closed-loop HTTP clients. Single-object reads are
// compared with a bare net/http handler serving the same bytes, run as a
// process of its own in the same run, so the ratio is to what the machine
// can do. It prints a Markdown table (docs/benchmarks.md keeps one),
// then the database's plan of each filtered page.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/inventory/inventorytest"
	"github.com/nephoran/o2ims/internal/query"
	"github.com/nephoran/o2ims/internal/sqlstore"
	"github.com/nephoran/o2ims/internal/testserver"
)

// bareEnv makes the process a bare handler serving that file's bytes.
const bareEnv = "LOADBENCH_BARE_FILE"

func main() {
	if f := os.Getenv(bareEnv); f != "" {
		serveBare(f)
		return
	}
	duration := flag.Duration("duration", 5*time.Second, "how long each case is measured (after a warm-up of a fifth of it)")
	conns := flag.Int("conns", 8, "connections of the throughput cases")
	resources := flag.Int("resources", inventorytest.Resources, "resources in the data set")
	dbURL := flag.String("database-url", "", "PostgreSQL database to seed and serve (its tables are dropped first); empty: SQLite")
	flag.Parse()
	if err := run(*duration, *conns, *resources, *dbURL); err != nil {
		log.Fatal(err)
	}
}

func run(d time.Duration, conns, n int, dbURL string) error {
	work, err := os.MkdirTemp("", "loadbench")
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
	dataDir := filepath.Join(work, "data")
	dbOpts := sqlstore.Options{DataDir: dataDir, URL: dbURL}
	if err := seed(dbOpts, n); err != nil {
		return err
	}
	args := []string{"serve", "--data-dir", dataDir, "--agent-listen=", "--local-provider=false", "--rate-limit", "0", "--log-format", "json"}
	if dbURL != "" {
		args = append(args, "--database-url", dbURL)
	}
	ims, stopIMS, err := startProcess(binary, args, nil, filepath.Join(work, "o2ims.log"))
	if err != nil {
		return err
	}
	defer stopIMS()

	base := "http://" + ims.addr
	inv := base + "/o2ims-infrastructureInventory/v1"
	resourceURL := inv + "/resourcePools/" + inventorytest.ID(2, 7) + "/resources/" + inventorytest.ID(3, 17)
	var rows [][]string
	for _, c := range []struct{ name, url string }{
		{"GET the O-Cloud", inv},
		{"GET one resource by id", resourceURL},
	} {
		body, err := fetch(c.url)
		if err != nil {
			return err
		}
		file := filepath.Join(work, "bare.json")
		if err := os.WriteFile(file, body, 0o600); err != nil {
			return err
		}
		self, err := os.Executable()
		if err != nil {
			return err
		}
		bare, stopBare, err := startProcess(self, nil, []string{bareEnv + "=" + file}, filepath.Join(work, "bare.log"))
		if err != nil {
			return err
		}
		r := measure(c.url, conns, d)
		b := measure("http://"+bare.addr+"/", conns, d)
		stopBare()
		rows = append(rows, []string{c.name, fmt.Sprintf("%d", conns),
			fmt.Sprintf("%.0f req/s, mean %s, p99 %s", r.rate, ms(r.mean), ms(r.p99)),
			fmt.Sprintf("%.0f req/s", b.rate), fmt.Sprintf("%.2f×", r.rate/b.rate)})
	}
	filters := []struct{ name, filter string }{
		{"page of 100, (eq,resourceTypeId,…) indexed", "(eq,resourceTypeId," + inventorytest.ID(1, 7) + ")"},
		{"page of 100, (cont,extensions/labels/zone,east)", "(cont,extensions/labels/zone,east)"},
		{"page of 100, (eq,tags,rack-17)", "(eq,tags,rack-17)"},
		{"page of 100, (gt,extensions/cpuCores,62)", "(gt,extensions/cpuCores,62)"},
	}
	for _, c := range filters {
		// The resources of every pool: the /o2ims/v1 collection.
		u := base + "/o2ims/v1/resources?filter=" + url.QueryEscape(c.filter)
		r := measure(u, 1, d)
		rows = append(rows, []string{c.name, "1", fmt.Sprintf("mean %s, p99 %s (%.0f req/s)", ms(r.mean), ms(r.p99), r.rate), "", ""})
	}
	walk, pages, err := walkAll(base+"/o2ims/v1/resources?filter="+url.QueryEscape("(eq,resourceTypeId,"+inventorytest.ID(1, 7)+")"), d)
	if err != nil {
		return err
	}
	rows = append(rows, []string{fmt.Sprintf("all %d matches of the indexed filter, %d pages of 100", n/50, pages), "1", "mean " + ms(walk), "", ""})
	rss, err := testserver.ResidentKiB(ims.cmd.Process.Pid)
	if err != nil {
		return err
	}
	rows = append(rows, []string{fmt.Sprintf("resident memory with %d resources, after the run", n), "", fmt.Sprintf("%.0f MB", float64(rss)/1024), "", ""})

	fmt.Println("| what | connections | o2ims | bare handler | ratio |")
	fmt.Println("|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Println("| " + strings.Join(r, " | ") + " |")
	}
	for _, c := range filters {
		plan, err := explain(dbOpts, c.filter)
		if err != nil {
			return err
		}
		fmt.Printf("\nPlan of %s:\n\n", c.filter)
		for _, l := range plan {
			fmt.Println("    " + l)
		}
	}
	return nil
}

// explain returns the plan of the first page of filter over the
// resources of every pool.
func explain(opts sqlstore.Options, filter string) ([]string, error) {
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, opts, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return nil, err
	}
	defer store.Close()
	f, err := query.ParseFilter(filter)
	if err != nil {
		return nil, err
	}
	return store.ExplainList(ctx, inventory.ResourceSchema, f, 100, "")
}

// seed stores the data set as a provider's snapshot would be. A
// PostgreSQL database is emptied first (migrated down to nothing) and
// analysed after, as autovacuum soon would.
func seed(opts sqlstore.Options, n int) error {
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	store, err := sqlstore.Open(ctx, opts, logger)
	if err != nil {
		return err
	}
	defer store.Close()
	if opts.URL != "" {
		if err := store.MigrateTo(ctx, 0); err != nil {
			return err
		}
	}
	if err := store.Migrate(ctx); err != nil {
		return err
	}
	syncer := inventory.NewSyncer(store, nil, time.Hour, logger)
	if _, err := syncer.SyncOnce(ctx, inventorytest.Provider{Snap: inventorytest.Snapshot(n)}); err != nil {
		return err
	}
	if opts.URL != "" {
		return store.Analyze(ctx)
	}
	return nil
}

type process struct {
	cmd  *exec.Cmd
	addr string
}

// startProcess runs binary with args on a free loopback port (--listen,
// or LOADBENCH_ADDR for the bare handler) and waits until it answers.
func startProcess(binary string, args, env []string, logFile string) (*process, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	if args != nil {
		args = append(args, "--listen", addr)
	}
	out, err := os.Create(logFile)
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(binary, args...)
	cmd.Env = append(append(os.Environ(), env...), "LOADBENCH_ADDR="+addr)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	stop := func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		out.Close()
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return &process{cmd: cmd, addr: addr}, stop, nil
			}
		}
		if time.Now().After(deadline) {
			stop()
			b, _ := os.ReadFile(logFile)
			return nil, nil, fmt.Errorf("%s not ready: %v\n%s", binary, err, b)
		}
	}
}

// serveBare answers every request with the file's bytes as JSON.
func serveBare(file string) {
	body, err := os.ReadFile(file)
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.ListenAndServe(os.Getenv("LOADBENCH_ADDR"), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})))
}

type result struct {
	rate      float64
	mean, p99 time.Duration
}

// measure drives u with conns closed-loop clients for d, after a warm-up.
func measure(u string, conns int, d time.Duration) result {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}
	loop := func(until time.Time) []time.Duration {
		var mu sync.Mutex
		var all []time.Duration
		var wg sync.WaitGroup
		for range conns {
			wg.Go(func() {
				var lat []time.Duration
				for time.Now().Before(until) {
					start := time.Now()
					resp, err := client.Get(u)
					if err != nil {
						log.Fatalf("GET %s: %v", u, err)
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						log.Fatalf("GET %s: %s", u, resp.Status)
					}
					lat = append(lat, time.Since(start))
				}
				mu.Lock()
				all = append(all, lat...)
				mu.Unlock()
			})
		}
		wg.Wait()
		return all
	}
	loop(time.Now().Add(d / 5))
	start := time.Now()
	lat := loop(start.Add(d))
	elapsed := time.Since(start)
	slices.Sort(lat)
	var sum time.Duration
	for _, l := range lat {
		sum += l
	}
	return result{
		rate: float64(len(lat)) / elapsed.Seconds(),
		mean: sum / time.Duration(max(len(lat), 1)),
		p99:  lat[min(len(lat)-1, len(lat)*99/100)],
	}
}

// walkAll follows the Link rel="next" pages from u until the last, again
// and again for d, and returns the mean time of one walk.
func walkAll(u string, d time.Duration) (time.Duration, int, error) {
	var walks, pages int
	start := time.Now()
	for time.Since(start) < d || walks == 0 {
		next, n := u, 0
		for next != "" {
			resp, err := http.Get(next)
			if err != nil {
				return 0, 0, err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			n++
			next = nextLink(u, resp.Header.Get("Link"))
		}
		walks, pages = walks+1, n
	}
	return time.Since(start) / time.Duration(walks), pages, nil
}

// nextLink resolves the target of a Link header's rel="next" against u.
func nextLink(u, link string) string {
	target, _, ok := strings.Cut(strings.TrimPrefix(link, "<"), ">")
	if !ok || !strings.Contains(link, `rel="next"`) {
		return ""
	}
	base, err := url.Parse(u)
	if err != nil {
		return ""
	}
	ref, err := base.Parse(target)
	if err != nil {
		return ""
	}
	return ref.String()
}

func fetch(u string) ([]byte, error) {
	resp, err := http.Get(u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return io.ReadAll(resp.Body)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }
