package kubernetes

import (
	"context"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/nephoran/o2ims/internal/ims"
)

// Discover reports the cluster's inventory from the informer caches. It
// fails when the API server does not answer, so that a cache gone stale
// is never published as current.
func (p *Provider) Discover(ctx context.Context) (ims.Snapshot, error) {
	p.start()
	if err := p.Health(ctx); err != nil {
		return ims.Snapshot{}, ims.Errorf(ims.EUNAVAILABLE, "%v", err)
	}
	if err := p.identify(ctx); err != nil {
		return ims.Snapshot{}, ims.Errorf(ims.EUNAVAILABLE, "cluster %s: %v", p.opts.Name, err)
	}
	if err := p.waitSynced(ctx); err != nil {
		return ims.Snapshot{}, ims.Errorf(ims.EUNAVAILABLE, "%v", err)
	}
	nodes, err := p.nodes.List(labels.Everything())
	if err != nil {
		return ims.Snapshot{}, err
	}
	pods, err := p.pods.List(labels.Everything())
	if err != nil {
		return ims.Snapshot{}, err
	}
	classes, err := p.classes.List(labels.Everything())
	if err != nil {
		return ims.Snapshot{}, err
	}
	version, err := p.client.Discovery().ServerVersion()
	if err != nil {
		return ims.Snapshot{}, ims.Errorf(ims.EUNAVAILABLE, "cluster %s: server version: %v", p.opts.Name, err)
	}
	return p.snapshot(nodes, pods, classes, version.GitVersion, p.detectCNI(ctx)), nil
}

// detectCNI names the network plugin from well-known kube-system
// DaemonSets; "" when none is recognised.
// The answer is kept for a minute: a network plugin changes rarely, and
// every sync would otherwise pay an extra API call.
func (p *Provider) detectCNI(ctx context.Context) string {
	p.mu.Lock()
	if time.Since(p.cniCheckedAt) < time.Minute {
		cni := p.cni
		p.mu.Unlock()
		return cni
	}
	p.mu.Unlock()
	ds, err := p.client.AppsV1().DaemonSets("kube-system").List(ctx, metav1.ListOptions{})
	if err != nil {
		return ""
	}
	cni := ""
	for _, d := range ds.Items {
		for _, known := range []string{"calico", "cilium", "flannel", "weave", "kube-router", "antrea", "multus", "ovn"} {
			if cni == "" && strings.Contains(d.Name, known) {
				cni = known
			}
		}
	}
	p.mu.Lock()
	p.cni, p.cniCheckedAt = cni, time.Now()
	p.mu.Unlock()
	return cni
}

// requests sums the resource requests of a pod (the larger of the
// containers' sum and any init container, as the scheduler counts).
func requests(pod *corev1.Pod) (cpuMilli, memBytes int64) {
	for _, c := range pod.Spec.Containers {
		cpuMilli += c.Resources.Requests.Cpu().MilliValue()
		memBytes += c.Resources.Requests.Memory().Value()
	}
	for _, c := range pod.Spec.InitContainers {
		cpuMilli = max(cpuMilli, c.Resources.Requests.Cpu().MilliValue())
		memBytes = max(memBytes, c.Resources.Requests.Memory().Value())
	}
	return cpuMilli, memBytes
}

type poolAcc struct {
	name             string
	nodes            int
	allocCPU, reqCPU int64 // millicores
	allocMem, reqMem int64 // bytes
	allocPods        int64
	reqPods          int64
	healthyNodes     int
	// labels are those every node of the pool carries with the same value.
	labels       map[string]string
	region, zone string
}

// ratio rounds to three decimals so that tiny changes do not turn into
// inventory modifications.
func ratio(req, alloc int64) float64 {
	if alloc <= 0 {
		return 0
	}
	return math.Round(float64(req)/float64(alloc)*1000) / 1000
}

func poolName(n *corev1.Node, fallback string) string {
	if v := n.Labels[PoolLabel]; v != "" {
		return v
	}
	return fallback
}

