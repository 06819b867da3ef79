package o2

import (
	"context"
	"iter"
)

// ProbableCause is a probable cause of alarms, referred to by
// AlarmEventRecord.ProbableCauseID.
type ProbableCause struct {
	// ProbableCauseID identifies the probable cause.
	ProbableCauseID string `json:"probableCauseId"`
	// Name is the probable cause's name, such as "Provider unreachable".
	Name string `json:"name"`
	// Description is a human-readable description.
	Description string `json:"description"`
}

// ProbableCauseService reads the probable causes of alarms. Get one with
// Client.ProbableCauses.
type ProbableCauseService struct {
	col collection[ProbableCause]
}

// ProbableCauses returns the service for the probable causes of alarms.
func (c *Client) ProbableCauses() *ProbableCauseService {
	return &ProbableCauseService{col: newCollection[ProbableCause](c, "probable cause", MonitoringAPIPrefix, "alarmProbableCauses")}
}

// List returns the page of probable causes opts select.
func (s *ProbableCauseService) List(ctx context.Context, opts ListOptions) (*Page[ProbableCause], error) {
	return s.col.list(ctx, opts)
}

// All iterates over every probable cause opts select, fetching pages of
// opts.Limit as needed.
func (s *ProbableCauseService) All(ctx context.Context, opts ListOptions) iter.Seq2[ProbableCause, error] {
	return s.col.all(ctx, opts)
}

// Get returns the probable cause with identifier id.
func (s *ProbableCauseService) Get(ctx context.Context, id string) (*ProbableCause, error) {
	return s.col.get(ctx, id)
}
