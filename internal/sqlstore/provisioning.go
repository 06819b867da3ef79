package sqlstore

import (
	"context"
	"fmt"

	"github.com/nephoran/o2ims/internal/ims"
)

// ProvisioningWork is the provisioning worker's own record of a request,
// kept beside its document in provisioning_requests and never shown
// through the API.
type ProvisioningWork struct {
	// Parameters are the request's templateParameters in full (JSON),
	// including those its document leaves out.
	Parameters []byte
	// State is the realizer's state of its last call (nil before the first).
	State []byte
	// NextAttempt is when the worker calls the realizer again, in Unix
	// milliseconds; 0 when nothing is left to do.
	NextAttempt int64
	// StartedAt is when the current apply or delete began (Unix ms).
	StartedAt int64
	// Attempts counts the transient failures since the last success.
	Attempts int
	// Generation counts the request's changes through the API.
	Generation int64
	// Deleting marks a request whose infrastructure is being removed.
	Deleting bool
}

// ProvisioningWork reads the worker's record of a provisioning request.
func (t *ObjectTx) ProvisioningWork(ctx context.Context, id string) (ProvisioningWork, error) {
	var w ProvisioningWork
	var params, state *string
	var deleting int
	err := t.tx.QueryRowContext(ctx, t.s.rebind(
		"SELECT parameters, realizer_state, next_attempt, started_at, attempts, generation, deleting FROM provisioning_requests WHERE id = ?"), id).
		Scan(&params, &state, &w.NextAttempt, &w.StartedAt, &w.Attempts, &w.Generation, &deleting)
	if isNoRows(err) {
		return w, ims.Errorf(ims.ENOTFOUND, "provisioning request %q not found", id)
	}
	if err != nil {
		return w, ims.Internal(fmt.Errorf("read provisioning work %s: %w", id, err), "reading failed")
	}
	if params != nil {
		w.Parameters = []byte(*params)
	}
	if state != nil {
		w.State = []byte(*state)
	}
	w.Deleting = deleting != 0
	return w, nil
}

// SetProvisioningWork writes the worker's record of a provisioning
// request whose document exists.
func (t *ObjectTx) SetProvisioningWork(ctx context.Context, id string, w ProvisioningWork) error {
	var params, state any
	if w.Parameters != nil {
		params = string(w.Parameters)
	}
	if w.State != nil {
		state = string(w.State)
	}
	deleting := 0
	if w.Deleting {
		deleting = 1
	}
	n, err := t.Exec(ctx, "UPDATE provisioning_requests SET parameters = ?, realizer_state = ?, next_attempt = ?, started_at = ?, attempts = ?, generation = ?, deleting = ? WHERE id = ?",
		params, state, w.NextAttempt, w.StartedAt, w.Attempts, w.Generation, deleting, id)
	if err != nil {
		return err
	}
	if n == 0 {
		return ims.Errorf(ims.ENOTFOUND, "provisioning request %q not found", id)
	}
	return nil
}

// DueProvisioningRequests returns the ids of up to limit provisioning
// requests whose next attempt is at or before now (Unix ms), the most
// overdue first.
func (s *Store) DueProvisioningRequests(ctx context.Context, now int64, limit int) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, s.rebind(
		"SELECT id FROM provisioning_requests WHERE next_attempt > 0 AND next_attempt <= ? ORDER BY next_attempt, id LIMIT ?"), now, limit)
	if err != nil {
		return nil, ims.Internal(fmt.Errorf("due provisioning requests: %w", err), "reading failed")
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, ims.Internal(fmt.Errorf("scan due provisioning request: %w", err), "reading failed")
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, ims.Internal(fmt.Errorf("due provisioning requests: %w", err), "reading failed")
	}
	return ids, nil
}
