package edge

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/nephoran/o2ims/internal/ims"
)

// ProviderType is the kind of provider, in the extensions.provider of the
// inventory objects it reports.
const ProviderType = "edge"

// ProviderOptions configures the edge provider.
type ProviderOptions struct {
	// Name is the provider name reported in extensions.providerName;
	// "edge" if empty.
	Name string
	// Pools describes pools beyond their name. A pool listed here is
	// published even while it has no nodes; others appear with their
	// first enrolled node.
	Pools map[string]PoolOptions
	// HealthAlarm names the alarm the server raises when a node is
	// unreachable (its Observer's). Each node carries it in
	// extensions.healthAlarm, which tells the generic health alarm that
	// a node's healthy=false is covered already: one alarm per outage.
	HealthAlarm string
}

// PoolOptions describes a pool of edge nodes.
type PoolOptions struct {
	// Site is the name of the pool's O-Cloud site, the pool's own name
	// when empty.
	Site string
	// GlobalLocationID is where the site is; empty for the O-Cloud's
	// default location.
	GlobalLocationID string
	Description      string
}

// Provider publishes the enrolled edge nodes as inventory (it implements
// inventory.Provider and inventory.Watcher): each node a resource in the
// pool of its bootstrap token, with its devices as elements and as child
// resources, and extensions saying how the node is doing. Nodes waiting for
// approval are not published.
type Provider struct {
	svc  *Service
	opts ProviderOptions
	ns   uuid.UUID
}

// Provider returns the inventory provider of the nodes of s.
func (s *Service) Provider(opts ProviderOptions) *Provider {
	opts.Name = cmp.Or(opts.Name, ProviderType)
	root := uuid.NewSHA1(uuid.NameSpaceURL, []byte("urn:nephoran:o2ims:provider:edge"))
	return &Provider{svc: s, opts: opts, ns: uuid.NewSHA1(root, []byte(opts.Name))}
}

// Name returns the provider name.
func (p *Provider) Name() string { return p.opts.Name }

// Watch calls changed whenever a node enrols, is deleted, changes
// reachability, reports a new inventory or new addresses, until ctx ends.
// Heartbeats alone do not count: the next periodic sync shows them.
func (p *Provider) Watch(ctx context.Context, changed func()) { p.svc.watch(ctx, changed) }

func (p *Provider) id(key string) string { return uuid.NewSHA1(p.ns, []byte(key)).String() }

// nodeTypeKey is the type of a node that has sent no inventory yet.
const nodeTypeKey = "type/edge-node"

