package agent

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"time"

	"github.com/nephoran/o2ims/internal/edge"
)

// session heartbeats, reports and renews with the current certificate
// until ctx ends or the certificate becomes unusable (errCertificateRefused,
// errCertificateExpired) or the server untrusted (ErrUntrustedServer).
// Everything else is logged and retried.
func (a *Agent) session(ctx context.Context) error {
	bo := newBackoff(a.opts.MinBackoff, a.opts.MaxBackoff)
	sendInventory := false
	for {
		if a.needsEnrolment(time.Now()) {
			return errCertificateExpired
		}
		wait, err := a.tick(ctx, &sendInventory)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			switch classify(err, true) {
			case untrusted:
				return fmt.Errorf("%w: %v", ErrUntrustedServer, err)
			case refused:
				return fmt.Errorf("%w: %v", errCertificateRefused, err)
			case final:
				// The server refused a report (a clock out of step, say):
				// try again at the normal pace, not faster.
				wait = a.heartbeatWait()
				a.log.ErrorContext(ctx, "the server refused a report", "err", err, "next_in", wait)
			default:
				wait = bo.next(retryAfterOf(err))
				a.log.WarnContext(ctx, "the server is unreachable or failing, retrying", "err", err, "in", wait)
			}
		} else {
			bo.reset()
		}
		if !sleep(ctx, wait) {
			return ctx.Err()
		}
	}
}

// tick renews the certificate if due, sends the inventory if it changed or
// the server asked for it, and heartbeats. It returns how long to wait for
// the next tick.
func (a *Agent) tick(ctx context.Context, sendInventory *bool) (time.Duration, error) {
	a.mu.Lock()
	leaf := a.cert.Leaf
	a.mu.Unlock()
	if !time.Now().Before(renewAt(leaf)) {
		if err := a.renew(ctx); err != nil {
			if o := classify(err, true); o == untrusted || o == refused {
				return 0, err
			}
			// The old certificate is valid for a while yet: keep the
			// lease alive and try again on the next tick.
			a.log.WarnContext(ctx, "certificate renewal failed, retrying on the next heartbeat", "err", err, "not_after", leaf.NotAfter)
		}
	}
	// The inventory is sent when the server asks for it and when it
	// changes. After a restart the agent does not know what the server
	// holds: the heartbeat carries the hash and the server asks if it
	// differs.
	inv := a.inventory(ctx)
	hash := a.sentHash
	if inv != nil {
		if *sendInventory || (a.sentHash != "" && inv.Hash != a.sentHash) {
			err := a.report(ctx, edge.PathInventory, func(r edge.Report) any {
				return edge.InventoryRequest{Report: r, Inventory: *inv}
			}, nil)
			if err != nil {
				return 0, err
			}
			a.log.InfoContext(ctx, "inventory reported", "hash", inv.Hash, "resources", len(inv.Resources))
			a.sentHash, *sendInventory = inv.Hash, false
		}
		hash = inv.Hash
	}
	var resp edge.HeartbeatResponse
	err := a.report(ctx, edge.PathHeartbeat, func(r edge.Report) any {
		return edge.HeartbeatRequest{Report: r, AgentVersion: a.opts.Version, Addresses: a.addresses(), InventoryHash: hash}
	}, &resp)
	if err != nil {
		return 0, err
	}
	if d := edge.Duration(resp.HeartbeatIntervalSeconds); d > 0 && d != a.interval {
		a.log.InfoContext(ctx, "heartbeat interval set by the server", "interval", d)
		a.interval = d
	}
	if resp.SendInventory {
		*sendInventory = true
		if inv != nil {
			return 0, nil // send it right away
		}
		return a.heartbeatWait(), nil
	}
	a.sentHash = hash
	return a.heartbeatWait(), nil
}

// heartbeatWait is the interval less up to a tenth, so that agents started
// together spread out and none is late.
func (a *Agent) heartbeatWait() time.Duration {
	d := a.interval
	if d <= 0 {
		d = edge.DefaultHeartbeatInterval
	}
	return d - rand.N(d/10+1)
}

