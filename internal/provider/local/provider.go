// Package local implements the inventory provider that describes the machine
// the IMS itself runs on. It reads procfs, sysfs and /etc directly, needing
// neither privileges nor external tools, and publishes the host as one
// resource pool holding a server resource, its devices and a deployment
// manager for the host runtime.
package local

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"

	"github.com/nephoran/o2ims/internal/ims"
)

// ProviderType is the kind of provider, in the extensions.provider of the
// inventory objects it reports (extensions.providerName is its name).
const ProviderType = "local"

// Options configures a Provider. The zero value describes the real machine.
type Options struct {
	// Name is the provider name reported in extensions.providerName;
	// "local" if empty.
	Name string
	// SiteName names the host's O-Cloud site and its resource pool;
	// "<hostname>-site" if empty.
	SiteName string
	// GlobalLocationID is the location of the host's site; empty puts it
	// at the O-Cloud's default location.
	GlobalLocationID string
	// ServiceURI is the endpoint advertised by the deployment manager.
	ServiceURI string
	// ProcRoot is where procfs is mounted; "/proc" if empty. Tests point
	// the roots at fixture trees.
	ProcRoot string
	// SysRoot is where sysfs is mounted; "/sys" if empty.
	SysRoot string
	// EtcRoot holds machine-id and os-release; "/etc" if empty.
	EtcRoot string
	// Hostname returns the host name; os.Hostname if nil.
	Hostname func() (string, error)
}

// Provider discovers the local machine. It keeps no state between calls,
// so it is safe for concurrent use.
type Provider struct {
	opts Options
	log  *slog.Logger
}

// New returns a Provider with the defaults of Options filled in. A nil
// logger discards output.
func New(opts Options, logger *slog.Logger) *Provider {
	opts.Name = cmp.Or(opts.Name, "local")
	opts.ProcRoot = cmp.Or(opts.ProcRoot, "/proc")
	opts.SysRoot = cmp.Or(opts.SysRoot, "/sys")
	opts.EtcRoot = cmp.Or(opts.EtcRoot, "/etc")
	if opts.Hostname == nil {
		opts.Hostname = os.Hostname
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Provider{opts: opts, log: logger.With("provider", opts.Name)}
}

// Name returns the provider name.
func (p *Provider) Name() string { return p.opts.Name }

// Health reports whether procfs and sysfs can be read. An empty directory
// counts as unreadable, since that is what an unmounted filesystem looks
// like inside a container.
func (p *Provider) Health(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, dir := range []string{p.opts.ProcRoot, p.opts.SysRoot} {
		if err := listable(dir); err != nil {
			return &ims.Error{
				Code:    ims.EUNAVAILABLE,
				Message: fmt.Sprintf("host filesystem %s is not readable", dir),
				Err:     err,
			}
		}
	}
	return nil
}

func listable(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Readdirnames(1); err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%s is empty", dir)
		}
		return err
	}
	return nil
}

// Discover describes the machine as it is now. Files that are missing or
// unreadable are skipped; only a machine where neither /proc/cpuinfo nor
// /proc/meminfo can be read is an error (EUNAVAILABLE), because then this is
// not a readable Linux host at all. When ctx is done, discovery stops
// before the next device and returns ctx.Err(). Every slice is sorted by id, so an
// unchanged machine yields deep-equal snapshots.
func (p *Provider) Discover(ctx context.Context) (ims.Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return ims.Snapshot{}, err
	}
	s := scan{fsReader: fsReader{log: p.log}, proc: p.opts.ProcRoot, sys: p.opts.SysRoot, etc: p.opts.EtcRoot}

	cpu, cpuErr := s.cpus()
	mem, memErr := s.meminfo()
	if cpuErr != nil && memErr != nil {
		return ims.Snapshot{}, &ims.Error{
			Code:    ims.EUNAVAILABLE,
			Message: "the host's CPU and memory information cannot be read",
			Err:     errors.Join(cpuErr, memErr),
		}
	}

	h := p.hostFacts(s, cpu, mem)
	ids := newIDMinter(h.identity)
	types := newTypeRegistry(ids)
	kind := ims.ResourceKindPhysical
	if h.virtualized {
		kind = ims.ResourceKindLogical
	}

	devs := cpuDevices(cpu, kind)
	if mem.total > 0 {
		devs = append(devs, memoryDevice(mem, kind))
	}
	disks, skippedDisks, err := s.disks(ctx, kind)
	if err != nil {
		return ims.Snapshot{}, err
	}
	nics, skippedNICs, err := s.nics(ctx, kind)
	if err != nil {
		return ims.Snapshot{}, err
	}
	accels, err := s.accelerators(ctx, kind)
	if err != nil {
		return ims.Snapshot{}, err
	}
	devs = append(append(append(devs, disks...), nics...), accels...)

	poolID := ids.id("pool")
	hostID := ids.id("host")
	devices := p.deviceResources(devs, ids, types, poolID, hostID)

	host := ims.Resource{
		ResourceID:     hostID,
		ResourcePoolID: poolID,
		ResourceTypeID: types.use(h.serverType(kind)),
		GlobalAssetID:  h.assetID,
		Description:    fmt.Sprintf("Host %s", h.hostname),
		Tags:           []string{"host"},
		Extensions:     p.hostExtensions(h, skippedNICs, skippedDisks),
	}
	if name := displayName(h.dmi.vendor, h.dmi.product); name != "" {
		host.Description += " (" + name + ")"
	}
	for _, d := range devices {
		el := d
		el.Elements = nil
		el.Tags = slices.Clone(d.Tags)
		el.Extensions = maps.Clone(d.Extensions)
		host.Elements = append(host.Elements, el)
	}

	resources := append([]ims.Resource{host}, devices...)
	slices.SortFunc(resources, func(a, b ims.Resource) int { return strings.Compare(a.ResourceID, b.ResourceID) })

	siteID := ids.id("site")
	return ims.Snapshot{
		Sites: []ims.OCloudSite{{
			OCloudSiteID:     siteID,
			GlobalLocationID: p.opts.GlobalLocationID,
			Name:             h.site,
			Description:      fmt.Sprintf("Site of host %s", h.hostname),
			Extensions:       ims.Extensions{"provider": ProviderType, "providerName": p.opts.Name},
		}},
		ResourceTypes:      types.list(),
		ResourcePools:      []ims.ResourcePool{p.pool(h, poolID, siteID)},
		Resources:          resources,
		DeploymentManagers: []ims.DeploymentManager{p.deploymentManager(h, ids, hostID)},
	}, nil
}