// Discover reports the enrolled nodes as they are now. Ids are derived from
// the provider name, pool names and node ids, so they are stable across
// restarts; a device's id is derived from its node and the id the agent
// gave it, so two nodes can never claim the same resource.
func (p *Provider) Discover(ctx context.Context) (ims.Snapshot, error) {
	nodes, err := p.svc.store.Nodes(ctx)
	if err != nil {
		return ims.Snapshot{}, err
	}
	b := snapshotBuilder{p: p, types: map[string]*ims.ResourceType{}, versionConflict: map[string]bool{}}
	type poolStat struct{ nodes, healthy int }
	pools := map[string]*poolStat{}
	for name := range p.opts.Pools {
		pools[name] = &poolStat{}
	}
	for _, n := range nodes {
		if n.State != NodeEnrolled {
			continue
		}
		if err := ctx.Err(); err != nil {
			return ims.Snapshot{}, err
		}
		var doc Inventory
		inv, err := p.svc.store.Inventory(ctx, n.ID)
		switch {
		case err == nil:
			if err := json.Unmarshal(inv.Document, &doc); err != nil {
				p.svc.log.WarnContext(ctx, "stored edge inventory unreadable, publishing the node without devices", "node", n.Name, "err", err)
				doc = Inventory{}
			}
		case ims.ErrorCode(err) != ims.ENOTFOUND:
			return ims.Snapshot{}, err
		}
		b.addNode(n, doc, inv.ReceivedAt)
		st := pools[n.Pool]
		if st == nil {
			st = &poolStat{}
			pools[n.Pool] = st
		}
		st.nodes++
		if n.Reachable {
			st.healthy++
		}
	}

	var snap ims.Snapshot
	sites := map[string]ims.OCloudSite{}
	for _, name := range slices.Sorted(maps.Keys(pools)) {
		po := p.opts.Pools[name]
		site := cmp.Or(po.Site, name)
		siteID := p.id("site/" + site)
		if _, ok := sites[siteID]; !ok {
			sites[siteID] = ims.OCloudSite{
				OCloudSiteID: siteID, GlobalLocationID: po.GlobalLocationID, Name: site,
				Description: fmt.Sprintf("Site of the edge nodes of pool %s", name),
				Extensions:  ims.Extensions{"provider": ProviderType, "providerName": p.opts.Name},
			}
		}
		snap.ResourcePools = append(snap.ResourcePools, ims.ResourcePool{
			ResourcePoolID: p.id("pool/" + name),
			Name:           name,
			Description:    cmp.Or(po.Description, fmt.Sprintf("Edge nodes enrolled into pool %s", name)),
			OCloudSiteID:   siteID,
			Extensions: ims.Extensions{"provider": ProviderType, "providerName": p.opts.Name,
				"nodes": pools[name].nodes, "healthyNodes": pools[name].healthy},
		})
	}
	for _, id := range slices.Sorted(maps.Keys(sites)) {
		snap.Sites = append(snap.Sites, sites[id])
	}
	for _, id := range slices.Sorted(maps.Keys(b.types)) {
		t := *b.types[id]
		if b.versionConflict[id] {
			t.Version = ""
		}
		snap.ResourceTypes = append(snap.ResourceTypes, t)
	}
	byID := func(a, b ims.Resource) int { return strings.Compare(a.ResourceID, b.ResourceID) }
	slices.SortFunc(snap.ResourcePools, func(a, b ims.ResourcePool) int { return strings.Compare(a.ResourcePoolID, b.ResourcePoolID) })
	slices.SortFunc(b.resources, byID)
	snap.Resources = b.resources
	return snap, nil
}

// snapshotBuilder collects the resources and types of the nodes.
type snapshotBuilder struct {
	p               *Provider
	types           map[string]*ims.ResourceType
	versionConflict map[string]bool
	resources       []ims.Resource
}

// useType registers t under an id derived from its class, vendor and model,
// so the nodes of one hardware model share their types.
func (b *snapshotBuilder) useType(t ims.ResourceType) string {
	part := strings.NewReplacer("%", "%25", "/", "%2F").Replace
	id := b.p.id("type/" + part(string(t.ResourceClass)) + "/" + part(t.Vendor) + "/" + part(t.Model))
	if have, ok := b.types[id]; ok {
		if have.Version != t.Version {
			b.versionConflict[id] = true
		}
		return id
	}
	t.ResourceTypeID = id
	t.Extensions = maps.Clone(t.Extensions)
	b.types[id] = &t
	return id
}

func (b *snapshotBuilder) nodeType() string {
	id := b.p.id(nodeTypeKey)
	if _, ok := b.types[id]; !ok {
		b.types[id] = &ims.ResourceType{
			ResourceTypeID: id, Name: "Edge node", Description: "An edge node whose agent has not reported its hardware yet",
			Vendor: "unknown", Model: "unknown", ResourceKind: ims.ResourceKindUndefined, ResourceClass: ims.ResourceClassCompute,
		}
	}
	return id
}

