package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/query"
)

// ProviderRecord is a provider registered through the API.
type ProviderRecord struct {
	ID        string
	Name      string
	Type      string
	Config    string // sealed; only the registry can open it
	Doc       json.RawMessage
	CreatedAt time.Time
}

// CreateProvider stores a registration; a taken name is ECONFLICT.
func (s *Store) CreateProvider(ctx context.Context, r ProviderRecord) error {
	docArg := "?"
	if s.dialect == query.Postgres {
		docArg = "?::jsonb"
	}
	_, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO providers (id, name, type, config, doc, created_at) VALUES (?, ?, ?, ?, `+docArg+`, ?)`),
		r.ID, r.Name, r.Type, r.Config, string(r.Doc), r.CreatedAt.UnixMilli())
	if err != nil {
		if isUniqueViolation(err) {
			return ims.Errorf(ims.ECONFLICT, "a provider named %q exists already", r.Name)
		}
		return ims.Internal(fmt.Errorf("insert provider: %w", err), "registering the provider failed")
	}
	return nil
}

// ProviderRecords returns every registration, oldest first.
func (s *Store) ProviderRecords(ctx context.Context) ([]ProviderRecord, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT id, name, type, config, doc, created_at FROM providers ORDER BY created_at, id")
	if err != nil {
		return nil, ims.Internal(fmt.Errorf("read providers: %w", err), "reading providers failed")
	}
	defer rows.Close()
	var out []ProviderRecord
	for rows.Next() {
		var r ProviderRecord
		var doc []byte
		var created int64
		if err := rows.Scan(&r.ID, &r.Name, &r.Type, &r.Config, &doc, &created); err != nil {
			return nil, ims.Internal(fmt.Errorf("scan provider: %w", err), "reading providers failed")
		}
		r.Doc, r.CreatedAt = doc, time.UnixMilli(created)
		out = append(out, r)
	}
	return out, rows.Err()
}

// DeleteProvider removes a registration.
func (s *Store) DeleteProvider(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, s.rebind("DELETE FROM providers WHERE id = ?"), id)
	if err != nil {
		return ims.Internal(fmt.Errorf("delete provider: %w", err), "deleting the provider failed")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ims.Errorf(ims.ENOTFOUND, "provider %q not found", id)
	}
	return nil
}
