package o2

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

// pagedTypes serves /o2ims-infrastructureInventory/v1/resourceTypes in
// pages of the requested limit, linking each to the next like the IMS
// does (a path and query relative to the server), and records the queries.
type pagedTypes struct {
	ids     []string
	queries []url.Values
	prefix  string // a path prefix the server does not know about, as behind a gateway
}

func (p *pagedTypes) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, p.prefix)
	if path != InventoryAPIPrefix+"/resourceTypes" {
		writeProblem(w, http.StatusNotFound, "no route "+r.URL.Path)
		return
	}
	q := r.URL.Query()
	p.queries = append(p.queries, q)
	limit := 100
	if l := q.Get("limit"); l != "" {
		fmt.Sscan(l, &limit)
	}
	start := 0
	if m := q.Get("nextpage_opaque_marker"); m != "" {
		fmt.Sscan(strings.TrimPrefix(m, "after-"), &start)
	}
	end := min(start+limit, len(p.ids))
	var items []ResourceType
	for _, id := range p.ids[start:end] {
		items = append(items, ResourceType{ResourceTypeID: id, Name: "type " + id})
	}
	if end < len(p.ids) {
		nq := r.URL.Query()
		nq.Set("nextpage_opaque_marker", fmt.Sprintf("after-%d", end))
		next := url.URL{Path: path, RawQuery: nq.Encode()}
		w.Header().Add("Link", `<`+next.String()+`>; rel="next"`)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(items)
}

func TestAllFollowsLinkAcrossThreePages(t *testing.T) {
	p := &pagedTypes{ids: []string{"a", "b", "c", "d", "e"}}
	srv := newTestServer(t, p)
	c := newTestClient(t, Config{Endpoint: srv.URL})

	var got []string
	opts := ListOptions{Limit: 2, Filter: Eq("name", "x y")}
	for rt, err := range c.ResourceTypes().All(context.Background(), opts) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, rt.ResourceTypeID)
	}
	if strings.Join(got, "") != "abcde" {
		t.Fatalf("got %v", got)
	}
	if len(p.queries) != 3 {
		t.Fatalf("%d requests, want 3", len(p.queries))
	}
	for i, q := range p.queries {
		if q.Get("filter") != "(eq,name,'x y')" || q.Get("limit") != "2" {
			t.Errorf("request %d lost the query: %v", i, q)
		}
	}
	if p.queries[0].Has("nextpage_opaque_marker") || p.queries[2].Get("nextpage_opaque_marker") != "after-4" {
		t.Errorf("markers: %v", p.queries)
	}
}

func TestListReturnsMarkerAndFollowsIt(t *testing.T) {
	p := &pagedTypes{ids: []string{"a", "b", "c"}}
	srv := newTestServer(t, p)
	c := newTestClient(t, Config{Endpoint: srv.URL})
	ctx := context.Background()

	page, err := c.ResourceTypes().List(ctx, ListOptions{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 2 || page.NextMarker != "after-2" || !page.HasNext() {
		t.Fatalf("first page %+v", page)
	}
	page, err = c.ResourceTypes().List(ctx, ListOptions{Limit: 2, Marker: page.NextMarker})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || page.Items[0].ResourceTypeID != "c" || page.HasNext() {
		t.Fatalf("last page %+v", page)
	}
}

func TestAllStopsWhenConsumerBreaks(t *testing.T) {
	p := &pagedTypes{ids: []string{"a", "b", "c", "d", "e"}}
	srv := newTestServer(t, p)
	c := newTestClient(t, Config{Endpoint: srv.URL})
	n := 0
	for _, err := range c.ResourceTypes().All(context.Background(), ListOptions{Limit: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if n == 3 {
			break
		}
	}
	if len(p.queries) != 2 {
		t.Errorf("%d pages fetched for 3 items of pages of 2", len(p.queries))
	}
}

func TestAllBehindGatewayPrefix(t *testing.T) {
	p := &pagedTypes{ids: []string{"a", "b", "c"}, prefix: "/gw/ims"}
	srv := newTestServer(t, p)
	c := newTestClient(t, Config{Endpoint: srv.URL + "/gw/ims/"})
	var got []string
	for rt, err := range c.ResourceTypes().All(context.Background(), ListOptions{Limit: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, rt.ResourceTypeID)
	}
	if strings.Join(got, "") != "abc" {
		t.Fatalf("got %v", got)
	}
}

func TestNextLinkToOtherOriginIsRefused(t *testing.T) {
	srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", `<http://evil.example/steal?nextpage_opaque_marker=x>; rel="next"`)
		writeJSON(w, `[]`)
	}))
	c := newTestClient(t, Config{Endpoint: srv.URL})
	_, err := c.ResourcePools().List(context.Background(), ListOptions{})
	if err == nil || !strings.Contains(err.Error(), "outside the endpoint") {
		t.Fatalf("err = %v", err)
	}
}