func (p *Provider) snapshot(nodes []*corev1.Node, pods []*corev1.Pod, classes []*storagev1.StorageClass, version, cni string) ims.Snapshot {
	var snap ims.Snapshot
	defaultPool := p.opts.Name + "-default"
	dmID := p.id("deployment-manager")

	nodePool := map[string]string{}
	pools := map[string]*poolAcc{}
	types := map[string]ims.ResourceType{}
	for _, n := range nodes {
		name := poolName(n, defaultPool)
		nodePool[n.Name] = name
		acc := pools[name]
		if acc == nil {
			acc = &poolAcc{name: name}
			pools[name] = acc
		}
		if acc.nodes == 0 {
			acc.labels = maps.Clone(n.Labels)
		} else {
			for k, v := range acc.labels {
				if n.Labels[k] != v {
					delete(acc.labels, k)
				}
			}
		}
		if ok, _ := nodeHealth(n); ok && !n.Spec.Unschedulable {
			acc.healthyNodes++
		}
		acc.nodes++
		acc.allocCPU += n.Status.Allocatable.Cpu().MilliValue()
		acc.allocMem += n.Status.Allocatable.Memory().Value()
		acc.allocPods += n.Status.Allocatable.Pods().Value()
	}
	running := map[string]int{} // pods not yet finished, per node
	for _, pod := range pods {
		if pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed && pod.Spec.NodeName != "" {
			running[pod.Spec.NodeName]++
		}
		name, ok := nodePool[pod.Spec.NodeName]
		if !ok {
			continue
		}
		if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
			continue
		}
		c, m := requests(pod)
		pools[name].reqCPU += c
		pools[name].reqMem += m
		pools[name].reqPods++
	}

	var totalCPU, totalMem, totalPods int64
	for _, acc := range pools {
		totalCPU += acc.allocCPU
		totalMem += acc.allocMem
		totalPods += acc.allocPods
		shared := acc.labels
		if shared == nil {
			shared = map[string]string{}
		}
		for k := range shared {
			if k == "kubernetes.io/hostname" || strings.HasPrefix(k, "kwok.x-k8s.io/") {
				delete(shared, k)
			}
		}
		ext := ims.Extensions{
			"provider":            ProviderType,
			"providerName":        p.opts.Name,
			"deploymentManagerId": dmID,
			"poolLabel":           acc.name,
			"nodeCount":           acc.nodes,
			"healthyNodeCount":    acc.healthyNodes,
			"healthy":             acc.healthyNodes > 0,
			"labels":              shared,
			"utilization":         map[string]any{"cpu": ratio(acc.reqCPU, acc.allocCPU), "memory": ratio(acc.reqMem, acc.allocMem)},
			"capacity": map[string]any{
				"allocatable": map[string]any{"cpuMillicores": acc.allocCPU, "memoryBytes": acc.allocMem, "pods": acc.allocPods},
				"requested":   map[string]any{"cpuMillicores": acc.reqCPU, "memoryBytes": acc.reqMem, "pods": acc.reqPods},
			},
		}
		if v := shared[RegionLabel]; v != "" {
			ext["region"] = v
		}
		if v := shared[ZoneLabel]; v != "" {
			ext["zone"] = v
		}
		pool := ims.ResourcePool{
			ResourcePoolID: p.id("pool/" + acc.name),
			Name:           acc.name,
			Description:    "Nodes of cluster " + p.opts.Name + " labelled " + PoolLabel + "=" + acc.name,
			Extensions:     ext,
		}
		if site := shared[SiteLabel]; site != "" {
			pool.OCloudSiteID = p.id("site/" + site)
			if !slices.ContainsFunc(snap.Sites, func(s ims.OCloudSite) bool { return s.OCloudSiteID == pool.OCloudSiteID }) {
				snap.Sites = append(snap.Sites, ims.OCloudSite{
					OCloudSiteID:     pool.OCloudSiteID,
					GlobalLocationID: shared[LocationLabel],
					Name:             site,
					Description:      "Nodes of cluster " + p.opts.Name + " labelled " + SiteLabel + "=" + site,
					Extensions:       ims.Extensions{"provider": ProviderType, "providerName": p.opts.Name},
				})
			}
		}
		snap.ResourcePools = append(snap.ResourcePools, pool)
	}

	for _, n := range nodes {
		instanceType := n.Labels["node.kubernetes.io/instance-type"]
		if instanceType == "" {
			instanceType = n.Labels["beta.kubernetes.io/instance-type"]
		}
		arch, osName := n.Status.NodeInfo.Architecture, n.Status.NodeInfo.OperatingSystem
		if arch == "" {
			arch = n.Labels["kubernetes.io/arch"]
		}
		if osName == "" {
			osName = n.Labels["kubernetes.io/os"]
		}
		model := instanceType
		if model == "" {
			model = "generic"
		}
		typeKey := "type/" + model + "/" + arch + "/" + osName
		typeID := p.id(typeKey)
		if _, ok := types[typeID]; !ok {
			types[typeID] = ims.ResourceType{
				ResourceTypeID: typeID,
				Name:           strings.TrimSpace("Kubernetes node " + model + " " + arch + "/" + osName),
				Description:    "Worker capacity of cluster " + p.opts.Name,
				Vendor:         n.Labels["node.kubernetes.io/vendor"],
				Model:          model,
				Version:        n.Status.NodeInfo.KubeletVersion,
				ResourceKind:   ims.ResourceKindLogical,
				ResourceClass:  ims.ResourceClassCompute,
				Extensions:     ims.Extensions{"provider": ProviderType, "providerName": p.opts.Name, "architecture": arch, "operatingSystem": osName, "instanceType": instanceType},
			}
		}
		healthy, reason := nodeHealth(n)
		// The O2ims v11 states (extensions, as v11 publishes them).
		admin, oper, usage := "UNLOCKED", "ENABLED", "IDLE"
		if n.Spec.Unschedulable {
			admin = "LOCKED"
		}
		if !healthy {
			oper = "DISABLED"
		}
		if running[n.Name] > 0 {
			usage = "ACTIVE"
		}
		asset := n.Spec.ProviderID
		if asset == "" {
			asset = n.Status.NodeInfo.SystemUUID
		}
		if asset == "" {
			asset = string(n.UID)
		}
		snap.Resources = append(snap.Resources, ims.Resource{
			ResourceID:     p.id("node/" + string(n.UID)),
			ResourcePoolID: p.id("pool/" + nodePool[n.Name]),
			ResourceTypeID: typeID,
			GlobalAssetID:  asset,
			Description:    "Node " + n.Name + " of cluster " + p.opts.Name,
			Tags:           []string{"kubernetes", "node"},
			Groups:         []string{p.opts.Name},
			Extensions: ims.Extensions{
				"provider":         ProviderType,
				"providerName":     p.opts.Name,
				"nodeName":         n.Name,
				"nodeUid":          string(n.UID),
				"healthy":          healthy,
				"healthReason":     reason,
				"labels":           n.Labels,
				"capacity":         quantities(n.Status.Capacity),
				"allocatable":      quantities(n.Status.Allocatable),
				"conditions":       conditions(n),
				"addresses":        addresses(n),
				"kubeletVersion":   n.Status.NodeInfo.KubeletVersion,
				"unschedulable":    n.Spec.Unschedulable,
				"adminState":       admin,
				"operationalState": oper,
				"usageState":       usage,
			},
		})
	}
	for _, t := range types {
		snap.ResourceTypes = append(snap.ResourceTypes, t)
	}

	var classNames []string
	for _, c := range classes {
		classNames = append(classNames, c.Name)
	}
	sort.Strings(classNames)
	caps := map[string]any{"kubernetesVersion": version, "storageClasses": classNames}
	if cni != "" {
		caps["cni"] = cni
	}
	snap.DeploymentManagers = []ims.DeploymentManager{{
		DeploymentManagerID: dmID,
		Name:                p.opts.Name,
		Description:         "Kubernetes cluster " + p.opts.Name,
		ServiceURI:          p.config.Host,
		Capabilities:        caps,
		Capacity: map[string]any{
			"cpuMillicores": totalCPU,
			"memoryBytes":   totalMem,
			"pods":          totalPods,
			"nodes":         len(nodes),
		},
		// The O2dms Kubernetes-native profile: how to reach the cluster's
		// API. Its credentials are added by the API for callers allowed
		// to see them, never stored here.
		Extensions: ims.Extensions{"provider": ProviderType, "providerName": p.opts.Name, "clusterId": p.clusterID,
			"profileName": DMSProfile,
			"profileData": map[string]any{"cluster_api_endpoint": p.config.Host, "cluster_ca_cert": p.caPEM()},
		},
	}}

	sort.Slice(snap.ResourcePools, func(i, j int) bool {
		return snap.ResourcePools[i].ResourcePoolID < snap.ResourcePools[j].ResourcePoolID
	})
	sort.Slice(snap.Resources, func(i, j int) bool { return snap.Resources[i].ResourceID < snap.Resources[j].ResourceID })
	sort.Slice(snap.ResourceTypes, func(i, j int) bool {
		return snap.ResourceTypes[i].ResourceTypeID < snap.ResourceTypes[j].ResourceTypeID
	})
	return snap
}

