package a1

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/nephoran/o2ims/internal/report"
)

// JobData is what an information job of the resource report may ask
// (its info_job_data). Every list given narrows the report; the API and
// notification figures, the IMS's own performance, are always whole.
type JobData struct {
	// ResourcePoolIDs, Regions and Providers select resource pools: by
	// id, by region, by provider type (kubernetes, aws, …) or provider
	// name. The report holds the pools all given lists select and the
	// deployments running on at least one of them.
	ResourcePoolIDs []string `json:"resourcePoolIds,omitempty"`
	Regions         []string `json:"regions,omitempty"`
	Providers       []string `json:"providers,omitempty"`
	// DeploymentIDs selects deployments.
	DeploymentIDs []string `json:"deploymentIds,omitempty"`
	// ReportInterval is the job's report period in seconds; zero is the
	// producer's.
	ReportInterval float64 `json:"reportInterval,omitempty"`
}

// Report is what a job's target receives: the /o2ims/v1/metrics document,
// narrowed by the job's data, with who sent it for which job, when, and
// its place in the job's sequence.
type Report struct {
	ProducerID string `json:"producerId"`
	InfoTypeID string `json:"infoTypeId"`
	JobID      string `json:"jobId"`
	// Sequence is 1 for a job's first report and one more for every
	// report the producer tried to send since, delivered or not: a gap
	// is reports that did not arrive. A job ICS changes keeps counting; a
	// job created again, or a restarted IMS, starts again at 1.
	Sequence uint64 `json:"sequence"`
	// Timestamp is when the report was sent.
	Timestamp string `json:"timestamp"`
	// ReportInterval is the job's report period in seconds.
	ReportInterval float64 `json:"reportInterval"`
	report.Report
}

// jobDataSchema is the JSON schema of JobData (draft-07, as the ICS
// examples use), with reportInterval at least minSeconds.
func jobDataSchema(minSeconds float64) json.RawMessage {
	list := func(what string) map[string]any {
		return map[string]any{
			"type": "array", "description": what,
			"items":    map[string]any{"type": "string", "minLength": 1, "maxLength": 256},
			"minItems": 1, "maxItems": 1000, "uniqueItems": true,
		}
	}
	b, _ := json.Marshal(map[string]any{
		"$schema":     "http://json-schema.org/draft-07/schema#",
		"title":       "O2 IMS resource report job",
		"description": "Narrows the report an information job receives; every list given must match. Without job data the job receives the whole report every default interval.",
		"type":        "object",
		"properties": map[string]any{
			"resourcePoolIds": list("resource pools to report, by resourcePoolId"),
			"regions":         list("resource pools to report, by region"),
			"providers":       list("resource pools to report, by provider type (kubernetes, aws, …) or provider name"),
			"deploymentIds":   list("deployments to report, by deploymentId"),
			"reportInterval": map[string]any{
				"type": "number", "minimum": minSeconds, "maximum": 86400,
				"description": "seconds between two reports",
			},
		},
		"additionalProperties": false,
	})
	return b
}

// compileSchema compiles a schema of ours; it has no references to load.
func compileSchema(schema json.RawMessage) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	const loc = "mem:///o2ims-resource-report-job.json"
	if err := c.AddResource(loc, doc); err != nil {
		return nil, err
	}
	return c.Compile(loc)
}

// parseJobData validates raw job data against schema and decodes it; no
// data (absent or null) asks for everything.
func parseJobData(schema *jsonschema.Schema, raw json.RawMessage) (JobData, error) {
	var d JobData
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return d, nil
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return d, fmt.Errorf("info_job_data is not JSON")
	}
	if err := schema.Validate(doc); err != nil {
		return d, fmt.Errorf("info_job_data: %s", validationMessage(err))
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return d, fmt.Errorf("info_job_data: %w", err)
	}
	return d, nil
}

// validationMessage says on one line where and why data fails the schema.
func validationMessage(err error) string {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err.Error()
	}
	var parts []string
	for _, u := range ve.BasicOutput().Errors {
		if u.Error == nil {
			continue
		}
		at := u.InstanceLocation
		if at == "" {
			at = "/"
		}
		parts = append(parts, "at "+at+": "+u.Error.String())
	}
	if len(parts) == 0 {
		return "does not match the job data schema"
	}
	return clip(strings.Join(parts, "; "))
}

// narrow returns the part of r the job asks for. It does not change r,
// which other jobs share.
func (d JobData) narrow(r report.Report) report.Report {
	byPool := len(d.ResourcePoolIDs) > 0 || len(d.Regions) > 0 || len(d.Providers) > 0
	out := r
	out.ResourcePools = []report.Pool{}
	kept := map[string]bool{}
	for _, p := range r.ResourcePools {
		if (len(d.ResourcePoolIDs) == 0 || slices.Contains(d.ResourcePoolIDs, p.ResourcePoolID)) &&
			(len(d.Regions) == 0 || slices.Contains(d.Regions, p.Region)) &&
			(len(d.Providers) == 0 || slices.Contains(d.Providers, p.Provider) || p.ProviderName != "" && slices.Contains(d.Providers, p.ProviderName)) {
			out.ResourcePools = append(out.ResourcePools, p)
			kept[p.ResourcePoolID] = true
		}
	}
	out.Deployments = []report.Deployment{}
	for _, dep := range r.Deployments {
		if len(d.DeploymentIDs) > 0 && !slices.Contains(d.DeploymentIDs, dep.DeploymentID) {
			continue
		}
		if byPool && !slices.ContainsFunc(dep.ResourcePools, func(id string) bool { return kept[id] }) {
			continue
		}
		out.Deployments = append(out.Deployments, dep)
	}
	return out
}
