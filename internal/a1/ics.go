package a1

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// icsProducerPath is where the Data Producer API lives under an ICS's base
// URL (O-RAN SC nonrtric-plt-informationcoordinatorservice, api/ics-api.yaml).
const icsProducerPath = "/data-producer/v1"

// InfoType is the registration of an information type with ICS
// (producer_info_type_info).
type InfoType struct {
	// InfoJobDataSchema is the JSON schema of the type's job data.
	InfoJobDataSchema json.RawMessage `json:"info_job_data_schema"`
	// InfoTypeInformation is free-form information about the type.
	InfoTypeInformation json.RawMessage `json:"info_type_information,omitempty"`
}

// InfoProducer is the registration of an information producer with ICS
// (producer_registration_info).
type InfoProducer struct {
	// InfoJobCallbackURL receives a POST of an InfoJob when a job is
	// created or changed, and a DELETE of {url}/{infoJobId} when it is
	// deleted.
	InfoJobCallbackURL string `json:"info_job_callback_url"`
	// InfoProducerSupervisionCallbackURL receives ICS's GET supervision.
	InfoProducerSupervisionCallbackURL string `json:"info_producer_supervision_callback_url"`
	// SupportedInfoTypes are the ids of the types the producer produces.
	SupportedInfoTypes []string `json:"supported_info_types"`
}

// InfoJob is an information job as ICS hands it to its producers
// (producer_info_job_request).
type InfoJob struct {
	InfoJobIdentity  string          `json:"info_job_identity"`
	InfoTypeIdentity string          `json:"info_type_identity,omitempty"`
	InfoJobData      json.RawMessage `json:"info_job_data,omitempty"`
	// TargetURI is where the job's information goes.
	TargetURI string `json:"target_uri,omitempty"`
	Owner     string `json:"owner,omitempty"`
	// LastUpdated is when the job was created or last changed (ISO 8601).
	LastUpdated string `json:"last_updated,omitempty"`
}

// ICSClient calls the Data Producer API of a Non-RT RIC's Information
// Coordination Service under {base}/data-producer/v1. Like Client it never
// retries, and its errors are *Error for non-2xx answers (IsNotFound,
// Retryable apply).
type ICSClient struct {
	c *Client
}

// NewICSClient returns a client of the ICS at baseURL, an absolute http or
// https URL without the /data-producer/v1 suffix, such as
// "http://informationservice:8083".
func NewICSClient(baseURL string, opts Options) (*ICSClient, error) {
	c, err := newClient("ICS base URL", baseURL, icsProducerPath, opts)
	if err != nil {
		return nil, err
	}
	return &ICSClient{c: c}, nil
}

// PutInfoType creates or replaces an information type.
func (c *ICSClient) PutInfoType(ctx context.Context, id string, t InfoType) error {
	op := "PUT info type " + id
	if err := checkID("info type id", id); err != nil {
		return fmt.Errorf("A1 %s: %w", op, err)
	}
	return c.put(ctx, op, "/info-types/"+url.PathEscape(id), t)
}

// PutInfoProducer registers a producer, or replaces its registration;
// ICS then sends it every job of its types.
func (c *ICSClient) PutInfoProducer(ctx context.Context, id string, p InfoProducer) error {
	op := "PUT info producer " + id
	if err := checkID("info producer id", id); err != nil {
		return fmt.Errorf("A1 %s: %w", op, err)
	}
	return c.put(ctx, op, "/info-producers/"+url.PathEscape(id), p)
}

// InfoProducer returns a producer's registration; a producer ICS does not
// know is an error for which IsNotFound holds.
func (c *ICSClient) InfoProducer(ctx context.Context, id string) (InfoProducer, error) {
	op := "GET info producer " + id
	var p InfoProducer
	if err := checkID("info producer id", id); err != nil {
		return p, fmt.Errorf("A1 %s: %w", op, err)
	}
	body, err := c.c.do(ctx, op, http.MethodGet, "/info-producers/"+url.PathEscape(id), nil)
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return p, fmt.Errorf("A1 %s: decoding the answer: %w", op, err)
	}
	return p, nil
}

// InfoProducerJobs returns the jobs ICS holds for a producer's types.
func (c *ICSClient) InfoProducerJobs(ctx context.Context, id string) ([]InfoJob, error) {
	op := "GET info jobs of producer " + id
	if err := checkID("info producer id", id); err != nil {
		return nil, fmt.Errorf("A1 %s: %w", op, err)
	}
	body, err := c.c.do(ctx, op, http.MethodGet, "/info-producers/"+url.PathEscape(id)+"/info-jobs", nil)
	if err != nil {
		return nil, err
	}
	var jobs []InfoJob
	if err := json.Unmarshal(body, &jobs); err != nil {
		return nil, fmt.Errorf("A1 %s: decoding the answer: %w", op, err)
	}
	return jobs, nil
}

func (c *ICSClient) put(ctx context.Context, op, path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("A1 %s: %w", op, err)
	}
	_, err = c.c.do(ctx, op, http.MethodPut, path, b)
	return err
}
