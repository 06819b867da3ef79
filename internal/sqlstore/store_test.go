package sqlstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/query"
	"github.com/nephoran/o2ims/internal/sqlstore"
	"github.com/nephoran/o2ims/internal/sqlstore/sqlstoretest"
)

func pool(id, name string, ext map[string]any) sqlstore.Doc {
	b, _ := json.Marshal(ims.ResourcePool{ResourcePoolID: id, Name: name, Extensions: ext})
	return sqlstore.Doc{ID: id, JSON: b}
}

func poolSet(docs ...sqlstore.Doc) []sqlstore.ObjectSet {
	return []sqlstore.ObjectSet{{Schema: inventory.ResourcePoolSchema, Docs: docs}}
}

func ops(changes []sqlstore.Change) []string {
	var out []string
	for _, c := range changes {
		out = append(out, fmt.Sprintf("%d:%s", c.Op, c.ID))
	}
	slices.Sort(out)
	return out
}

func listIDs(t *testing.T, s *sqlstore.Store, filter string, limit int, after string) ([]string, string, bool) {
	t.Helper()
	f, err := query.ParseFilter(filter)
	if err != nil {
		t.Fatalf("parse %q: %v", filter, err)
	}
	docs, last, more, err := s.List(context.Background(), inventory.ResourcePoolSchema, f, limit, after)
	if err != nil {
		t.Fatalf("list %q: %v", filter, err)
	}
	var ids []string
	for _, d := range docs {
		var p ims.ResourcePool
		if err := json.Unmarshal(d, &p); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ResourcePoolID)
	}
	return ids, last, more
}

func TestApplySnapshot(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		ctx := context.Background()
		s := sqlstoretest.Open(t, b)

		ch, err := s.ApplySnapshot(ctx, "p1", poolSet(pool("a", "A", nil), pool("b", "B", nil)))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := ops(ch), []string{"0:a", "0:b"}; !slices.Equal(got, want) {
			t.Fatalf("first apply: got %v, want %v", got, want)
		}
		ch, err = s.ApplySnapshot(ctx, "p1", poolSet(pool("a", "A", nil), pool("b", "B", nil)))
		if err != nil {
			t.Fatal(err)
		}
		if len(ch) != 0 {
			t.Fatalf("unchanged snapshot produced changes %v", ops(ch))
		}
		ch, err = s.ApplySnapshot(ctx, "p1", poolSet(pool("a", "A2", nil), pool("c", "C", nil)))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := ops(ch), []string{"0:c", "1:a", "2:b"}; !slices.Equal(got, want) {
			t.Fatalf("third apply: got %v, want %v", got, want)
		}
		for _, c := range ch {
			switch c.Op {
			case sqlstore.OpModify:
				var prior, post ims.ResourcePool
				_ = json.Unmarshal(c.Prior, &prior)
				_ = json.Unmarshal(c.Post, &post)
				if prior.Name != "A" || post.Name != "A2" {
					t.Errorf("modify: prior %q post %q", prior.Name, post.Name)
				}
			case sqlstore.OpDelete:
				if c.Post != nil || c.Prior == nil {
					t.Errorf("delete must carry only the prior state")
				}
			}
		}
		// Another source's objects are untouched by p1's snapshots.
		if _, err := s.ApplySnapshot(ctx, "p2", poolSet(pool("z", "Z", nil))); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ApplySnapshot(ctx, "p1", poolSet()); err != nil {
			t.Fatal(err)
		}
		ids, _, _ := listIDs(t, s, "", 10, "")
		if !slices.Equal(ids, []string{"z"}) {
			t.Fatalf("after p1 emptied: %v", ids)
		}
		// A duplicate id in one snapshot is rejected and nothing is written.
		_, err = s.ApplySnapshot(ctx, "p1", poolSet(pool("d", "D", nil), pool("d", "D", nil)))
		if ims.ErrorCode(err) != ims.EINVALID {
			t.Fatalf("duplicate ids: got %v", err)
		}
		if ids, _, _ := listIDs(t, s, "", 10, ""); !slices.Equal(ids, []string{"z"}) {
			t.Fatalf("failed snapshot left objects behind: %v", ids)
		}
	})
}

func TestGetAndOCloudID(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		ctx := context.Background()
		s := sqlstoretest.Open(t, b)
		id1, err := s.OCloudID(ctx)
		if err != nil {
			t.Fatal(err)
		}
		id2, err := s.OCloudID(ctx)
		if err != nil || id1 != id2 || id1 == "" {
			t.Fatalf("ocloud id not stable: %q %q %v", id1, id2, err)
		}
		if _, err := s.ApplySnapshot(ctx, "p", poolSet(pool("a", "A", map[string]any{"k": "v"}))); err != nil {
			t.Fatal(err)
		}
		doc, err := s.Get(ctx, inventory.ResourcePoolSchema, "a")
		if err != nil {
			t.Fatal(err)
		}
		var p ims.ResourcePool
		if err := json.Unmarshal(doc, &p); err != nil || p.Name != "A" || p.Extensions["k"] != "v" {
			t.Fatalf("get: %s %v", doc, err)
		}
		_, err = s.Get(ctx, inventory.ResourcePoolSchema, "missing")
		if ims.ErrorCode(err) != ims.ENOTFOUND {
			t.Fatalf("get missing: %v", err)
		}
	})
}

