package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/placement"
	"github.com/nephoran/o2ims/internal/query"
)

// Reservation states. Only HELD reservations that have not expired count
// against a pool's free capacity.
const (
	ReservationHeld     = "HELD"
	ReservationReleased = "RELEASED"
	ReservationExpired  = "EXPIRED"
)

// Reservation is capacity a deployment holds on a pool.
type Reservation struct {
	ID           string
	DeploymentID string
	PoolID       string
	Requests     placement.Resources
	State        string
	ExpiresAt    time.Time
	CreatedAt    time.Time
}

// LockPlacement serialises capacity decisions: between it and the end of
// the transaction no other transaction can place or reserve. SQLite
// transactions begin IMMEDIATE and so hold the write lock already;
// PostgreSQL takes a transaction-scoped advisory lock. It returns the
// HELD reservations unexpired at now, per pool: under the lock, exactly
// what others hold.
func (t *ObjectTx) LockPlacement(ctx context.Context, now time.Time) (map[string]placement.Resources, error) {
	if t.s.dialect == query.Postgres {
		h := fnv.New64a()
		h.Write([]byte("o2ims/placement"))
		if _, err := t.tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", int64(h.Sum64()>>1)); err != nil {
			return nil, ims.Internal(fmt.Errorf("placement lock: %w", err), "storing failed")
		}
	}
	return reservedByPool(ctx, t.tx, t.s, now, nil)
}

// ReservedByPool sums the HELD, unexpired reservations of the given pools
// (all pools when ids is nil).
func (s *Store) ReservedByPool(ctx context.Context, now time.Time, ids []string) (map[string]placement.Resources, error) {
	if ids != nil && len(ids) == 0 {
		return map[string]placement.Resources{}, nil
	}
	return reservedByPool(ctx, s.db, s, now, ids)
}

// rowsQueryer is a database or a transaction.
type rowsQueryer interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

func reservedByPool(ctx context.Context, q rowsQueryer, s *Store, now time.Time, ids []string) (map[string]placement.Resources, error) {
	b := query.Builder{Dialect: s.dialect}
	stmt := "SELECT pool_id, SUM(cpu_milli), SUM(memory_bytes), SUM(pods) FROM capacity_reservations WHERE state = " +
		b.Arg(ReservationHeld) + " AND expires_at > " + b.Arg(now.UnixMilli())
	if ids != nil {
		ph := make([]string, len(ids))
		for i, id := range ids {
			ph[i] = b.Arg(id)
		}
		stmt += " AND pool_id IN (" + strings.Join(ph, ", ") + ")"
	}
	stmt += " GROUP BY pool_id"
	rows, err := q.QueryContext(ctx, stmt, b.Args...)
	if err != nil {
		return nil, ims.Internal(fmt.Errorf("read reservations: %w", err), "reading reservations failed")
	}
	defer rows.Close()
	out := map[string]placement.Resources{}
	for rows.Next() {
		var id string
		var r placement.Resources
		if err := rows.Scan(&id, &r.CPUMillis, &r.MemoryBytes, &r.Pods); err != nil {
			return nil, ims.Internal(fmt.Errorf("scan reservations: %w", err), "reading reservations failed")
		}
		out[id] = r
	}
	if err := rows.Err(); err != nil {
		return nil, ims.Internal(fmt.Errorf("read reservations: %w", err), "reading reservations failed")
	}
	return out, nil
}

// HoldReservations records reservations (state HELD) in the transaction.
func (t *ObjectTx) HoldReservations(ctx context.Context, rs []Reservation) error {
	for _, r := range rs {
		_, err := t.Exec(ctx, "INSERT INTO capacity_reservations (id, deployment_id, pool_id, cpu_milli, memory_bytes, pods, state, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
			r.ID, r.DeploymentID, r.PoolID, r.Requests.CPUMillis, r.Requests.MemoryBytes, r.Requests.Pods, ReservationHeld, r.ExpiresAt.UnixMilli(), r.CreatedAt.UnixMilli())
		if err != nil {
			return err
		}
	}
	return nil
}

// ReleaseReservations ends the HELD reservations of a deployment with
// the given state (RELEASED or EXPIRED); it returns how many it ended.
func (t *ObjectTx) ReleaseReservations(ctx context.Context, deploymentID, state string) (int64, error) {
	return t.Exec(ctx, "UPDATE capacity_reservations SET state = ? WHERE deployment_id = ? AND state = ?", state, deploymentID, ReservationHeld)
}

// DeleteReservations removes every reservation of a deployment.
func (t *ObjectTx) DeleteReservations(ctx context.Context, deploymentID string) error {
	_, err := t.Exec(ctx, "DELETE FROM capacity_reservations WHERE deployment_id = ?", deploymentID)
	return err
}

