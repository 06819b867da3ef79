package o2

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"strings"
	"time"
)

// LcmOperation is the kind of a lifecycle operation.
type LcmOperation string

// The operations of LcmOpOcc.Operation.
const (
	OpInstantiate LcmOperation = "INSTANTIATE"
	OpScale       LcmOperation = "SCALE"
	OpTerminate   LcmOperation = "TERMINATE"
)

// OperationState is the state of a lifecycle operation occurrence.
type OperationState string

// The states of LcmOpOcc.OperationState. STARTING and PROCESSING are
// transient; the others are final.
const (
	OpStarting   OperationState = "STARTING"
	OpProcessing OperationState = "PROCESSING"
	OpCompleted  OperationState = "COMPLETED"
	OpFailed     OperationState = "FAILED"
	OpRolledBack OperationState = "ROLLED_BACK"
)

// Final reports whether s is a final state: COMPLETED, FAILED or
// ROLLED_BACK.
func (s OperationState) Final() bool {
	switch s {
	case OpCompleted, OpFailed, OpRolledBack:
		return true
	}
	return false
}

// Problem is RFC 7807 problem details carried in an object, such as the
// reason a lifecycle operation failed.
type Problem struct {
	// Type is a URI reference identifying the problem type.
	Type string `json:"type,omitempty"`
	// Title is a short summary of the problem type.
	Title string `json:"title,omitempty"`
	// Status is the HTTP status code the problem corresponds to.
	Status int `json:"status,omitempty"`
	// Detail explains this occurrence of the problem.
	Detail string `json:"detail,omitempty"`
	// Instance identifies this occurrence.
	Instance string `json:"instance,omitempty"`
}

// String returns the status, title and detail, such as
// "422 Operation failed: pods did not become ready".
func (p *Problem) String() string {
	if p == nil {
		return ""
	}
	var parts []string
	if p.Status != 0 {
		parts = append(parts, fmt.Sprint(p.Status))
	}
	title := p.Title
	if title == "" && p.Status != 0 {
		title = http.StatusText(p.Status)
	}
	if title != "" {
		parts = append(parts, title)
	}
	s := strings.Join(parts, " ")
	if p.Detail != "" {
		if s != "" {
			s += ": "
		}
		s += p.Detail
	}
	return s
}

// LcmOpOcc is a lifecycle operation occurrence: one instantiation, scaling
// or termination of a CNF instance, run asynchronously by the IMS.
type LcmOpOcc struct {
	// ID identifies the operation.
	ID string `json:"id"`
	// Operation is what the operation does.
	Operation LcmOperation `json:"operation"`
	// OperationState is where the operation is.
	OperationState OperationState `json:"operationState"`
	// StartTime is when the operation was started.
	StartTime time.Time `json:"startTime,omitzero"`
	// StateEnteredTime is when the operation entered its state.
	StateEnteredTime time.Time `json:"stateEnteredTime,omitzero"`
	// CNFInstanceID identifies the instance the operation is on.
	CNFInstanceID string `json:"cnfInstanceId"`
	// OperationParams are the parameters of the request, and what the IMS
	// derived from them, such as the levels of a scaling.
	OperationParams map[string]any `json:"operationParams,omitempty"`
	// Error tells why the operation FAILED; nil otherwise.
	Error *Problem `json:"error,omitempty"`
}

// OperationError is the error of LcmOpOccService.Wait when the operation
// ends FAILED or ROLLED_BACK: the operation did not take effect. Its
// message holds the operation's problem detail. Test for it with
// errors.As.
type OperationError struct {
	// Op is the operation, in its final state.
	Op *LcmOpOcc
}

// Error returns the operation, its state and its problem, such as
// "INSTANTIATE operation 7d… of CNF instance 3f… FAILED: 422 Operation
// failed: …".
func (e *OperationError) Error() string {
	s := fmt.Sprintf("%s operation %s of CNF instance %s %s", e.Op.Operation, e.Op.ID, e.Op.CNFInstanceID, e.Op.OperationState)
	if p := e.Op.Error.String(); p != "" {
		s += ": " + p
	}
	return s
}

// LcmOpOccService reads and awaits the lifecycle operation occurrences
// that CNFInstanceService starts. Get one with Client.LcmOpOccs.
type LcmOpOccService struct {
	c   *Client
	col collection[LcmOpOcc]
}

// LcmOpOccs returns the service for the lifecycle operation occurrences.
func (c *Client) LcmOpOccs() *LcmOpOccService {
	return &LcmOpOccService{c: c, col: newCollection[LcmOpOcc](c, "lifecycle operation", NephoranAPIPrefix, "lcmOpOccs")}
}

// List returns the page of operations opts select, such as those of one
// instance with Eq("cnfInstanceId", id).
func (s *LcmOpOccService) List(ctx context.Context, opts ListOptions) (*Page[LcmOpOcc], error) {
	return s.col.list(ctx, opts)
}

// All iterates over every operation opts select, fetching pages of
// opts.Limit as needed.
func (s *LcmOpOccService) All(ctx context.Context, opts ListOptions) iter.Seq2[LcmOpOcc, error] {
	return s.col.all(ctx, opts)
}

// Get returns the operation with identifier id.
func (s *LcmOpOccService) Get(ctx context.Context, id string) (*LcmOpOcc, error) {
	return s.col.get(ctx, id)
}

// Wait polls the operation id, with backoff, until it reaches a final
// state, and returns it. When it ends FAILED or ROLLED_BACK, the operation
// is returned with an *OperationError holding its problem detail. A failed
// GET returns its error; once ctx ends, Wait returns an error wrapping
// ctx's that tells the last state seen, with the operation last read.
func (s *LcmOpOccService) Wait(ctx context.Context, id string) (*LcmOpOcc, error) {
	var last *LcmOpOcc
	err := s.c.pollUntil(ctx, func() (bool, error) {
		op, err := s.Get(ctx, id)
		if err != nil {
			return false, err
		}
		last = op
		return op.OperationState.Final(), nil
	})
	switch {
	case err != nil && last != nil && ctx.Err() != nil:
		return last, fmt.Errorf("o2: waiting for %s operation %s (state %s): %w", last.Operation, id, last.OperationState, err)
	case err != nil:
		return last, err
	case last.OperationState != OpCompleted:
		return last, &OperationError{Op: last}
	}
	return last, nil
}