func TestAllDetectsPagingLoop(t *testing.T) {
	srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", `<`+InventoryAPIPrefix+`/resourcePools?nextpage_opaque_marker=same>; rel="next"`)
		writeJSON(w, `[{"resourcePoolId":"p"}]`)
	}))
	c := newTestClient(t, Config{Endpoint: srv.URL})
	var err error
	n := 0
	for _, e := range c.ResourcePools().All(context.Background(), ListOptions{}) {
		if e != nil {
			err = e
			break
		}
		n++
	}
	if err == nil || !strings.Contains(err.Error(), "loop") || n != 2 {
		t.Fatalf("n=%d err=%v", n, err)
	}
}

func TestFindLink(t *testing.T) {
	tests := []struct {
		header []string
		want   string
		ok     bool
	}{
		{[]string{`</a?x=1>; rel="next"`}, "/a?x=1", true},
		{[]string{`</a>; rel=next`}, "/a", true},
		{[]string{`</p>; rel="prev", </n>; rel="next"`}, "/n", true},
		{[]string{`</p>; rel="prev"`, `</n>; title="a, b; c"; rel="next last"`}, "/n", true},
		{[]string{`</f?filter=(eq,a,'x;y')>; rel="NEXT"`}, "/f?filter=(eq,a,'x;y')", true},
		{[]string{`</p>; rel="prev"`}, "", false},
		{nil, "", false},
		{[]string{`garbage`}, "", false},
	}
	for _, tt := range tests {
		got, ok := findLink(tt.header, "next")
		if got != tt.want || ok != tt.ok {
			t.Errorf("findLink(%q) = %q, %v; want %q, %v", tt.header, got, ok, tt.want, tt.ok)
		}
	}
}

func TestPathsAndIDEscaping(t *testing.T) {
	var paths []string
	srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.EscapedPath())
		writeJSON(w, `{}`)
	}))
	c := newTestClient(t, Config{Endpoint: srv.URL})
	ctx := context.Background()
	calls := []func() error{
		func() error { _, err := c.CloudInfo(ctx); return err },
		func() error { _, err := c.APIVersions(ctx); return err },
		func() error { _, err := c.ResourceTypes().Get(ctx, "t1"); return err },
		func() error { _, err := c.ResourcePools().Get(ctx, "p1"); return err },
		func() error { _, err := c.DeploymentManagers().Get(ctx, "d1"); return err },
		func() error { _, err := c.Resources().Get(ctx, "p1", "r1"); return err },
		func() error { _, err := c.Resources().GetByID(ctx, "r1"); return err },
		func() error { _, err := c.ResourcePools().Get(ctx, "../x?y#z"); return err },
	}
	for i, f := range calls {
		if err := f(); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	want := []string{
		"/o2ims-infrastructureInventory/v1",
		"/o2ims-infrastructureInventory/api_versions",
		"/o2ims-infrastructureInventory/v1/resourceTypes/t1",
		"/o2ims-infrastructureInventory/v1/resourcePools/p1",
		"/o2ims-infrastructureInventory/v1/deploymentManagers/d1",
		"/o2ims-infrastructureInventory/v1/resourcePools/p1/resources/r1",
		"/o2ims/v1/resources/r1",
		"/o2ims-infrastructureInventory/v1/resourcePools/..%2Fx%3Fy%23z",
	}
	if strings.Join(paths, "\n") != strings.Join(want, "\n") {
		t.Errorf("paths\n got %q\nwant %q", paths, want)
	}
}

func TestListPathsAcrossAndInPool(t *testing.T) {
	var paths []string
	srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path+"?"+r.URL.RawQuery)
		writeJSON(w, `[{"resourceId":"r1","tags":["host"],"extensions":{"n":1},"elements":[{"resourceId":"e1"}]}]`)
	}))
	c := newTestClient(t, Config{Endpoint: srv.URL})
	ctx := context.Background()
	page, err := c.Resources().List(ctx, ListOptions{Filter: Eq("tags", "host")})
	if err != nil {
		t.Fatal(err)
	}
	r := page.Items[0]
	if r.ResourceID != "r1" || r.Tags[0] != "host" || r.Extensions["n"] != float64(1) || r.Elements[0].ResourceID != "e1" {
		t.Errorf("decoded %+v", r)
	}
	if _, err := c.Resources().ListInPool(ctx, "p1", ListOptions{Limit: 5}); err != nil {
		t.Fatal(err)
	}
	for _, err := range c.Resources().AllInPool(ctx, "p1", ListOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		"/o2ims/v1/resources?filter=%28eq%2Ctags%2Chost%29",
		"/o2ims-infrastructureInventory/v1/resourcePools/p1/resources?limit=5",
		"/o2ims-infrastructureInventory/v1/resourcePools/p1/resources?",
	}
	if strings.Join(paths, "\n") != strings.Join(want, "\n") {
		t.Errorf("paths\n got %q\nwant %q", paths, want)
	}
}