// report sends one report, stamped with the clock and the next sequence
// number. If the server says the sequence is behind (the agent restarted
// with its clock set back), it continues after the server's and tries once
// more.
func (a *Agent) report(ctx context.Context, path string, build func(edge.Report) any, out any) error {
	for attempt := 0; ; attempt++ {
		r := edge.Report{NodeID: a.NodeID(), Sequence: a.nextSequence(), Timestamp: time.Now().UTC()}
		err := a.call(ctx, a.client, path, "", build(r), out)
		var pe *problemError
		if attempt == 0 && errors.As(err, &pe) && pe.status == 409 && pe.problem.LastSequence != nil {
			a.log.WarnContext(ctx, "report sequence behind the server's, continuing after it", "sequence", r.Sequence, "server_last", *pe.problem.LastSequence)
			a.seq = max(a.seq, *pe.problem.LastSequence)
			continue
		}
		return err
	}
}

// nextSequence numbers reports. It starts from the clock in milliseconds,
// so that it keeps increasing across restarts without being stored.
func (a *Agent) nextSequence() uint64 {
	a.seq = max(a.seq+1, uint64(time.Now().UnixMilli()))
	return a.seq
}

// renew asks for a certificate for a new key under the current one.
func (a *Agent) renew(ctx context.Context) error {
	key, err := newKey()
	if err != nil {
		return err
	}
	csr, err := newCSR(key, a.opts.NodeName)
	if err != nil {
		return err
	}
	var resp edge.CertificateResponse
	if err := a.call(ctx, a.client, edge.PathRenew, "", edge.RenewRequest{CSR: csr}, &resp); err != nil {
		return err
	}
	a.mu.Lock()
	ca := a.ca
	a.mu.Unlock()
	cert, err := checkIssued(resp, ca, key)
	if err != nil {
		return err
	}
	if err := a.saveIdentity(cert, key); err != nil {
		return err
	}
	// Connections made with the old certificate are not reused.
	a.client.CloseIdleConnections()
	a.log.InfoContext(ctx, "certificate renewed", "serial", cert.SerialNumber.Text(16), "not_after", cert.NotAfter)
	return nil
}

// inventory discovers the node; nil (logged) if discovery fails, in which
// case heartbeats go on without it.
func (a *Agent) inventory(ctx context.Context) *edge.Inventory {
	snap, err := a.disc.Discover(ctx)
	if err != nil {
		if ctx.Err() == nil {
			a.log.WarnContext(ctx, "discovering the node failed; no inventory is reported", "err", err, "root", a.opts.Root)
		}
		return nil
	}
	inv, err := inventoryOf(snap)
	if err != nil {
		a.log.WarnContext(ctx, "the node's inventory could not be encoded", "err", err)
		return nil
	}
	return &inv
}

// addresses are the addresses reported: the configured ones, else the
// host's global unicast addresses.
func (a *Agent) addresses() []string {
	if a.opts.Addresses != nil {
		return a.opts.Addresses
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []string
	for _, addr := range addrs {
		if ipn, ok := addr.(*net.IPNet); ok && ipn.IP.IsGlobalUnicast() {
			out = append(out, ipn.IP.String())
		}
	}
	return out
}

// backoff is capped exponential backoff with jitter: each wait is between
// half and all of the current step, so agents cut off together do not come
// back together.
type backoff struct {
	min, max, cur time.Duration
}

func newBackoff(lo, hi time.Duration) *backoff { return &backoff{min: lo, max: hi} }

// next returns the next wait, at least floor (a Retry-After).
func (b *backoff) next(floor time.Duration) time.Duration {
	if b.cur == 0 {
		b.cur = b.min
	} else {
		b.cur = min(b.cur*2, b.max)
	}
	return max(b.cur/2+rand.N(b.cur/2+1), floor)
}

func (b *backoff) reset() { b.cur = 0 }

// sleep waits d or until ctx ends, reporting whether it waited it out.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
