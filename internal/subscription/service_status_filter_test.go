package subscription_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/nephoran/o2ims/internal/collection"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/notify"
	"github.com/nephoran/o2ims/internal/sqlstore/sqlstoretest"
	"github.com/nephoran/o2ims/internal/subscription"
)

// TestListRefusesDeliveryStatusFilter: the delivery status is not in the
// stored document, so filtering on it is refused instead of answering
// wrongly.
func TestListRefusesDeliveryStatusFilter(t *testing.T) {
	b := sqlstoretest.Backends()[0]
	store := sqlstoretest.Open(t, b)
	svc := subscription.NewService(store, notify.Policy{}, subscription.NewMatchers(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()
	if _, err := svc.Create(ctx, subscription.Inventory, subscription.Input{Callback: "http://127.0.0.1:9/cb"}); err != nil {
		t.Fatal(err)
	}
	_, err := svc.List(ctx, subscription.Inventory, collection.Request{Filter: "(eq,extensions/deliveryStatus/state,healthy)"})
	if ims.ErrorCode(err) != ims.EINVALID {
		t.Fatalf("filter on deliveryStatus: %v", err)
	}
	page, err := svc.List(ctx, subscription.Inventory, collection.Request{Filter: "(cont,callback,127.0.0.1)", AllFields: true})
	if err != nil || len(page.Items) != 1 || page.Items[0]["extensions"] == nil {
		t.Fatalf("list: %v %v", page.Items, err)
	}
}