// deviceResources turns devices into child resources of the host, sorted by id.
func (p *Provider) deviceResources(devs []device, ids idMinter, types *typeRegistry, poolID, hostID string) []ims.Resource {
	preferred := make([]string, len(devs))
	fallback := make([]string, len(devs))
	for i, d := range devs {
		preferred[i], fallback[i] = d.preferredKey, d.fallbackKey
	}
	keys := assignKeys(preferred, fallback)
	out := make([]ims.Resource, 0, len(devs))
	for i, d := range devs {
		out = append(out, ims.Resource{
			ResourceID:     ids.id(keys[i]),
			ResourcePoolID: poolID,
			ResourceTypeID: types.use(d.spec),
			GlobalAssetID:  d.assetID,
			Description:    d.description,
			ParentID:       hostID,
			Tags:           d.tags,
			Extensions:     d.ext,
		})
	}
	slices.SortFunc(out, func(a, b ims.Resource) int { return strings.Compare(a.ResourceID, b.ResourceID) })
	return out
}

func (p *Provider) pool(h hostFacts, id, siteID string) ims.ResourcePool {
	return ims.ResourcePool{
		ResourcePoolID: id,
		Name:           h.site,
		Description:    fmt.Sprintf("Site of host %s, discovered by the %s provider", h.hostname, p.opts.Name),
		OCloudSiteID:   siteID,
		Extensions: ims.Extensions{"provider": ProviderType, "providerName": p.opts.Name, "hostname": h.hostname,
			// What placement may put on the host (deployments delivered
			// through git): its hardware threads and memory; nothing
			// is counted as requested, since the host runs no workloads
			// of this server's own.
			"capacity": map[string]any{
				"allocatable": map[string]any{"cpuMillicores": int64(h.cpu.threads()) * 1000, "memoryBytes": h.mem.total, "pods": hostPods},
				"requested":   map[string]any{"cpuMillicores": int64(0), "memoryBytes": int64(0), "pods": int64(0)},
			},
		},
	}
}

// hostPods is the pod capacity counted for the host: the Kubernetes
// default of a node.
const hostPods = int64(110)

func (p *Provider) deploymentManager(h hostFacts, ids idMinter, hostID string) ims.DeploymentManager {
	return ims.DeploymentManager{
		DeploymentManagerID: ids.id("deployment-manager"),
		Name:                h.hostname,
		Description:         fmt.Sprintf("Workloads run directly on host %s", h.hostname),
		ServiceURI:          p.opts.ServiceURI,
		Capabilities: map[string]any{
			"runtime":      "host",
			"os":           h.os,
			"architecture": runtime.GOARCH,
		},
		Capacity: map[string]any{
			"cpu":         h.cpu.threads(),
			"memoryBytes": h.mem.total,
		},
		Extensions: ims.Extensions{"provider": ProviderType, "providerName": p.opts.Name, "hostResourceId": hostID},
	}
}

func (p *Provider) hostExtensions(h hostFacts, skippedNICs, skippedDisks int) ims.Extensions {
	cpu := map[string]any{
		"sockets": len(h.cpu.packages),
		"cores":   h.cpu.cores(),
		"threads": h.cpu.threads(),
	}
	if len(h.cpu.packages) > 0 {
		first := h.cpu.packages[0]
		cpu["vendor"] = first.vendor
		cpu["model"] = first.model
		if first.mhz > 0 {
			cpu["mhz"] = first.mhz
		}
	}
	ext := ims.Extensions{
		"provider":                   ProviderType,
		"providerName":               p.opts.Name,
		"hostname":                   h.hostname,
		"os":                         h.os,
		"architecture":               runtime.GOARCH,
		"virtualized":                h.virtualized,
		"cpu":                        cpu,
		"memory":                     map[string]any{"totalBytes": h.mem.total, "availableBytes": h.mem.available},
		"skippedVirtualInterfaces":   skippedNICs,
		"skippedVirtualBlockDevices": skippedDisks,
		// The O2ims v11 states: the IMS runs on this host, so it is on
		// and working; nothing here locks it.
		"adminState":       "UNLOCKED",
		"operationalState": "ENABLED",
		"powerState":       "ON",
	}
	putString(ext, "kernel", h.kernel)
	if h.hasUptime {
		ext["uptimeSeconds"] = h.uptime
	}
	return ext
}