// addNode adds the resources of one node: the node itself (the
// inventory's root) and its devices.
func (b *snapshotBuilder) addNode(n Node, doc Inventory, received time.Time) {
	poolID := b.p.id("pool/" + n.Pool)
	nodeNS, err := uuid.Parse(n.ID)
	if err != nil {
		nodeNS = uuid.NewSHA1(b.p.ns, []byte("node/"+n.ID))
	}
	typeIDs := make(map[string]string, len(doc.ResourceTypes))
	for _, t := range doc.ResourceTypes {
		typeIDs[t.ResourceTypeID] = b.useType(t)
	}
	ids := make(map[string]string, len(doc.Resources))
	for _, r := range doc.Resources {
		if r.ParentID == "" {
			ids[r.ResourceID] = n.ID
		} else {
			ids[r.ResourceID] = uuid.NewSHA1(nodeNS, []byte("resource/"+r.ResourceID)).String()
		}
	}

	node := ims.Resource{ResourceID: n.ID, ResourcePoolID: poolID, Description: "Edge node " + n.Name}
	var devices []ims.Resource
	for _, r := range doc.Resources {
		out := r
		out.ResourceID = ids[r.ResourceID]
		out.ResourcePoolID = poolID
		out.ResourceTypeID = typeIDs[r.ResourceTypeID]
		out.ParentID = ids[r.ParentID]
		out.Elements = nil
		out.Tags = slices.Clone(r.Tags)
		out.Groups = slices.Clone(r.Groups)
		out.Extensions = maps.Clone(r.Extensions)
		if out.Extensions == nil {
			out.Extensions = ims.Extensions{}
		}
		out.Extensions["provider"] = ProviderType
		out.Extensions["providerName"] = b.p.opts.Name
		if r.ParentID == "" {
			out.Description = cmp.Or(out.Description, node.Description)
			node = out
			continue
		}
		devices = append(devices, out)
	}
	if node.ResourceTypeID == "" {
		node.ResourceTypeID = b.nodeType()
	}
	if node.Extensions == nil {
		node.Extensions = ims.Extensions{}
	}
	node.Extensions["provider"] = ProviderType
	node.Extensions["providerName"] = b.p.opts.Name
	if !slices.Contains(node.Tags, "edge") {
		node.Tags = append(node.Tags, "edge")
	}
	b.p.nodeExtensions(node.Extensions, n, received)
	slices.SortFunc(devices, func(a, b ims.Resource) int { return strings.Compare(a.ResourceID, b.ResourceID) })
	for _, d := range devices {
		if d.ParentID != n.ID {
			continue
		}
		el := d
		el.Tags = slices.Clone(d.Tags)
		el.Extensions = maps.Clone(d.Extensions)
		node.Elements = append(node.Elements, el)
	}
	b.resources = append(b.resources, node)
	b.resources = append(b.resources, devices...)
}

// nodeExtensions adds what the IMS knows of the node beside its hardware.
func (p *Provider) nodeExtensions(ext ims.Extensions, n Node, received time.Time) {
	ext["nodeName"] = n.Name
	ext["pool"] = n.Pool
	if n.Site != "" {
		ext["site"] = n.Site
	}
	ext["agentVersion"] = n.AgentVersion
	ext["addresses"] = append([]string{}, n.Addresses...)
	if n.RemoteAddress != "" {
		ext["remoteAddress"] = n.RemoteAddress
	}
	ext["lastHeartbeat"] = n.LastHeartbeat.UTC().Format(time.RFC3339)
	ext["enrolledAt"] = n.EnrolledAt.UTC().Format(time.RFC3339)
	ext["certificateNotAfter"] = n.CertNotAfter.UTC().Format(time.RFC3339)
	if !received.IsZero() {
		ext["inventoryReceivedAt"] = received.UTC().Format(time.RFC3339)
	}
	ext["healthy"] = n.Reachable
	if p.opts.HealthAlarm != "" {
		ext["healthAlarm"] = p.opts.HealthAlarm
	}
	// The O2ims v11 state the node's lease shows; the agent's own report
	// cannot say it is unreachable.
	ext["operationalState"] = "ENABLED"
	if !n.Reachable {
		ext["operationalState"] = "DISABLED"
		delete(ext, "powerState")
	}
}
