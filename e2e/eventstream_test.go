package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// natsURL is the machine's NATS server with JetStream; O2IMS_TEST_NATS_URL
// points elsewhere.
func natsURL() string {
	if u := os.Getenv("O2IMS_TEST_NATS_URL"); u != "" {
		return u
	}
	return "nats://127.0.0.1:4222"
}

// TestEventStream runs the real binary with --nats-url against the
// real NATS JetStream: every change becomes one message on its subject,
// the body the notification a v2 subscriber gets, and a restart
// publishes nothing twice.
func TestEventStream(t *testing.T) {
	nc, err := nats.Connect(natsURL(), nats.Timeout(5*time.Second))
	if err != nil {
		t.Fatalf("NATS at %s: %v (start it with: start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log)", natsURL(), err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	suffix := fmt.Sprintf("%08x", rand.Uint32())
	streamName, prefix := "E2E_"+strings.ToUpper(suffix), "e2e"+suffix
	t.Cleanup(func() { _ = js.DeleteStream(context.Background(), streamName) })

	dir := t.TempDir()
	args := []string{"--data-dir", dir, "--nats-url", natsURL(), "--nats-stream", streamName, "--nats-subject-prefix", prefix}
	s := start(t, args...)
	if status, body := s.post(t, "/o2ims/v1/locations", map[string]any{"globalLocationId": "ev-1", "name": "Event 1", "address": "Hall 1"}); status != 201 {
		t.Fatalf("create location: %d %s", status, body)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// messages reads every message of subject filter now in the stream.
	messages := func(filter string, want int) []jetstream.Msg {
		t.Helper()
		var got []jetstream.Msg
		deadline := time.Now().Add(30 * time.Second)
		for {
			got = got[:0]
			stream, err := js.Stream(ctx, streamName)
			if err == nil {
				c, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{filter}})
				if err != nil {
					t.Fatal(err)
				}
				batch, err := c.FetchNoWait(1000)
				if err != nil {
					t.Fatal(err)
				}
				for m := range batch.Messages() {
					got = append(got, m)
				}
			}
			if len(got) >= want || time.Now().After(deadline) {
				return got
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

	// The O-Cloud's default location, then the operator's.
	locs := messages(prefix+".inventory.Location.>", 2)
	if len(locs) != 2 || locs[0].Headers().Get("O2ims-Object-Id") != "default" || locs[1].Subject() != prefix+".inventory.Location.created" {
		t.Fatalf("location messages: %d %v", len(locs), subjects(locs))
	}
	locs = locs[1:]
	// A CloudEvent whose data is the v2 notification.
	var ce struct {
		SpecVersion string         `json:"specversion"`
		ID          string         `json:"id"`
		Type        string         `json:"type"`
		Subject     string         `json:"subject"`
		Source      string         `json:"source"`
		Data        map[string]any `json:"data"`
	}
	if err := json.Unmarshal(locs[0].Data(), &ce); err != nil {
		t.Fatal(err)
	}
	if ce.SpecVersion != "1.0" || ce.Type != "com.nephoran.o2ims.inventory.Location.created" || ce.Subject != "ev-1" ||
		ce.ID != "inventory-"+locs[0].Headers().Get("O2ims-Outbox-Seq") || ce.ID != locs[0].Headers().Get("Nats-Msg-Id") || ce.Source != s.base {
		t.Errorf("cloud event %+v (base %s)", ce, s.base)
	}
	n := ce.Data
	if ref, _ := n["objectRef"].(string); !strings.HasSuffix(ref, "/o2ims-infrastructureInventory/v2/locations/ev-1") || n["notificationEventType"] != float64(0) || n["notificationId"] == "" {
		t.Errorf("location message %v", n)
	}
	if post, _ := n["postObjectState"].(map[string]any); post["address"] != "Hall 1" {
		t.Errorf("location state %v", n["postObjectState"])
	}
	if locs[0].Headers().Get("O2ims-Outbox-Seq") == "" || locs[0].Headers().Get("O2ims-Object-Id") != "ev-1" {
		t.Errorf("headers %v", locs[0].Headers())
	}
	// The host's inventory, published as it was stored.
	if pools := messages(prefix+".inventory.ResourcePool.>", 1); len(pools) != 1 {
		t.Errorf("pool messages: %v", subjects(pools))
	}

	// A restart publishes what is new, once, and nothing again.
	s.stop(t)
	s = start(t, args...)
	if status, body := s.post(t, "/o2ims/v1/locations", map[string]any{"globalLocationId": "ev-2", "name": "Event 2", "address": "Hall 2"}); status != 201 {
		t.Fatalf("create location: %d %s", status, body)
	}
	locs = messages(prefix+".inventory.Location.>", 3)
	time.Sleep(500 * time.Millisecond)
	if again := messages(prefix+".inventory.Location.>", 3); len(locs) != 3 || len(again) != 3 {
		t.Fatalf("location messages after a restart: %v then %v", subjects(locs), subjects(again))
	}
	if id := locs[2].Headers().Get("O2ims-Object-Id"); id != "ev-2" {
		t.Errorf("second message names %q", id)
	}

	// Killed while alarms are raised, the server restarted publishes
	// every alarm event, each exactly once.
	const alerts = 150
	fireAlerts(t, s, "ev-kill", alerts/2)
	s.Kill() // SIGKILL, before the publisher can have caught up

	s = start(t, args...)
	fireAlerts(t, s, "ev-after", alerts/2)
	raised := messages(prefix+".alarm.Alarm.new", alerts)
	seen := map[string]bool{}
	for _, m := range raised {
		seq := m.Headers().Get("O2ims-Outbox-Seq")
		if seen[seq] {
			t.Errorf("outbox event %s published twice", seq)
		}
		seen[seq] = true
	}
	if len(raised) != alerts {
		t.Errorf("%d alarm messages, want %d", len(raised), alerts)
	}
	s.stop(t)
}

func subjects(ms []jetstream.Msg) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Subject()
	}
	return out
}
