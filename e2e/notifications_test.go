package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/sqlstore/sqlstoretest"
)

// receiver is a subscriber callback that records every notification.
type receiver struct {
	srv   *httptest.Server
	delay time.Duration

	mu    sync.Mutex
	ids   map[string]int // notificationId → times received
	order []string       // alarmEventRecordId in arrival order
}

func newReceiver(t testing.TB, delay time.Duration) *receiver {
	r := &receiver{ids: map[string]int{}, delay: delay}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var n struct {
			NotificationID     string `json:"notificationId"`
			AlarmEventRecordID string `json:"alarmEventRecordId"`
		}
		if err := json.NewDecoder(req.Body).Decode(&n); err != nil || n.NotificationID == "" {
			http.Error(w, "bad notification", http.StatusBadRequest)
			return
		}
		time.Sleep(r.delay)
		r.mu.Lock()
		r.ids[n.NotificationID]++
		r.order = append(r.order, n.AlarmEventRecordID)
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) counts() (distinct, total, dup int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.ids {
		total += n
		if n > 1 {
			dup += n - 1
		}
	}
	return len(r.ids), total, dup
}

// waitDistinct waits until the receiver has n distinct notifications.
func (r *receiver) waitDistinct(t testing.TB, n int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		d, _, _ := r.counts()
		if d >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("received %d of %d notifications", d, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *server) post(t testing.TB, path string, body any) (int, []byte) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, err := http.NewRequest("POST", s.base+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// fireAlerts makes the server raise n new alarms (one event each) through
// the Alertmanager receiver.
func fireAlerts(t testing.TB, s *server, prefix string, n int) {
	t.Helper()
	for start := 0; start < n; start += 200 {
		var alerts []map[string]any
		for i := start; i < min(n, start+200); i++ {
			alerts = append(alerts, map[string]any{
				"status":      "firing",
				"labels":      map[string]string{"alertname": "E2E", "instance": fmt.Sprintf("%s-%d", prefix, i), "severity": "warning"},
				"annotations": map[string]string{},
				"startsAt":    time.Now().UTC().Format(time.RFC3339),
				"fingerprint": fmt.Sprintf("%s-%d", prefix, i),
			})
		}
		status, body := s.post(t, "/internal/v1/alertmanager", map[string]any{"version": "4", "status": "firing", "alerts": alerts})
		if status != 200 {
			t.Fatalf("alertmanager webhook: %d %s", status, body)
		}
	}
}

func subscribeAlarms(t testing.TB, s *server, callback string) string {
	t.Helper()
	status, body := s.post(t, "/o2ims-infrastructureMonitoring/v1/alarmSubscriptions",
		map[string]any{"callback": callback, "consumerSubscriptionId": "e2e", "filter": "(eq,notificationEventType,NEW)"})
	if status != 201 {
		t.Fatalf("subscribe: %d %s", status, body)
	}
	var sub struct {
		AlarmSubscriptionID string `json:"alarmSubscriptionId"`
	}
	_ = json.Unmarshal(body, &sub)
	return sub.AlarmSubscriptionID
}

// TestCrashLosesNoNotification kills the server with SIGKILL while it is
// delivering, restarts it on the same database, and expects every
// notification to arrive.
func TestCrashLosesNoNotification(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			args := []string{"--data-dir", t.TempDir(), "--local-provider=false"}
			if backend == "postgres" {
				args = append(args, "--database-url", sqlstoretest.PostgresOptions(t).URL)
			}
			const n = 300
			rcv := newReceiver(t, 5*time.Millisecond) // ~1.5 s of deliveries
			s := start(t, args...)
			subscribeAlarms(t, s, rcv.srv.URL+"/notify")
			fireAlerts(t, s, "crash", n)
			rcv.waitDistinct(t, 20, time.Minute) // deliveries under way
			s.Kill()
			before, _, _ := rcv.counts()
			if before >= n {
				t.Fatalf("all %d delivered before the crash; the test proves nothing", n)
			}
			s2 := start(t, args...)
			rcv.waitDistinct(t, n, 2*time.Minute)
			distinct, total, _ := rcv.counts()
			t.Logf("%d delivered before the crash, %d distinct after restart, %d deliveries in all", before, distinct, total)
			if distinct != n {
				t.Fatalf("distinct notifications %d, want %d", distinct, n)
			}
			s2.stop(t)
		})
	}
}

// TestTwoServersShareDelivery runs two servers on one PostgreSQL database:
// every notification arrives once in normal operation, and when one server
// dies the other delivers the rest.
func TestTwoServersShareDelivery(t *testing.T) {
	db := sqlstoretest.PostgresOptions(t).URL
	a := start(t, "--database-url", db, "--local-provider=false")
	b := start(t, "--database-url", db, "--local-provider=false")
	rcvs := []*receiver{newReceiver(t, 0), newReceiver(t, 0), newReceiver(t, 0)}
	for _, r := range rcvs {
		subscribeAlarms(t, a, r.srv.URL+"/notify")
	}
	fireAlerts(t, a, "a", 150)
	fireAlerts(t, b, "b", 150)
	for _, r := range rcvs {
		r.waitDistinct(t, 300, 2*time.Minute)
	}
	// Give both servers a moment to deliver anything they would wrongly
	// duplicate, then count.
	time.Sleep(500 * time.Millisecond)
	for i, r := range rcvs {
		distinct, total, dup := r.counts()
		if distinct != 300 || dup != 0 {
			t.Errorf("receiver %d: %d distinct, %d total, %d duplicates", i, distinct, total, dup)
		}
	}

	// One server dies; the other delivers what follows.
	a.Kill()
	fireAlerts(t, b, "c", 100)
	for _, r := range rcvs {
		r.waitDistinct(t, 400, 2*time.Minute)
	}
	b.stop(t)
}

// TestKnowledgeWebhook: --knowledge-webhook gets every change of a pool or
// deployment (and nothing else) through a subscription the server keeps,
// once, across restarts, and removes when the flag goes.
func TestKnowledgeWebhook(t *testing.T) {
	const consumer = "nephoran-knowledge-webhook"
	r := newChangeReceiver(t)
	dataDir := t.TempDir()
	ours := func(s *server) []map[string]any {
		t.Helper()
		_, _, body := s.get(t, "/o2ims-infrastructureInventory/v1/subscriptions?filter=(eq,consumerSubscriptionId,"+consumer+")")
		return decodeList(t, body)
	}
	s := start(t, "--data-dir", dataDir, "--knowledge-webhook", r.srv.URL)
	r.waitFor(t, "the host's pool", func(n map[string]any) bool {
		return n["consumerSubscriptionId"] == consumer && strings.Contains(fmt.Sprint(n["objectRef"]), "/resourcePools/")
	})
	r.mu.Lock()
	for _, n := range r.seen {
		if ref := fmt.Sprint(n["objectRef"]); !strings.Contains(ref, "/resourcePools/") && !strings.Contains(ref, "/deployments/") {
			t.Errorf("the knowledge webhook got %s", ref)
		}
	}
	r.mu.Unlock()
	if subs := ours(s); len(subs) != 1 || subs[0]["callback"] != r.srv.URL {
		t.Fatalf("subscriptions %v", subs)
	}
	s.stop(t)
	s = start(t, "--data-dir", dataDir, "--knowledge-webhook", r.srv.URL)
	if subs := ours(s); len(subs) != 1 {
		t.Fatalf("after a restart: %v", subs)
	}
	s.stop(t)
	s = start(t, "--data-dir", dataDir)
	if subs := ours(s); len(subs) != 0 {
		t.Fatalf("without the flag: %v", subs)
	}
}