func TestListFilterAndPaging(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		ctx := context.Background()
		s := sqlstoretest.Open(t, b)
		var docs []sqlstore.Doc
		for i := range 25 {
			site := "east"
			if i%2 == 1 {
				site = "west"
			}
			docs = append(docs, pool(fmt.Sprintf("p%02d", i), fmt.Sprintf("pool %d", i), map[string]any{"site": site, "rank": i}))
		}
		if _, err := s.ApplySnapshot(ctx, "src", poolSet(docs...)); err != nil {
			t.Fatal(err)
		}
		ids, _, _ := listIDs(t, s, "(eq,extensions/site,west);(gte,extensions/rank,20)", 100, "")
		if !slices.Equal(ids, []string{"p21", "p23"}) {
			t.Fatalf("filtered: %v", ids)
		}
		ids, _, _ = listIDs(t, s, "(eq,name,'pool 7')", 100, "")
		if !slices.Equal(ids, []string{"p07"}) {
			t.Fatalf("by name: %v", ids)
		}

		// Page through 10 at a time while objects are added behind and ahead
		// of the cursor: nothing is returned twice and nothing before the
		// cursor is skipped.
		var all []string
		after := ""
		for page := 0; ; page++ {
			ids, last, more := listIDs(t, s, "", 10, after)
			all = append(all, ids...)
			if page == 0 {
				extra := append(slices.Clone(docs), pool("p00a", "behind", nil), pool("p99", "ahead", nil))
				if _, err := s.ApplySnapshot(ctx, "src", poolSet(extra...)); err != nil {
					t.Fatal(err)
				}
			}
			if !more {
				break
			}
			after = last
		}
		if len(all) != 26 || all[len(all)-1] != "p99" || slices.Contains(all, "p00a") {
			t.Fatalf("paging under inserts: %d items %v", len(all), all)
		}
		seen := map[string]bool{}
		for _, id := range all {
			if seen[id] {
				t.Fatalf("%s returned twice", id)
			}
			seen[id] = true
		}
	})
}

func TestMigrateDownAndUp(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		ctx := context.Background()
		s := sqlstoretest.Open(t, b)
		cur, latest, err := s.SchemaVersion(ctx)
		if err != nil || cur != latest || latest < 1 {
			t.Fatalf("version %d latest %d err %v", cur, latest, err)
		}
		if err := s.MigrateTo(ctx, 0); err != nil {
			t.Fatal(err)
		}
		if cur, _, _ := s.SchemaVersion(ctx); cur != 0 {
			t.Fatalf("after down: %d", cur)
		}
		if _, err := s.OCloudID(ctx); err == nil {
			t.Fatal("tables still exist after migrating to 0")
		}
		if err := s.MigrateTo(ctx, latest); err != nil {
			t.Fatal(err)
		}
		if _, err := s.OCloudID(ctx); err != nil {
			t.Fatal(err)
		}
		if err := s.MigrateTo(ctx, latest+100); err == nil {
			t.Fatal("migrating to an unknown version must fail")
		}
	})
}

// TestFilterIndexesFollowWrites checks that filters answered through the
// indexes of migration 00013 (the tags side table, the cpuCores
// expression index) see every create, modify and delete of a resource.
func TestFilterIndexesFollowWrites(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		ctx := context.Background()
		s := sqlstoretest.Open(t, b)
		res := func(id string, tags any, cores any) sqlstore.Doc {
			d, _ := json.Marshal(map[string]any{"resourceId": id, "resourcePoolId": "p", "tags": tags,
				"extensions": map[string]any{"cpuCores": cores}})
			return sqlstore.Doc{ID: id, JSON: d}
		}
		apply := func(docs ...sqlstore.Doc) {
			t.Helper()
			if _, err := s.ApplySnapshot(ctx, "src", []sqlstore.ObjectSet{{Schema: inventory.ResourceSchema, Docs: docs}}); err != nil {
				t.Fatal(err)
			}
		}
		check := func(filter string, want ...string) {
			t.Helper()
			f, err := query.ParseFilter(filter)
			if err != nil {
				t.Fatal(err)
			}
			docs, _, _, err := s.List(ctx, inventory.ResourceSchema, f, 100, "")
			if err != nil {
				t.Fatalf("list %q: %v", filter, err)
			}
			got := []string{}
			for _, d := range docs {
				var r struct{ ResourceID string }
				if err := json.Unmarshal(d, &r); err != nil {
					t.Fatal(err)
				}
				got = append(got, r.ResourceID)
			}
			if want == nil {
				want = []string{}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s: got %v, want %v", filter, got, want)
			}
		}
		apply(res("a", []any{"x", "y", 5}, 8), res("b", "x", "9"), res("c", []any{"y"}, []any{2, 64}), res("d", nil, 64))
		check("(eq,tags,x)", "a", "b")
		check("(in,tags,y,z)", "a", "c")
		check("(eq,tags,5)")
		check("(gt,extensions/cpuCores,8)", "b", "c", "d") // "9" > "8" as strings; 64 in c's array
		check("(gte,extensions/cpuCores,8)", "a", "b", "c", "d")
		check("(gt,extensions/cpuCores,100)", "b") // "9" > "100" byte-wise

		// Modify a's tags and cores, drop b, rename c's tags.
		apply(res("a", []any{"z"}, 70), res("c", []any{"x"}, 1), res("d", nil, 64))
		check("(eq,tags,x)", "c")
		check("(eq,tags,y)")
		check("(in,tags,z,x)", "a", "c")
		check("(gt,extensions/cpuCores,8)", "a", "d")
		check("(neq,tags,x)", "a", "d")
	})
}
