package alarms

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/query"
)

// WebhookMessage is Alertmanager's webhook payload, version 4.
type WebhookMessage struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []WebhookAlert    `json:"alerts"`
}

// WebhookAlert is one alert of a webhook message.
type WebhookAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// MaxAlertsPerMessage bounds one webhook message.
const MaxAlertsPerMessage = 1000

// Getter reads one inventory object.
type Getter interface {
	Get(ctx context.Context, sc *query.Schema, id string) (json.RawMessage, error)
}

// Receiver turns Alertmanager webhooks into alarms.
type Receiver struct {
	svc   *Service
	store interface {
		Getter
		List(ctx context.Context, sc *query.Schema, f query.Filter, limit int, after string) ([]json.RawMessage, string, bool, error)
	}
}

// NewReceiver returns an Alertmanager webhook receiver.
func NewReceiver(svc *Service, store Store) *Receiver {
	return &Receiver{svc: svc, store: store}
}

// Result counts what a webhook message did.
type Result struct {
	Raised   int `json:"raised"`
	Resolved int `json:"resolved"`
}

// Receive applies a webhook message: firing alerts open or update alarms
// (deduplicated by the alert's fingerprint), resolved alerts clear them.
func (r *Receiver) Receive(ctx context.Context, msg WebhookMessage) (Result, error) {
	var res Result
	if msg.Version != "4" {
		return res, ims.Errorf(ims.EINVALID, "version: only Alertmanager webhook version 4 is supported, got %q", msg.Version)
	}
	if len(msg.Alerts) > MaxAlertsPerMessage {
		return res, ims.Errorf(ims.EINVALID, "alerts: at most %d per message, got %d", MaxAlertsPerMessage, len(msg.Alerts))
	}
	for i, a := range msg.Alerts {
		if a.Status != "firing" && a.Status != "resolved" {
			return res, ims.Errorf(ims.EINVALID, "alerts[%d].status: must be firing or resolved, got %q", i, a.Status)
		}
		if a.Labels["alertname"] == "" && a.Fingerprint == "" {
			return res, ims.Errorf(ims.EINVALID, "alerts[%d]: needs an alertname label or a fingerprint", i)
		}
	}
	d := Definition(ExternalAlert)
	for _, a := range msg.Alerts {
		fp := "alertmanager/" + alertFingerprint(a)
		if a.Status == "resolved" {
			if err := r.svc.Resolve(ctx, fp); err != nil {
				return res, err
			}
			res.Resolved++
			continue
		}
		c := Condition{Fingerprint: fp, Definition: d, Severity: severityOf(a.Labels["severity"])}
		ext := ims.Extensions{
			"source":      "alertmanager",
			"alertName":   a.Labels["alertname"],
			"labels":      a.Labels,
			"annotations": a.Annotations,
			"startsAt":    a.StartsAt.UTC().Format(time.RFC3339),
			"fingerprint": a.Fingerprint,
		}
		if a.GeneratorURL != "" {
			ext["generatorURL"] = a.GeneratorURL
		}
		r.link(ctx, a.Labels, &c, ext)
		c.Extensions = ext
		if _, err := r.svc.Raise(ctx, c); err != nil {
			return res, err
		}
		res.Raised++
	}
	return res, nil
}

// link ties an alert to an inventory object by its labels: resource_id,
// then node, then pool_id, then provider. An alert that matches nothing is
// attached to the O-Cloud as a whole; none is rejected.
func (r *Receiver) link(ctx context.Context, labels map[string]string, c *Condition, ext ims.Extensions) {
	if id := labels["resource_id"]; id != "" {
		if res, ok := r.resource(ctx, id); ok {
			c.ResourceID, c.ResourceTypeID = res.ResourceID, res.ResourceTypeID
			ext["resourcePoolId"] = res.ResourcePoolID
			return
		}
	}
	if node := labels["node"]; node != "" {
		f := query.Filter{Terms: []query.Term{{Op: query.Eq, Path: []string{"extensions", "nodeName"}, Values: []string{node}}}}
		if docs, _, _, err := r.store.List(ctx, inventory.ResourceSchema, f, 1, ""); err == nil && len(docs) == 1 {
			var res ims.Resource
			if json.Unmarshal(docs[0], &res) == nil {
				c.ResourceID, c.ResourceTypeID = res.ResourceID, res.ResourceTypeID
				ext["resourcePoolId"] = res.ResourcePoolID
				return
			}
		}
	}
	if pool := labels["pool_id"]; pool != "" {
		if _, err := r.store.Get(ctx, inventory.ResourcePoolSchema, pool); err == nil {
			ext["resourcePoolId"] = pool
		}
	}
	if p := labels["provider"]; p != "" {
		ext["provider"] = p
	}
}

func (r *Receiver) resource(ctx context.Context, id string) (ims.Resource, bool) {
	doc, err := r.store.Get(ctx, inventory.ResourceSchema, id)
	if err != nil {
		return ims.Resource{}, false
	}
	var res ims.Resource
	return res, json.Unmarshal(doc, &res) == nil
}

// alertFingerprint is Alertmanager's fingerprint, or a hash of the sorted
// labels when a sender leaves it out.
func alertFingerprint(a WebhookAlert) string {
	if a.Fingerprint != "" {
		return a.Fingerprint
	}
	keys := make([]string, 0, len(a.Labels))
	for k := range a.Labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	h := sha256.New()
	for _, k := range keys {
		h.Write([]byte(k + "\x00" + a.Labels[k] + "\x00"))
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// severityOf maps an alert's severity label to perceivedSeverity.
func severityOf(label string) ims.PerceivedSeverity {
	switch strings.ToLower(label) {
	case "critical", "page", "emergency", "fatal":
		return ims.SeverityCritical
	case "major", "high", "error":
		return ims.SeverityMajor
	case "minor", "medium":
		return ims.SeverityMinor
	case "warning", "warn", "low":
		return ims.SeverityWarning
	default:
		return ims.SeverityIndeterminate
	}
}