func TestEmptyIDsAreRejectedLocally(t *testing.T) {
	var hits atomic.Int32
	srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		writeJSON(w, `[]`)
	}))
	c := newTestClient(t, Config{Endpoint: srv.URL})
	ctx := context.Background()
	errs := []error{}
	_, err := c.ResourcePools().Get(ctx, "")
	errs = append(errs, err)
	_, err = c.Resources().Get(ctx, "", "r")
	errs = append(errs, err)
	_, err = c.Resources().Get(ctx, "p", "")
	errs = append(errs, err)
	_, err = c.Resources().ListInPool(ctx, "", ListOptions{})
	errs = append(errs, err)
	for _, err := range c.Resources().AllInPool(ctx, "", ListOptions{}) {
		errs = append(errs, err)
	}
	for i, err := range errs {
		if err == nil || !strings.Contains(err.Error(), "empty") {
			t.Errorf("call %d: err = %v", i, err)
		}
	}
	if hits.Load() != 0 {
		t.Errorf("%d requests sent", hits.Load())
	}
}

func TestWriteOperations(t *testing.T) {
	type sub struct {
		SubscriptionID string `json:"subscriptionId,omitempty"`
		Callback       string `json:"callback"`
	}
	type record struct {
		Method, Path, ContentType, Body string
	}
	var got []record
	srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		_, _ = fmt.Fprint(&b, readAll(r))
		got = append(got, record{r.Method, r.URL.Path, r.Header.Get("Content-Type"), b.String()})
		switch r.Method {
		case http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		case http.MethodPost:
			w.WriteHeader(http.StatusCreated)
			writeJSON(w, `{"subscriptionId":"s1","callback":"http://cb"}`)
		default:
			writeJSON(w, `{"subscriptionId":"s1","callback":"http://cb2"}`)
		}
	}))
	c := newTestClient(t, Config{Endpoint: srv.URL})
	ctx := context.Background()
	col := newCollection[sub](c, "subscription", InventoryAPIPrefix, "subscriptions")
	s, err := col.create(ctx, sub{Callback: "http://cb"})
	if err != nil || s.SubscriptionID != "s1" {
		t.Fatalf("create: %+v %v", s, err)
	}
	if s, err = col.patch(ctx, "s1", map[string]any{"callback": "http://cb2"}); err != nil || s.Callback != "http://cb2" {
		t.Fatalf("patch: %+v %v", s, err)
	}
	if err := col.delete(ctx, "s1"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	cfg := newSingleton[sub](c, "/o2ims-infrastructureMonitoring/v1", "alarmServiceConfiguration")
	if _, err := cfg.get(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.replace(ctx, &sub{Callback: "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.patch(ctx, map[string]int{"retentionPeriod": 5}); err != nil {
		t.Fatal(err)
	}
	want := []record{
		{"POST", "/o2ims-infrastructureInventory/v1/subscriptions", "application/json", `{"callback":"http://cb"}`},
		{"PATCH", "/o2ims-infrastructureInventory/v1/subscriptions/s1", "application/merge-patch+json", `{"callback":"http://cb2"}`},
		{"DELETE", "/o2ims-infrastructureInventory/v1/subscriptions/s1", "", ""},
		{"GET", "/o2ims-infrastructureMonitoring/v1/alarmServiceConfiguration", "", ""},
		{"PUT", "/o2ims-infrastructureMonitoring/v1/alarmServiceConfiguration", "application/json", `{"callback":"x"}`},
		{"PATCH", "/o2ims-infrastructureMonitoring/v1/alarmServiceConfiguration", "application/merge-patch+json", `{"retentionPeriod":5}`},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("requests\n got %v\nwant %v", got, want)
	}
}

func TestDecodeErrorIsReported(t *testing.T) {
	srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, `{"not":"a list"}`)
	}))
	c := newTestClient(t, Config{Endpoint: srv.URL})
	_, err := c.ResourcePools().List(context.Background(), ListOptions{})
	var pe *ProblemError
	if err == nil || errors.As(err, &pe) || !strings.Contains(err.Error(), "decoding") {
		t.Fatalf("err = %v", err)
	}
}

func TestChangedSinceGivesStampAndTombstones(t *testing.T) {
	var query string
	srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		query = r.URL.RawQuery
		w.Header().Set("X-Change-Stamp", "YzE6NDI")
		writeJSON(w, `[{"resourcePoolId":"p1","name":"renamed"},{"resourcePoolId":"p2","deleted":true}]`)
	}))
	c := newTestClient(t, Config{Endpoint: srv.URL})
	page, err := c.ResourcePools().List(context.Background(), ListOptions{ChangedSince: "YzE6MTI", MinCapacity: ResourceList{ResourceCPU: "2"}})
	if err != nil {
		t.Fatal(err)
	}
	if query != "changedSince=YzE6MTI&minCapacity=cpu%3A2" {
		t.Errorf("query %q", query)
	}
	if len(page.Items) != 1 || page.Items[0].Name != "renamed" || len(page.Deleted) != 1 || page.Deleted[0] != "p2" || page.ChangeStamp != "YzE6NDI" {
		t.Fatalf("page %+v", page)
	}
}
