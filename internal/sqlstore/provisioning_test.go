package sqlstore_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/provisioning"
	"github.com/nephoran/o2ims/internal/query"
	"github.com/nephoran/o2ims/internal/sqlstore"
	"github.com/nephoran/o2ims/internal/sqlstore/sqlstoretest"
)

func TestProvisioningWork(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		ctx := context.Background()
		s := sqlstoretest.Open(t, b)
		works := []struct {
			id    string
			phase string
			work  sqlstore.ProvisioningWork
		}{
			{"a", "PROGRESSING", sqlstore.ProvisioningWork{Parameters: []byte(`{"x":1}`), State: []byte(`{"stack":"s"}`), NextAttempt: 300, StartedAt: 100, Attempts: 2, Generation: 3}},
			{"b", "FULFILLED", sqlstore.ProvisioningWork{NextAttempt: 0, StartedAt: 100, Generation: 1}},
			{"c", "DELETING", sqlstore.ProvisioningWork{NextAttempt: 200, StartedAt: 150, Generation: 2, Deleting: true}},
			{"d", "PENDING", sqlstore.ProvisioningWork{NextAttempt: 900, Generation: 1}},
		}
		for _, w := range works {
			err := s.Update(ctx, func(tx *sqlstore.ObjectTx) error {
				doc := fmt.Sprintf(`{"provisioningRequestData":{"provisioningRequestId":%q},"status":{"provisioningPhase":%q}}`, w.id, w.phase)
				if err := tx.Put(ctx, provisioning.Schema, w.id, []byte(doc)); err != nil {
					return err
				}
				return tx.SetProvisioningWork(ctx, w.id, w.work)
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		// Replacing the document keeps the worker's columns.
		err := s.Update(ctx, func(tx *sqlstore.ObjectTx) error {
			if err := tx.Put(ctx, provisioning.Schema, "a", []byte(`{"provisioningRequestData":{"provisioningRequestId":"a","name":"n"},"status":{"provisioningPhase":"PROGRESSING"}}`)); err != nil {
				return err
			}
			got, err := tx.ProvisioningWork(ctx, "a")
			if err != nil {
				return err
			}
			if string(got.Parameters) != `{"x":1}` || string(got.State) != `{"stack":"s"}` || got.NextAttempt != 300 || got.StartedAt != 100 || got.Attempts != 2 || got.Generation != 3 || got.Deleting {
				t.Errorf("work of a: %+v", got)
			}
			if got, err := tx.ProvisioningWork(ctx, "c"); err != nil || !got.Deleting || got.State != nil {
				t.Errorf("work of c: %+v %v", got, err)
			}
			if _, err := tx.ProvisioningWork(ctx, "zz"); ims.ErrorCode(err) != ims.ENOTFOUND {
				t.Errorf("work of an unknown request: %v", err)
			}
			if err := tx.SetProvisioningWork(ctx, "zz", sqlstore.ProvisioningWork{}); ims.ErrorCode(err) != ims.ENOTFOUND {
				t.Errorf("setting the work of an unknown request: %v", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			now  int64
			want []string
		}{{100, nil}, {250, []string{"c"}}, {1000, []string{"c", "a", "d"}}} {
			ids, err := s.DueProvisioningRequests(ctx, c.now, 10)
			if err != nil || !slices.Equal(ids, c.want) {
				t.Errorf("due at %d: %v %v, want %v", c.now, ids, err, c.want)
			}
		}
		if ids, _ := s.DueProvisioningRequests(ctx, 1000, 1); !slices.Equal(ids, []string{"c"}) {
			t.Errorf("limit 1: %v", ids)
		}
		f, err := query.ParseFilter("(in,status/provisioningPhase,PROGRESSING,DELETING)")
		if err != nil {
			t.Fatal(err)
		}
		docs, _, _, err := s.List(ctx, provisioning.Schema, f, 10, "")
		if err != nil || len(docs) != 2 {
			t.Fatalf("SOL013 list: %v %s", err, docs)
		}
	})
}