// Reservations lists the reservations of a deployment, oldest first.
func (t *ObjectTx) Reservations(ctx context.Context, deploymentID string) ([]Reservation, error) {
	rows, err := t.tx.QueryContext(ctx, t.s.rebind("SELECT id, pool_id, cpu_milli, memory_bytes, pods, state, expires_at, created_at FROM capacity_reservations WHERE deployment_id = ? ORDER BY created_at, id"), deploymentID)
	if err != nil {
		return nil, ims.Internal(fmt.Errorf("read reservations: %w", err), "reading reservations failed")
	}
	defer rows.Close()
	var out []Reservation
	for rows.Next() {
		r := Reservation{DeploymentID: deploymentID}
		var exp, created int64
		if err := rows.Scan(&r.ID, &r.PoolID, &r.Requests.CPUMillis, &r.Requests.MemoryBytes, &r.Requests.Pods, &r.State, &exp, &created); err != nil {
			return nil, ims.Internal(fmt.Errorf("scan reservations: %w", err), "reading reservations failed")
		}
		r.ExpiresAt, r.CreatedAt = time.UnixMilli(exp).UTC(), time.UnixMilli(created).UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, ims.Internal(fmt.Errorf("read reservations: %w", err), "reading reservations failed")
	}
	return out, nil
}

// ExpireReservations marks HELD reservations past their expiry EXPIRED and
// returns the deployments they belonged to.
func (s *Store) ExpireReservations(ctx context.Context, now time.Time) ([]string, error) {
	var ids []string
	err := s.Update(ctx, func(tx *ObjectTx) error {
		rows, err := tx.tx.QueryContext(ctx, s.rebind("SELECT DISTINCT deployment_id FROM capacity_reservations WHERE state = ? AND expires_at <= ?"), ReservationHeld, now.UnixMilli())
		if err != nil {
			return ims.Internal(fmt.Errorf("read expired reservations: %w", err), "reading reservations failed")
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return ims.Internal(fmt.Errorf("scan reservations: %w", err), "reading reservations failed")
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return ims.Internal(fmt.Errorf("read expired reservations: %w", err), "reading reservations failed")
		}
		_, err = tx.Exec(ctx, "UPDATE capacity_reservations SET state = ? WHERE state = ? AND expires_at <= ?", ReservationExpired, ReservationHeld, now.UnixMilli())
		return err
	})
	return ids, err
}

// capacityPaths locate the capacity figures of a resource pool document.
var capacityPaths = [3]struct{ alloc, req, col string }{
	{"cpuMillicores", "cpuMillicores", "cpu_milli"},
	{"memoryBytes", "memoryBytes", "memory_bytes"},
	{"pods", "pods", "pods"},
}

// FreeCapacityAtLeast is a condition on resource pools: their free
// capacity (allocatable − requested − HELD unexpired reservations) covers
// need in every dimension need asks for. Pools without capacity figures
// never match, not even a zero need.
func (s *Store) FreeCapacityAtLeast(need placement.Resources, now time.Time) query.Cond {
	amounts := [3]int64{need.CPUMillis, need.MemoryBytes, need.Pods}
	return func(b *query.Builder) string {
		// A pool without capacity figures is not known to have room.
		parts := []string{}
		if s.dialect == query.Postgres {
			parts = append(parts, "doc #> '{extensions,capacity,allocatable}' IS NOT NULL")
		} else {
			parts = append(parts, "json_extract(doc, '$.extensions.capacity.allocatable') IS NOT NULL")
		}
		for i, p := range capacityPaths {
			if amounts[i] <= 0 {
				continue
			}
			var alloc, req string
			if s.dialect == query.Postgres {
				alloc = "(doc #>> '{extensions,capacity,allocatable," + p.alloc + "}')::numeric"
				req = "COALESCE((doc #>> '{extensions,capacity,requested," + p.req + "}')::numeric, 0)"
			} else {
				alloc = "json_extract(doc, '$.extensions.capacity.allocatable." + p.alloc + "')"
				req = "COALESCE(json_extract(doc, '$.extensions.capacity.requested." + p.req + "'), 0)"
			}
			reserved := "(SELECT COALESCE(SUM(r." + p.col + "), 0) FROM capacity_reservations r WHERE r.pool_id = resource_pools.id AND r.state = " +
				b.Arg(ReservationHeld) + " AND r.expires_at > " + b.Arg(now.UnixMilli()) + ")"
			parts = append(parts, alloc+" - "+req+" - "+reserved+" >= "+b.Arg(amounts[i]))
		}
		return strings.Join(parts, " AND ")
	}
}
