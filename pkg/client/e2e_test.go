package o2_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/testenv"
	"github.com/nephoran/o2ims/internal/testserver"
	o2 "github.com/nephoran/o2ims/pkg/client"
)

// serverBinary is the o2ims binary TestMain builds from the repository.
var serverBinary string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "o2-client-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	serverBinary, err = testserver.Build(filepath.Join("..", ".."), dir, "./cmd/o2ims")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	testenv.Cleanup() // the control plane of the CNF tests, if one was started
	return code
}

// startServer runs "o2ims serve" with extra args on a free loopback port
// and a fresh data directory, and returns its host:port once it logs that
// it is serving.
func startServer(t *testing.T, extra ...string) string {
	t.Helper()
	addr, _ := startServerProc(t, extra...)
	return addr
}

// startServerProc is startServer that also returns a function killing the
// server (SIGKILL, as a crash would) and waiting for it to exit. A
// "--data-dir" in extra replaces the fresh one.
func startServerProc(t *testing.T, extra ...string) (string, func()) {
	t.Helper()
	s, err := testserver.Start(serverBinary, t.TempDir(), extra...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Kill()
		if t.Failed() {
			t.Logf("server log:\n%s", s.Logs())
		}
	})
	return s.Addr, s.Kill
}

func TestEndToEnd(t *testing.T) {
	endpoint := "http://" + startServer(t)
	c, err := o2.NewClient(&o2.Config{Endpoint: endpoint})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	info, err := c.CloudInfo(ctx)
	if err != nil {
		t.Fatalf("CloudInfo: %v", err)
	}
	if info.OCloudID == "" || info.Name == "" {
		t.Errorf("CloudInfo = %+v", info)
	}
	versions, err := c.APIVersions(ctx)
	if err != nil || len(versions.APIVersions) != 2 || versions.URIPrefix != "/o2ims-infrastructureInventory" {
		t.Errorf("APIVersions = %+v, %v", versions, err)
	}

	// The local provider fills the inventory shortly after start.
	var pools []o2.ResourcePool
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		page, err := c.ResourcePools().List(ctx, o2.ListOptions{AllFields: true})
		if err != nil {
			t.Fatalf("list pools: %v", err)
		}
		if pools = page.Items; len(pools) > 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(pools) == 0 {
		t.Fatal("no resource pool")
	}
	pool := pools[0]
	if pool.OCloudID != info.OCloudID || pool.Extensions["provider"] == nil {
		t.Errorf("pool %+v", pool)
	}
	got, err := c.ResourcePools().Get(ctx, pool.ResourcePoolID)
	if err != nil || got.Name != pool.Name {
		t.Errorf("Get pool: %+v, %v", got, err)
	}

	t.Run("resources in the pool with a built filter", func(t *testing.T) {
		page, err := c.Resources().ListInPool(ctx, pool.ResourcePoolID, o2.ListOptions{Filter: o2.Eq("tags", "host")})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 1 {
			t.Fatalf("%d host resources, want 1", len(page.Items))
		}
		host := page.Items[0]
		if host.ResourcePoolID != pool.ResourcePoolID || host.Tags[0] != "host" || host.Elements != nil {
			t.Errorf("host %+v", host)
		}
		// Across every pool, and by identifier with all attributes.
		across, err := c.Resources().List(ctx, o2.ListOptions{Filter: o2.Eq("tags", "host")})
		if err != nil || len(across.Items) != 1 || across.Items[0].ResourceID != host.ResourceID {
			t.Fatalf("across pools: %+v, %v", across, err)
		}
		full, err := c.Resources().Get(ctx, pool.ResourcePoolID, host.ResourceID)
		if err != nil || len(full.Elements) == 0 {
			t.Fatalf("Get host: %+v, %v", full, err)
		}
		byID, err := c.Resources().GetByID(ctx, host.ResourceID)
		if err != nil || len(byID.Elements) != len(full.Elements) {
			t.Fatalf("GetByID: %+v, %v", byID, err)
		}
		// A quoted value, an And of terms and a numeric comparison.
		disks, err := c.Resources().ListInPool(ctx, pool.ResourcePoolID, o2.ListOptions{
			Filter: o2.And(o2.In("tags", "disk", "no such tag"), o2.Gte("extensions/sizeBytes", 0)),
			Fields: []string{"extensions/sizeBytes", "tags"},
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range disks.Items {
			if len(d.Tags) == 0 || d.Tags[0] != "disk" || d.Extensions["sizeBytes"] == nil || len(d.Extensions) != 1 {
				t.Errorf("disk %+v", d)
			}
		}
	})

	t.Run("All with limit 1 pages through every resource type", func(t *testing.T) {
		everything, err := c.ResourceTypes().List(ctx, o2.ListOptions{Limit: o2.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		if len(everything.Items) < 2 || everything.HasNext() {
			t.Fatalf("%d resource types on one page; need at least 2", len(everything.Items))
		}
		seen := map[string]int{}
		for rt, err := range c.ResourceTypes().All(ctx, o2.ListOptions{Limit: 1}) {
			if err != nil {
				t.Fatal(err)
			}
			seen[rt.ResourceTypeID]++
		}
		if len(seen) != len(everything.Items) {
			t.Errorf("All saw %d types, List %d", len(seen), len(everything.Items))
		}
		for _, rt := range everything.Items {
			if seen[rt.ResourceTypeID] != 1 {
				t.Errorf("type %s seen %d times", rt.ResourceTypeID, seen[rt.ResourceTypeID])
			}
		}
		first, err := c.ResourceTypes().List(ctx, o2.ListOptions{Limit: 1})
		if err != nil || !first.HasNext() {
			t.Fatalf("first page: %+v, %v", first, err)
		}
		second, err := c.ResourceTypes().List(ctx, o2.ListOptions{Limit: 1, Marker: first.NextMarker})
		if err != nil || len(second.Items) != 1 || second.Items[0].ResourceTypeID == first.Items[0].ResourceTypeID {
			t.Fatalf("second page: %+v, %v", second, err)
		}
	})

	t.Run("deployment managers", func(t *testing.T) {
		var n int
		for dm, err := range c.DeploymentManagers().All(ctx, o2.ListOptions{}) {
			if err != nil {
				t.Fatal(err)
			}
			n++
			if _, err := c.DeploymentManagers().Get(ctx, dm.DeploymentManagerID); err != nil {
				t.Error(err)
			}
		}
		if n == 0 {
			t.Error("no deployment manager")
		}
	})

	t.Run("alarm dictionary of a resource type", func(t *testing.T) {
		types, err := c.ResourceTypes().List(ctx, o2.ListOptions{Limit: 1})
		if err != nil || len(types.Items) == 0 {
			t.Fatalf("resource types: %+v, %v", types, err)
		}
		d, err := c.AlarmDictionaries().ForResourceType(ctx, types.Items[0].ResourceTypeID)
		if err != nil {
			t.Fatal(err)
		}
		all, err := c.AlarmDictionaries().List(ctx, o2.ListOptions{})
		if err != nil || len(all.Items) == 0 || all.Items[0].AlarmDictionaryID != d.AlarmDictionaryID || len(d.AlarmDefinitions) == 0 {
			t.Errorf("dictionary %+v of the type; list %+v, %v", d, all, err)
		}
		// The type embeds it (O2ims v1): on Get, and in lists when selected.
		rt, err := c.ResourceTypes().Get(ctx, types.Items[0].ResourceTypeID)
		if err != nil || rt.AlarmDictionary == nil || rt.AlarmDictionary.AlarmDictionaryID != d.AlarmDictionaryID {
			t.Errorf("resource type %+v, %v", rt, err)
		}
		if types.Items[0].AlarmDictionary != nil {
			t.Error("the default list embeds the alarm dictionary")
		}
		sel, err := c.ResourceTypes().List(ctx, o2.ListOptions{Limit: 1, Fields: []string{"alarmDictionary"}})
		if err != nil || len(sel.Items) != 1 || sel.Items[0].AlarmDictionary == nil {
			t.Errorf("fields=alarmDictionary: %+v, %v", sel, err)
		}
	})

	t.Run("unknown id is a 404 problem", func(t *testing.T) {
		const unknown = "00000000-0000-0000-0000-000000000000"
		_, err := c.ResourcePools().Get(ctx, unknown)
		var pe *o2.ProblemError
		if !errors.As(err, &pe) {
			t.Fatalf("err %T %v", err, err)
		}
		if pe.Status != 404 || !o2.IsNotFound(err) || !strings.Contains(pe.Detail, unknown) || pe.Instance == "" {
			t.Errorf("problem %+v", pe)
		}
		if _, err := c.Resources().GetByID(ctx, unknown); !o2.IsNotFound(err) {
			t.Errorf("GetByID: %v", err)
		}
		if _, err := c.ResourceTypes().Get(ctx, unknown); !o2.IsNotFound(err) {
			t.Errorf("resource type: %v", err)
		}
	})

	t.Run("invalid filter is a 400 problem", func(t *testing.T) {
		_, err := c.ResourceTypes().List(ctx, o2.ListOptions{Filter: o2.Eq("colour", "red")})
		if !o2.IsBadRequest(err) || !strings.Contains(err.Error(), "colour") {
			t.Errorf("err = %v", err)
		}
	})
}
