package advisor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/nephoran/o2ims/internal/deployment"
	"github.com/nephoran/o2ims/internal/intent"
	"github.com/nephoran/o2ims/internal/lcm"
)

// ModelOptions configure an OpenAI-compatible chat-completions model.
type ModelOptions struct {
	// Endpoint is the API base, e.g. "https://api.openai.com/v1"; the
	// client POSTs to Endpoint + "/chat/completions".
	Endpoint string
	Model    string // "gpt-4o-mini" by default
	APIKey   string
	// SystemPrompt replaces the default instructions.
	SystemPrompt string
	Timeout      time.Duration // per attempt, 30s by default
	Retries      int           // extra attempts on 429, 5xx and transport errors (2)
	// ContextBudget bounds the inventory context, in characters (about
	// four per token; 24,000 by default).
	ContextBudget int
	HTTPClient    *http.Client
}

// Model asks a language model for a plan.
type Model struct {
	opts ModelOptions
	http *http.Client
	chat string
}

// NewModel returns a model client.
func NewModel(opts ModelOptions) (*Model, error) {
	u, err := url.Parse(opts.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("model endpoint %q is not an http(s) URL", opts.Endpoint)
	}
	if opts.Model == "" {
		opts.Model = "gpt-4o-mini"
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.Retries < 0 {
		opts.Retries = 0
	} else if opts.Retries == 0 {
		opts.Retries = 2
	}
	if opts.ContextBudget <= 0 {
		opts.ContextBudget = 24000
	}
	if opts.SystemPrompt == "" {
		opts.SystemPrompt = defaultPrompt
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	return &Model{opts: opts, http: hc, chat: strings.TrimRight(opts.Endpoint, "/") + "/chat/completions"}, nil
}

const defaultPrompt = `You are the placement advisor of an O-RAN O2 IMS. Given a network intent, the requirements the IMS read from it and the live resource pools, answer with the deployment plan as JSON matching the schema: for each network function its replicas and per-replica cpu and memory, and the ids of the resource pools to use (only ids from the inventory given, with enough free capacity), with short reasons and your confidence from 0 to 1.`

// modelPlan is the answer the model must give.
type modelPlan struct {
	Components []struct {
		Function string `json:"function"`
		Replicas int    `json:"replicas"`
		CPU      string `json:"cpu"`
		Memory   string `json:"memory"`
	} `json:"components"`
	ResourcePools []string `json:"resourcePools"`
	Spread        int      `json:"spread"`
	Reasons       []string `json:"reasons"`
	Confidence    float64  `json:"confidence"`
}

// planSchema is the JSON schema of modelPlan, for structured output.
var planSchema = json.RawMessage(`{
  "type": "object",
  "additionalProperties": false,
  "required": ["components", "resourcePools", "spread", "reasons", "confidence"],
  "properties": {
    "components": {"type": "array", "items": {"type": "object", "additionalProperties": false,
      "required": ["function", "replicas", "cpu", "memory"],
      "properties": {"function": {"type": "string"}, "replicas": {"type": "integer"}, "cpu": {"type": "string"}, "memory": {"type": "string"}}}},
    "resourcePools": {"type": "array", "items": {"type": "string"}},
    "spread": {"type": "integer"},
    "reasons": {"type": "array", "items": {"type": "string"}},
    "confidence": {"type": "number"}
  }
}`)

// poolContext is what the model is told of a pool.
type poolContext struct {
	ID          string              `json:"resourcePoolId"`
	Name        string              `json:"name"`
	Provider    string              `json:"provider,omitempty"`
	Region      string              `json:"region,omitempty"`
	Healthy     bool                `json:"healthy"`
	Free        deployment.Capacity `json:"free"`
	Utilization float64             `json:"utilization"`
	Labels      map[string]string   `json:"labels,omitempty"`
}

// ask sends the intent with its context and returns the raw answer.
func (m *Model) ask(ctx context.Context, text string, reqs intent.Requirements, pools []poolContext, prices Prices) (string, error) {
	// Context in priority order — inventory, then cost — within the
	// budget: pools are cut from the end once it is spent.
	user := map[string]any{"intent": text, "requirements": reqs}
	for len(pools) > 0 {
		user["resourcePools"] = pools
		user["prices"] = prices
		b, _ := json.Marshal(user)
		if len(b) <= m.opts.ContextBudget {
			break
		}
		pools = pools[:len(pools)-1]
	}
	content, _ := json.Marshal(user)
	body, _ := json.Marshal(map[string]any{
		"model":       m.opts.Model,
		"temperature": 0,
		"messages": []map[string]string{
			{"role": "system", "content": m.opts.SystemPrompt},
			{"role": "user", "content": string(content)},
		},
		"response_format": map[string]any{"type": "json_schema", "json_schema": map[string]any{"name": "deployment_plan", "strict": true, "schema": planSchema}},
	})
	var lastErr error
	for attempt := 0; attempt <= m.opts.Retries; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return "", ctx.Err()
			case <-time.After(time.Duration(attempt) * 500 * time.Millisecond):
			}
		}
		answer, retry, err := m.post(ctx, body)
		if err == nil {
			return answer, nil
		}
		lastErr = err
		if !retry {
			break
		}
	}
	return "", lastErr
}

