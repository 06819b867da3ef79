package provisioning

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"time"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/sqlstore"
)

// Run drives the requests whose realization is due until ctx ends, then
// waits for the calls under way. Everything the worker needs is in the
// store (the realizer's state, when to call it next, when the current
// apply or delete began), so a restarted server resumes where the last one
// stopped.
func (s *Service) Run(ctx context.Context) {
	ticker := time.NewTicker(s.opts.PollInterval)
	defer ticker.Stop()
	for {
		s.dispatchDue(ctx)
		select {
		case <-ctx.Done():
			s.wg.Wait()
			return
		case <-ticker.C:
		case <-s.kick:
		}
	}
}

// dispatchDue starts a step for every due request not under way, up to
// the concurrency.
func (s *Service) dispatchDue(ctx context.Context) {
	ids, err := s.store.DueProvisioningRequests(ctx, s.now().UnixMilli(), s.opts.Concurrency*2)
	if err != nil {
		if ctx.Err() == nil {
			s.logger.Error("reading due provisioning requests failed", "err", err)
		}
		return
	}
	for _, id := range ids {
		s.mu.Lock()
		if s.inflight[id] || len(s.inflight) >= s.opts.Concurrency {
			s.mu.Unlock()
			continue
		}
		s.inflight[id] = true
		s.mu.Unlock()
		s.wg.Go(func() {
			defer func() {
				s.mu.Lock()
				delete(s.inflight, id)
				s.mu.Unlock()
				select {
				case s.kick <- struct{}{}:
				default:
				}
			}()
			s.step(ctx, id)
		})
	}
}

// outcome is what one step decided for a request.
type outcome struct {
	progress Progress
	err      error // transient
}

// step calls the request's realizer once and records the outcome.
func (s *Service) step(ctx context.Context, id string) {
	var info RequestInfo
	var work sqlstore.ProvisioningWork
	err := s.store.Update(ctx, func(tx *sqlstore.ObjectTx) error {
		var err error
		info, work, err = read(ctx, tx, id)
		return err
	})
	if err != nil {
		if ims.ErrorCode(err) != ims.ENOTFOUND && ctx.Err() == nil {
			s.logger.Error("reading a provisioning request failed", "request", id, "err", err)
		}
		return
	}
	now := s.now()
	if work.NextAttempt == 0 || work.NextAttempt > now.UnixMilli() {
		return
	}
	gen := work.Generation
	if elapsed := now.Sub(time.UnixMilli(work.StartedAt)); elapsed > s.opts.Timeout {
		what := "fulfilled"
		if work.Deleting {
			what = "deleted"
		}
		s.record(ctx, id, gen, outcome{progress: Progress{Phase: Failed,
			Message: fmt.Sprintf("the infrastructure was not %s within %s", what, s.opts.Timeout)}})
		return
	}
	d := info.ProvisioningRequestData
	t, ok := s.catalog.Find(d.TemplateName, d.TemplateVersion)
	if !ok {
		s.record(ctx, id, gen, outcome{progress: Progress{Phase: Failed,
			Message: fmt.Sprintf("template %s version %s is no longer offered", d.TemplateName, d.TemplateVersion)}})
		return
	}
	r := s.opts.Realizers[t.Kind]
	if r == nil {
		s.record(ctx, id, gen, outcome{progress: Progress{Phase: Failed,
			Message: fmt.Sprintf("no realizer of kind %s is configured", t.Kind)}})
		return
	}
	stored, err := s.storedParameters(id, d, work)
	if err != nil {
		s.record(ctx, id, gen, outcome{progress: Progress{Phase: Failed, Message: ims.ErrorMessage(err)}})
		return
	}
	params, err := Parameters(t, stored)
	if err != nil {
		s.record(ctx, id, gen, outcome{progress: Progress{Phase: Failed, Message: ims.ErrorMessage(err)}})
		return
	}
	if info.Status.ProvisioningPhase == PhasePending {
		s.markProgressing(ctx, id, gen)
	}
	job := Job{RequestID: id, Template: t, Parameters: params, State: work.State}
	cctx, cancel := context.WithTimeout(ctx, s.opts.CallTimeout)
	var p Progress
	if work.Deleting {
		p, err = r.Delete(cctx, job)
	} else {
		p, err = r.Apply(cctx, job)
	}
	cancel()
	if ctx.Err() != nil {
		// Shutting down: the request stays due; the next start calls again.
		return
	}
	s.record(ctx, id, gen, outcome{progress: p, err: err})
}

// markProgressing moves a PENDING request to PROGRESSING as its first
// realizer call starts.
func (s *Service) markProgressing(ctx context.Context, id string, gen int64) {
	changed := false
	err := s.store.Update(ctx, func(tx *sqlstore.ObjectTx) error {
		info, work, err := read(ctx, tx, id)
		if err != nil || work.Generation != gen || info.Status.ProvisioningPhase != PhasePending {
			return err
		}
		changed = true
		info.Status.ProvisioningPhase, info.Status.Message, info.Status.UpdateTime = PhaseProgressing, "applying the template", s.timestamp()
		doc, err := encode(info)
		if err != nil {
			return err
		}
		return tx.Put(ctx, Schema, id, doc)
	})
	if err != nil && ctx.Err() == nil {
		s.logger.Error("recording a provisioning step failed", "request", id, "err", err)
	}
	if changed {
		s.wake()
	}
}

