package advisor_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/nephoran/o2ims/internal/advisor"
	"github.com/nephoran/o2ims/internal/sqlstore/sqlstoretest"
)

// chatServer is an OpenAI-compatible chat-completions endpoint that
// answers with content, or with status when it is not 200.
type chatServer struct {
	*httptest.Server
	mu       sync.Mutex
	content  string
	status   int
	requests []map[string]any
	auth     []string
}

func newChatServer(t *testing.T) *chatServer {
	cs := &chatServer{status: 200}
	cs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var req map[string]any
		_ = json.Unmarshal(b, &req)
		cs.mu.Lock()
		cs.requests = append(cs.requests, req)
		cs.auth = append(cs.auth, r.Header.Get("Authorization"))
		status, content := cs.status, cs.content
		cs.mu.Unlock()
		if r.URL.Path != "/v1/chat/completions" {
			status = 404
		}
		if status != 200 {
			http.Error(w, `{"error":{"message":"overloaded"}}`, status)
			return
		}
		out, _ := json.Marshal(map[string]any{"id": "chatcmpl-1", "object": "chat.completion",
			"choices": []map[string]any{{"index": 0, "message": map[string]any{"role": "assistant", "content": content}, "finish_reason": "stop"}}})
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(out)
	}))
	t.Cleanup(cs.Close)
	return cs
}

func (cs *chatServer) answer(status int, content string) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.status, cs.content, cs.requests, cs.auth = status, content, nil, nil
}

const (
	westA = "00000000-0000-4000-8000-000000000001"
	westB = "00000000-0000-4000-8000-000000000002"
)

func TestRecommendWithModel(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		adv, _ := setup(t, b)
		chat := newChatServer(t)
		m, err := advisor.NewModel(advisor.ModelOptions{Endpoint: chat.URL + "/v1", APIKey: "sk-test"})
		if err != nil {
			t.Fatal(err)
		}
		adv.UseModel(m)
		ctx := context.Background()
		req := advisor.Request{Intent: "Deploy 5G AMF with high availability in US West region"}
		plan := func(pools []string, replicas int, cpu string) string {
			b, _ := json.Marshal(map[string]any{"components": []map[string]any{{"function": "AMF", "replicas": replicas, "cpu": cpu, "memory": "128Mi"}},
				"resourcePools": pools, "spread": 2, "reasons": []string{"west pools have the most headroom"}, "confidence": 0.82})
			return string(b)
		}

		// A plan that fits is used as it is, and the question carried
		// the intent and the inventory.
		chat.answer(200, plan([]string{westA, westB}, 3, "250m"))
		rec, err := adv.Recommend(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Source != "model" || rec.Confidence != 0.82 || rec.ModelAnswer == "" || len(rec.Plan.ResourcePools) != 2 ||
			rec.Plan.Components[0].Replicas != 3 || rec.Plan.Components[0].Resources.CPU != "250m" || !strings.Contains(strings.Join(rec.Reasons, ";"), "headroom") {
			t.Fatalf("recommendation %+v", rec)
		}
		if len(chat.requests) != 1 || chat.auth[0] != "Bearer sk-test" || chat.requests[0]["model"] != "gpt-4o-mini" {
			t.Fatalf("requests %v, auth %v", chat.requests, chat.auth)
		}
		q, _ := json.Marshal(chat.requests[0])
		for _, want := range []string{"json_schema", "high availability in US West", westA, "us-west-2", "cpuMillicores"} {
			if !strings.Contains(string(q), want) {
				t.Errorf("the question lacks %q", want)
			}
		}

		// Answers the engine cannot use fall back to the rules, saying why.
		for _, tc := range []struct {
			name, content string
			status        int
			reason        string
			calls         int
		}{
			{"hallucinated pool", plan([]string{westA, "00000000-0000-4000-8000-0000000000ff"}, 2, "250m"), 200, "does not exist", 1},
			{"capacity that does not fit", plan([]string{westA, westB}, 40, "2"), 200, "placement engine refused it", 1},
			{"not a plan", "Sure! Put the AMF in us-west.", 200, "not a plan of the requested shape", 1},
			{"unknown function", strings.Replace(plan([]string{westA}, 2, "1"), "AMF", "MME", 1), 200, `"MME", which is not a network function`, 1},
			{"model down", "", 503, "the model answered 503", 3},
		} {
			t.Run(tc.name, func(t *testing.T) {
				chat.answer(tc.status, tc.content)
				rec, err := adv.Recommend(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				if rec.Source != "rules" || rec.Plan.ResourcePools != nil || !strings.Contains(strings.Join(rec.Reasons, ";"), tc.reason) {
					t.Fatalf("source %s, pools %v, reasons %v", rec.Source, rec.Plan.ResourcePools, rec.Reasons)
				}
				if tc.status == 200 && rec.ModelAnswer != tc.content {
					t.Errorf("the model's answer is not kept for audit: %q", rec.ModelAnswer)
				}
				if len(chat.requests) != tc.calls {
					t.Errorf("%d calls to the model, want %d", len(chat.requests), tc.calls)
				}
			})
		}
	})
}
