package e2e

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/testenv"
)

// BenchmarkKubernetesScale measures, on a kwok cluster with 2,000 nodes:
// the time from registering the cluster until the inventory holds every
// node, the resident memory of the O2 IMS process, and the latency from a
// node label change to its notification. Run with -benchtime=1x.
func BenchmarkKubernetesScale(b *testing.B) {
	nodes := 2000
	if v := os.Getenv("O2IMS_SCALE_NODES"); v != "" {
		nodes, _ = strconv.Atoi(v)
	}
	plane := testenv.Require(b)
	ctx := context.Background()
	prefix := fmt.Sprintf("scale-%d-", time.Now().UnixNano()%100000)
	created := time.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	errs := make(chan error, nodes)
	for i := range nodes {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			pool := fmt.Sprintf("scale-pool-%d", i%20)
			if err := plane.CreateNode(ctx, fmt.Sprintf("%s%d", prefix, i), map[string]string{"nephoran.io/resource-pool": pool}, "8", "32Gi"); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.Logf("created %d nodes in %s", nodes, time.Since(created).Round(time.Millisecond))
	b.Cleanup(func() {
		for i := range nodes {
			_ = plane.DeleteNode(context.Background(), fmt.Sprintf("%s%d", prefix, i))
		}
	})

	key := make([]byte, 32)
	_, _ = rand.Read(key)
	b.Setenv("O2IMS_SECRETS_KEY", base64.StdEncoding.EncodeToString(key))
	s := start(b, "--data-dir", b.TempDir(), "--local-provider=false", "--rate-limit", "0")
	rcv := newChangeReceiver(b)
	b.ResetTimer()

	for range b.N {
		start := time.Now()
		status, body := s.post(b, "/o2ims/v1/providers", map[string]any{
			"name": "scale", "type": "kubernetes", "config": map[string]any{"kubeconfig": string(plane.RESTConfigBytes)},
		})
		if status != 201 {
			b.Fatalf("register: %d %s", status, body)
		}
		for {
			n := countResources(b, s, prefix, "")
			if n >= nodes {
				break
			}
			if time.Since(start) > 10*time.Minute {
				b.Fatalf("only %d of %d nodes after 10 minutes", n, nodes)
			}
			time.Sleep(100 * time.Millisecond)
		}
		syncTime := time.Since(start)
		b.ReportMetric(syncTime.Seconds(), "s-to-full-inventory")

		// kwok marks the new nodes Ready over the next seconds; each is a
		// real change. Label latency is measured once that has settled.
		for countResources(b, s, prefix, "(eq,extensions/healthy,true)") < nodes {
			if time.Since(start) > 10*time.Minute {
				b.Fatal("nodes never all healthy in the inventory")
			}
			time.Sleep(200 * time.Millisecond)
		}
		b.ReportMetric(time.Since(start).Seconds(), "s-to-all-ready")

		rss := residentBytes(b, s.Pid())
		b.ReportMetric(float64(rss)/(1<<20), "MB-resident")

		// Label changes, one at a time, each timed to its notification.
		if status, body := s.post(b, inv+"/v1/subscriptions", map[string]any{"callback": rcv.srv.URL, "filter": "(eq,objectType,Resource);(eq,notificationEventType,1)"}); status != 201 {
			b.Fatalf("subscribe: %d %s", status, body)
		}
		var lat []time.Duration
		for i := range 50 {
			name := fmt.Sprintf("%s%d", prefix, i)
			t0 := time.Now()
			if err := plane.LabelNode(ctx, name, map[string]string{"bench": strconv.Itoa(i)}); err != nil {
				b.Fatal(err)
			}
			rcv.waitFor(b, "label change", func(n map[string]any) bool {
				if nodeName(n["postObjectState"]) != name {
					return false
				}
				pst, _ := n["postObjectState"].(map[string]any)
				ext, _ := pst["extensions"].(map[string]any)
				labels, _ := ext["labels"].(map[string]any)
				return labels["bench"] == strconv.Itoa(i)
			})
			lat = append(lat, time.Since(t0))
		}
		b.Logf("label-to-notification latencies in order: %v", lat)
		slices.Sort(lat)
		b.ReportMetric(lat[len(lat)/2].Seconds()*1000, "ms-label-to-notify-p50")
		b.ReportMetric(lat[len(lat)*99/100].Seconds()*1000, "ms-label-to-notify-p99")
	}
	b.StopTimer()
	s.stop(b)
}

func countResources(b *testing.B, s *server, prefix, extra string) int {
	total := 0
	filter := "(cont,extensions/nodeName," + prefix + ")"
	if extra != "" {
		filter += ";" + extra
	}
	next := "/o2ims/v1/resources?limit=1000&fields=resourceId&filter=" + filter
	for next != "" {
		status, h, body := s.get(b, next)
		if status != 200 {
			b.Fatalf("list: %d %s", status, body)
		}
		var items []json.RawMessage
		_ = json.Unmarshal(body, &items)
		total += len(items)
		next = ""
		if l := h.Get("Link"); l != "" {
			next = strings.TrimSuffix(strings.TrimPrefix(strings.Split(l, ";")[0], "<"), ">")
		}
	}
	return total
}

func residentBytes(b *testing.B, pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			kb, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}