// nodeHealth is the Ready condition; a node without one is not healthy.
func nodeHealth(n *corev1.Node) (bool, string) {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			if c.Status == corev1.ConditionTrue {
				return true, ""
			}
			reason := c.Reason
			if reason == "" {
				reason = "NotReady"
			}
			return false, reason
		}
	}
	return false, "NoReadyCondition"
}

func quantities(rl corev1.ResourceList) map[string]string {
	out := make(map[string]string, len(rl))
	for k, v := range rl {
		out[string(k)] = v.String()
	}
	return out
}

// conditions lists the node conditions without their timestamps, which
// change with every heartbeat and would turn into modifications.
func conditions(n *corev1.Node) []map[string]string {
	out := make([]map[string]string, 0, len(n.Status.Conditions))
	for _, c := range n.Status.Conditions {
		out = append(out, map[string]string{"type": string(c.Type), "status": string(c.Status), "reason": c.Reason})
	}
	sort.Slice(out, func(i, j int) bool { return out[i]["type"] < out[j]["type"] })
	return out
}

func addresses(n *corev1.Node) []map[string]string {
	out := make([]map[string]string, 0, len(n.Status.Addresses))
	for _, a := range n.Status.Addresses {
		out = append(out, map[string]string{"type": string(a.Type), "address": a.Address})
	}
	return out
}
