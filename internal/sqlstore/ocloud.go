package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/nephoran/o2ims/internal/ims"
)

// OCloudID returns the identifier of this O-Cloud, creating it on first use.
// It never changes afterwards, across restarts and upgrades.
func (s *Store) OCloudID(ctx context.Context) (string, error) {
	var id string
	err := s.db.QueryRowContext(ctx, `SELECT ocloud_id FROM ocloud WHERE singleton = 1`).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !isNoRows(err) {
		return "", ims.Internal(fmt.Errorf("read ocloud id: %w", err), "reading the O-Cloud identifier failed")
	}
	// Two processes may race here; the one whose insert loses reads the winner's id.
	_, err = s.db.ExecContext(ctx, s.rebind(`INSERT INTO ocloud (singleton, ocloud_id, created_at) VALUES (1, ?, ?) ON CONFLICT (singleton) DO NOTHING`),
		uuid.NewString(), time.Now().UTC())
	if err != nil {
		return "", ims.Internal(fmt.Errorf("create ocloud id: %w", err), "creating the O-Cloud identifier failed")
	}
	if err := s.db.QueryRowContext(ctx, `SELECT ocloud_id FROM ocloud WHERE singleton = 1`).Scan(&id); err != nil {
		return "", ims.Internal(fmt.Errorf("read ocloud id: %w", err), "reading the O-Cloud identifier failed")
	}
	return id, nil
}
