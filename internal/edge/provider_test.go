package edge

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/ims"
)

func TestProviderPublishesNodesInPools(t *testing.T) {
	svc, _ := newTestService(t, Options{})
	ctx := context.Background()
	west := mustToken(t, svc, "edge-west", time.Hour, 2)
	east := mustToken(t, svc, "edge-east", time.Hour, 1)
	w1, _ := enrol(t, svc, west.Token, "w1")
	w2, _ := enrol(t, svc, west.Token, "w2")
	e1, _ := enrol(t, svc, east.Token, "e1")
	// A node without an inventory yet.
	lateTok := mustToken(t, svc, "edge-east", time.Hour, 1)
	csr, _ := newCSR(t, "e2")
	e2, err := svc.Enroll(ctx, lateTok.Token, EnrollRequest{NodeName: "e2", CSR: csr, AgentVersion: "0.9"}, "192.0.2.7")
	if err != nil {
		t.Fatal(err)
	}

	p := svc.Provider(ProviderOptions{Pools: map[string]PoolOptions{
		"edge-west":  {Site: "west-site", GlobalLocationID: "loc-west"},
		"edge-empty": {},
	}})
	snap, err := p.Discover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pools := map[string]ims.ResourcePool{}
	for _, pool := range snap.ResourcePools {
		pools[pool.Name] = pool
	}
	if len(pools) != 3 || pools["edge-west"].Extensions["nodes"] != 2 || pools["edge-east"].Extensions["nodes"] != 2 || pools["edge-empty"].Extensions["nodes"] != 0 {
		t.Fatalf("pools %+v", snap.ResourcePools)
	}
	sites := map[string]ims.OCloudSite{}
	for _, s := range snap.Sites {
		sites[s.OCloudSiteID] = s
	}
	if s := sites[pools["edge-west"].OCloudSiteID]; s.Name != "west-site" || s.GlobalLocationID != "loc-west" {
		t.Errorf("edge-west's site %+v", s)
	}

	nodes := map[string]ims.Resource{}
	children := map[string][]ims.Resource{}
	for _, r := range snap.Resources {
		if r.ParentID == "" {
			nodes[r.ResourceID] = r
		} else {
			children[r.ParentID] = append(children[r.ParentID], r)
		}
	}
	tests := []struct {
		node    EnrollResponse
		name    string
		pool    string
		devices int
	}{
		{w1, "w1", "edge-west", 1},
		{w2, "w2", "edge-west", 1},
		{e1, "e1", "edge-east", 1},
		{e2, "e2", "edge-east", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, ok := nodes[tt.node.NodeID]
			if !ok {
				t.Fatalf("node %s (%s) not published", tt.name, tt.node.NodeID)
			}
			if n.ResourcePoolID != pools[tt.pool].ResourcePoolID {
				t.Errorf("pool id %s, want %s's", n.ResourcePoolID, tt.pool)
			}
			if len(n.Elements) != tt.devices || len(children[n.ResourceID]) != tt.devices {
				t.Errorf("%d elements and %d child resources, want %d", len(n.Elements), len(children[n.ResourceID]), tt.devices)
			}
			for _, d := range children[n.ResourceID] {
				if d.ResourceID == "nic0" || d.ResourcePoolID != n.ResourcePoolID || d.Extensions["provider"] != ProviderType {
					t.Errorf("device %+v keeps the agent's id or misses its pool", d)
				}
			}
			ext := n.Extensions
			for _, k := range []string{"agentVersion", "lastHeartbeat", "addresses", "healthy", "nodeName", "pool", "certificateNotAfter"} {
				if _, ok := ext[k]; !ok {
					t.Errorf("extensions lack %s: %v", k, ext)
				}
			}
			if ext["healthy"] != true || ext["operationalState"] != "ENABLED" || ext["nodeName"] != tt.name || ext["provider"] != ProviderType {
				t.Errorf("extensions %v", ext)
			}
			if !slices.Contains(n.Tags, "edge") {
				t.Errorf("tags %v lack edge", n.Tags)
			}
		})
	}
	// Nodes of one hardware model share their resource types, and a
	// node without inventory has the generic type.
	if n1, n2 := nodes[w1.NodeID], nodes[e1.NodeID]; n1.ResourceTypeID != n2.ResourceTypeID {
		t.Errorf("same model, different types: %s, %s", n1.ResourceTypeID, n2.ResourceTypeID)
	}
	if len(snap.ResourceTypes) != 3 {
		t.Errorf("%d resource types, want host, NIC and edge node: %+v", len(snap.ResourceTypes), snap.ResourceTypes)
	}

	again, err := p.Discover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(snap, again) {
		t.Error("two discoveries of unchanged nodes differ")
	}
}

func TestProviderWatchAndHealth(t *testing.T) {
	svc, _ := newTestService(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := svc.Provider(ProviderOptions{})
	changed := make(chan struct{}, 16)
	go p.Watch(ctx, func() { changed <- struct{}{} })
	time.Sleep(10 * time.Millisecond) // let Watch register
	tok := mustToken(t, svc, "edge-west", time.Hour, 1)
	n, _ := enrol(t, svc, tok.Token, "n1")
	select {
	case <-changed:
	case <-time.After(5 * time.Second):
		t.Fatal("no change signalled for an enrolment")
	}
	node, err := svc.Node(ctx, "n1")
	if err != nil {
		t.Fatal(err)
	}
	node.Reachable = false
	if err := svc.store.PutNode(ctx, node); err != nil {
		t.Fatal(err)
	}
	snap, _ := p.Discover(ctx)
	for _, r := range snap.Resources {
		if r.ResourceID == n.NodeID && (r.Extensions["healthy"] != false || r.Extensions["operationalState"] != "DISABLED" || r.Extensions["powerState"] != nil ||
			r.Extensions["healthAlarm"] != nil) {
			t.Errorf("unreachable node extensions %v", r.Extensions)
		}
	}
	// A provider told which alarm covers its nodes' health says so on
	// each node.
	snap, _ = svc.Provider(ProviderOptions{HealthAlarm: "O2IMSEdgeNodeUnreachable"}).Discover(ctx)
	for _, r := range snap.Resources {
		if r.ResourceID == n.NodeID && r.Extensions["healthAlarm"] != "O2IMSEdgeNodeUnreachable" {
			t.Errorf("node extensions %v, want healthAlarm", r.Extensions)
		}
	}
}