// record stores an outcome, unless the request changed since the step
// read it (then only the realizer's state is kept: the changed request is
// due again already).
func (s *Service) record(ctx context.Context, id string, gen int64, o outcome) {
	now := s.now()
	changed := false
	deleted := false
	err := s.store.Update(ctx, func(tx *sqlstore.ObjectTx) error {
		info, work, err := read(ctx, tx, id)
		if err != nil {
			return err
		}
		if work.Generation != gen {
			if o.err == nil && o.progress.State != nil {
				work.State = o.progress.State
				return tx.SetProvisioningWork(ctx, id, work)
			}
			return nil
		}
		st := info.Status
		p := o.progress
		if o.err == nil && p.State != nil {
			work.State = p.State
		}
		switch {
		case o.err != nil:
			work.Attempts++
			work.NextAttempt = now.Add(backoff(work.Attempts)).UnixMilli()
			st.Message = fmt.Sprintf("retrying after a transient error (attempt %d): %s", work.Attempts, errorDetail(o.err))
		case p.Phase == Progressing:
			work.Attempts = 0
			wait := p.RetryAfter
			if wait <= 0 {
				wait = s.opts.PollInterval
			}
			work.NextAttempt = now.Add(wait).UnixMilli()
			st.ProvisioningPhase = PhaseProgressing
			if work.Deleting {
				st.ProvisioningPhase = PhaseDeleting
			}
			st.Message = orDefault(p.Message, "in progress")
		case p.Phase == Fulfilled && !work.Deleting:
			work.Attempts, work.NextAttempt = 0, 0
			st.ProvisioningPhase, st.Message = PhaseFulfilled, orDefault(p.Message, "the infrastructure is in place")
		case p.Phase == Deleted && work.Deleting:
			deleted = true
			return tx.Delete(ctx, Schema, id)
		case p.Phase == Failed:
			work.Attempts, work.NextAttempt = 0, 0
			st.ProvisioningPhase, st.Message = PhaseFailed, orDefault(p.Message, "the realization failed")
		default:
			work.Attempts, work.NextAttempt = 0, 0
			st.ProvisioningPhase = PhaseFailed
			st.Message = fmt.Sprintf("the %s realizer answered %q, which is not a final phase of this operation", info.ProvisioningRequestData.TemplateName, p.Phase)
		}
		if o.err == nil {
			st.InfrastructureResourceProvisioningStatus = resourceStatuses(p.Resources, st.InfrastructureResourceProvisioningStatus)
			info.ProvisionedResourceSet.InfrastructureResourceIDs = resourceIDs(p.Resources, info.ProvisionedResourceSet.InfrastructureResourceIDs)
		}
		if err := tx.SetProvisioningWork(ctx, id, work); err != nil {
			return err
		}
		prior := info.Status
		prior.UpdateTime, st.UpdateTime = "", ""
		if reflect.DeepEqual(prior, st) {
			return nil
		}
		changed = true
		st.UpdateTime = s.timestamp()
		info.Status = st
		doc, err := encode(info)
		if err != nil {
			return err
		}
		return tx.Put(ctx, Schema, id, doc)
	})
	if err != nil {
		if ims.ErrorCode(err) != ims.ENOTFOUND && ctx.Err() == nil {
			s.logger.Error("recording a provisioning step failed", "request", id, "err", err)
		}
		return
	}
	if changed || deleted {
		s.wake()
	}
	switch {
	case deleted:
		s.logger.Info("provisioning request deleted: its infrastructure is gone", "request", id)
	case o.err != nil:
		s.logger.Warn("provisioning step failed; retrying", "request", id, "err", o.err)
	case changed:
		s.logger.Info("provisioning request progressed", "request", id, "phase", o.progress.Phase, "message", o.progress.Message)
	}
}

func resourceStatuses(rs []Resource, old []ResourceStatus) []ResourceStatus {
	if rs == nil {
		if old == nil {
			return []ResourceStatus{}
		}
		return old
	}
	out := make([]ResourceStatus, 0, len(rs))
	for _, r := range rs {
		out = append(out, ResourceStatus{ResourceName: r.Name, ResourceID: r.ID, ResourceProvisioningPhase: r.Phase})
	}
	return out
}

func resourceIDs(rs []Resource, old []string) []string {
	if rs == nil {
		if old == nil {
			return []string{}
		}
		return old
	}
	out := []string{}
	for _, r := range rs {
		if r.ID != "" {
			out = append(out, r.ID)
		}
	}
	return out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// backoff is the wait before the n-th retry of a transient failure:
// exponential from 1s up to 1m, with jitter.
func backoff(n int) time.Duration {
	d := time.Second << min(n-1, 6)
	d = min(d, time.Minute)
	return d/2 + rand.N(d/2+1)
}

func errorDetail(err error) string {
	var e *ims.Error
	if errors.As(err, &e) && e.Code != ims.EINTERNAL {
		return e.Message
	}
	msg := err.Error()
	if len(msg) > 500 {
		msg = msg[:500]
	}
	return msg
}