func (m *Model) post(ctx context.Context, body []byte) (string, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, m.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.chat, bytes.NewReader(body))
	if err != nil {
		return "", false, err
	}
	req.Header.Set("Content-Type", "application/json")
	if m.opts.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+m.opts.APIKey)
	}
	resp, err := m.http.Do(req)
	if err != nil {
		return "", true, fmt.Errorf("the model did not answer: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", true, fmt.Errorf("reading the model's answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		retry := resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
		return "", retry, fmt.Errorf("the model answered %d", resp.StatusCode)
	}
	var out struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(data, &out); err != nil || len(out.Choices) == 0 {
		return "", false, errors.New("the model's answer is not a chat completion")
	}
	return out.Choices[0].Message.Content, false, nil
}

// modelSpec turns the model's answer into a plan, or says why it cannot
// be used: unknown functions, pools that do not exist, counts out of
// range.
func (s *Service) modelSpec(answer string, reqs intent.Requirements, known map[string]bool, base func(intent.Requirements) (deployment.Spec, error)) (deployment.Spec, float64, []string, error) {
	var mp modelPlan
	dec := json.NewDecoder(strings.NewReader(answer))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&mp); err != nil {
		return deployment.Spec{}, 0, nil, errors.New("the answer is not a plan of the requested shape")
	}
	if len(mp.Components) == 0 {
		return deployment.Spec{}, 0, nil, errors.New("the plan has no components")
	}
	var fns []intent.Function
	cpu, mem := map[string]string{}, map[string]string{}
	for _, c := range mp.Components {
		f := strings.ToLower(c.Function)
		if !slices.Contains(intent.Functions, f) {
			return deployment.Spec{}, 0, nil, fmt.Errorf("the plan names %q, which is not a network function", c.Function)
		}
		if c.Replicas < 1 || c.Replicas > 1000 {
			return deployment.Spec{}, 0, nil, fmt.Errorf("the plan gives %s %d replicas", f, c.Replicas)
		}
		fns = append(fns, intent.Function{Name: f, Replicas: c.Replicas})
		cpu[f], mem[f] = c.CPU, c.Memory
	}
	for _, id := range mp.ResourcePools {
		if !known[id] {
			return deployment.Spec{}, 0, nil, fmt.Errorf("the plan names resource pool %q, which does not exist", truncate(id, 64))
		}
	}
	r := reqs
	r.Functions = fns
	r.CPU, r.Memory = "", ""
	if mp.Spread >= 0 && mp.Spread <= 16 {
		r.Spread = max(r.Spread, mp.Spread)
	}
	spec, err := base(r)
	if err != nil {
		return deployment.Spec{}, 0, nil, err
	}
	for i := range spec.Components {
		c := &spec.Components[i]
		f := ""
		for _, fn := range fns {
			if intent.ComponentName(fn.Name) == c.Name {
				f = fn.Name
			}
		}
		if cpu[f] != "" || mem[f] != "" {
			c.Resources = resourcesOf(c, cpu[f], mem[f])
		}
	}
	spec.ResourcePools = mp.ResourcePools
	conf := mp.Confidence
	if conf < 0 || conf > 1 {
		conf = 0.5
	}
	return spec, conf, mp.Reasons, nil
}

// resourcesOf sets a component's per-replica requests from the model.
func resourcesOf(c *deployment.Component, cpu, memory string) *lcm.Resources {
	r := lcm.Resources{}
	if c.Resources != nil {
		r = *c.Resources
	}
	if cpu != "" {
		r.CPU = cpu
	}
	if memory != "" {
		r.Memory = memory
	}
	return &r
}
