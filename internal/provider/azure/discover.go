package azure

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v8"

	"github.com/nephoran/o2ims/internal/ims"
)

// view is what one discovery read from Azure.
type view struct {
	vnet    armnetwork.VirtualNetwork
	subnets []*armnetwork.Subnet
	nics    map[string]*armnetwork.Interface // by lowercased resource id
	vms     []vm
	sizes   map[string]*armcompute.VirtualMachineSize // by lowercased name
}

// vm is a virtual machine with its power state.
type vm struct {
	*armcompute.VirtualMachine
	power string // the PowerState/ code's value, such as running
}

// Discover reads the virtual network and its subnets, the network
// interfaces and VMs of the resource group, and the VM sizes of the
// location, and reports them. Any failed call fails the discovery, so
// that a partial view is never published; the provider is then
// unhealthy.
func (p *Provider) Discover(ctx context.Context) (ims.Snapshot, error) {
	ctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	v, err := p.read(ctx)
	if err != nil {
		return ims.Snapshot{}, err
	}
	return p.snapshot(v), nil
}

// pages reads every page of pager.
func pages[T any](ctx context.Context, pager *runtime.Pager[T], page func(T)) error {
	for pager.More() {
		r, err := pager.NextPage(ctx)
		if err != nil {
			return err
		}
		page(r)
	}
	return nil
}

func (p *Provider) read(ctx context.Context) (view, error) {
	v := view{nics: map[string]*armnetwork.Interface{}, sizes: map[string]*armcompute.VirtualMachineSize{}}
	rg := p.opts.ResourceGroup

	vnet, err := p.api.getVNet(ctx, rg, p.opts.VNetName, nil)
	if err != nil {
		if notFound(err) {
			return v, ims.Errorf(ims.EUNAVAILABLE, "%s: the virtual network %s does not exist in the resource group (config.networking.vnetName)", p, p.opts.VNetName)
		}
		return v, p.callErr(ctx, "VirtualNetworks.Get", err)
	}
	v.vnet = vnet.VirtualNetwork

	configured := map[string]bool{}
	for _, s := range p.opts.Subnets {
		configured[strings.ToLower(s.Name)] = true
	}
	seen := map[string]bool{}
	err = pages(ctx, p.api.listSubnets(rg, p.opts.VNetName, nil), func(r armnetwork.SubnetsClientListResponse) {
		for _, s := range r.Value {
			name := strings.ToLower(deref(s.Name))
			if len(configured) == 0 || configured[name] {
				v.subnets = append(v.subnets, s)
				seen[name] = true
			}
		}
	})
	if err != nil {
		return v, p.callErr(ctx, "Subnets.List", err)
	}
	for _, s := range p.opts.Subnets {
		if !seen[strings.ToLower(s.Name)] {
			return v, ims.Errorf(ims.EUNAVAILABLE, "%s: subnet %s is not a subnet of virtual network %s (config.networking.subnets)", p, s.Name, p.opts.VNetName)
		}
	}

	err = pages(ctx, p.api.listNICs(rg, nil), func(r armnetwork.InterfacesClientListResponse) {
		for _, n := range r.Value {
			v.nics[strings.ToLower(deref(n.ID))] = n
		}
	})
	if err != nil {
		return v, p.callErr(ctx, "NetworkInterfaces.List", err)
	}

	var vms []*armcompute.VirtualMachine
	err = pages(ctx, p.api.listVMs(rg, nil), func(r armcompute.VirtualMachinesClientListResponse) {
		for _, m := range r.Value {
			if p.ours(m.Tags) {
				vms = append(vms, m)
			}
		}
	})
	if err != nil {
		return v, p.callErr(ctx, "VirtualMachines.List", err)
	}
	// The list has no power state; each VM's instance view has.
	for _, m := range vms {
		iv, err := p.api.instanceView(ctx, rg, deref(m.Name), nil)
		if err != nil {
			if notFound(err) {
				continue // deleted since it was listed
			}
			return v, p.callErr(ctx, "VirtualMachines.InstanceView", err)
		}
		v.vms = append(v.vms, vm{VirtualMachine: m, power: powerState(iv.Statuses)})
	}

	err = pages(ctx, p.api.listSizes(p.opts.Location, nil), func(r armcompute.VirtualMachineSizesClientListResponse) {
		for _, s := range r.Value {
			v.sizes[strings.ToLower(deref(s.Name))] = s
		}
	})
	if err != nil {
		return v, p.callErr(ctx, "VirtualMachineSizes.List", err)
	}
	return v, nil
}

// ours tells whether a VM carries every default tag.
func (p *Provider) ours(tags map[string]*string) bool {
	for k, want := range p.opts.Tags {
		got, ok := tags[k]
		if !ok || deref(got) != want {
			return false
		}
	}
	return true
}

// powerState is the value of the PowerState/ status code (running,
// starting, stopping, stopped, deallocating, deallocated), empty when
// the instance view has none.
func powerState(statuses []*armcompute.InstanceViewStatus) string {
	for _, s := range statuses {
		if v, ok := strings.CutPrefix(deref(s.Code), "PowerState/"); ok {
			return v
		}
	}
	return ""
}

// states are the O2ims v11 administrative, operational and usage states
// of a VM: only a running VM is enabled and in use; a stopped or
// deallocated one is locked; one stopping, deallocating or being deleted
// is shutting down. allocated tells whether it holds its size's
// hardware (and so takes from the budget).
func states(provisioning, power string) (admin, oper, usage string, allocated bool) {
	switch {
	case strings.EqualFold(provisioning, "Deleting"):
		return "SHUTTINGDOWN", "DISABLED", "IDLE", true
	case power == "running":
		return "UNLOCKED", "ENABLED", "ACTIVE", true
	case power == "stopping":
		return "SHUTTINGDOWN", "DISABLED", "IDLE", true
	case power == "deallocating":
		return "SHUTTINGDOWN", "DISABLED", "IDLE", false
	case power == "stopped":
		return "LOCKED", "DISABLED", "IDLE", true
	case power == "deallocated":
		return "LOCKED", "DISABLED", "IDLE", false
	default: // starting, creating, failed, unknown
		return "UNLOCKED", "DISABLED", "IDLE", !strings.EqualFold(provisioning, "Failed")
	}
}

// notFound tells whether Azure answered 404.
func notFound(err error) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.StatusCode == 404
}

// callErr turns a failed Azure call into the provider's error, which the
// provider's health shows: it says what was refused and why, in words an
// operator can act on, with Azure's own code and message.
func (p *Provider) callErr(ctx context.Context, op string, err error) error {
	var (
		re    *azcore.ResponseError
		auth  *azidentity.AuthenticationFailedError
		netOp *net.OpError
		dns   *net.DNSError
	)
	reason := err.Error()
	switch {
	case errors.As(err, &auth):
		reason = "the service principal's credentials were refused by Microsoft Entra ID"
		if auth.RawResponse != nil {
			reason += fmt.Sprintf(" (HTTP %d)", auth.RawResponse.StatusCode)
		}
	case errors.As(err, &re):
		code, msg := re.ErrorCode, azureMessage(re)
		detail := code
		if msg != "" {
			detail += ": " + msg
		}
		switch re.StatusCode {
		case 401:
			reason = fmt.Sprintf("the credentials were refused (%s)", detail)
		case 403:
			reason = fmt.Sprintf("the service principal may not call %s (%s)", op, detail)
		case 429:
			reason = fmt.Sprintf("still throttled after %d retries (%s)", p.opts.MaxRetries, detail)
		case 404:
			reason = fmt.Sprintf("not found (%s)", detail)
		default:
			reason = fmt.Sprintf("HTTP %d (%s)", re.StatusCode, detail)
		}
	case errors.Is(ctx.Err(), context.Canceled):
		reason = "cancelled"
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		reason = fmt.Sprintf("the discovery took longer than %s", p.opts.Timeout)
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		reason = fmt.Sprintf("no answer within %s (%v)", p.opts.RequestTimeout, err)
	case errors.As(err, &dns):
		reason = fmt.Sprintf("the endpoint's name does not resolve (%v)", dns)
	case errors.As(err, &netOp):
		reason = fmt.Sprintf("the endpoint is unreachable (%v)", netOp)
	}
	return ims.Errorf(ims.EUNAVAILABLE, "%s: %s at %s: %s", p, op, p.endpoint, reason)
}

// azureMessage is the message of an ARM error body
// ({"error":{"code","message"}}), empty when there is none.
func azureMessage(re *azcore.ResponseError) string {
	if re.RawResponse == nil {
		return ""
	}
	body, err := runtime.Payload(re.RawResponse)
	if err != nil {
		return ""
	}
	var doc struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &doc) != nil {
		return ""
	}
	return trunc256(doc.Error.Message)
}

func trunc256(s string) string {
	if len(s) <= 256 {
		return s
	}
	return s[:256] + "…"
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// amount is compute in the units placement reads.
type amount struct{ cpuMillis, memBytes int64 }

func (a amount) add(b amount) amount {
	return amount{a.cpuMillis + b.cpuMillis, a.memBytes + b.memBytes}
}
func (a amount) sub(b amount) amount {
	return amount{a.cpuMillis - b.cpuMillis, a.memBytes - b.memBytes}
}

func (a amount) doc() map[string]any {
	return map[string]any{"cpuMillicores": a.cpuMillis, "memoryBytes": a.memBytes}
}

func sizeAmount(s *armcompute.VirtualMachineSize) amount {
	if s == nil {
		return amount{}
	}
	return amount{int64(deref(s.NumberOfCores)) * 1000, int64(deref(s.MemoryInMB)) << 20}
}

// ratio rounds to three decimals so that tiny changes do not turn into
// inventory modifications.
func ratio(req, alloc int64) float64 {
	if alloc <= 0 {
		return 0
	}
	return math.Round(float64(req)/float64(alloc)*1000) / 1000
}

func tagMap(tags map[string]*string) map[string]string {
	out := make(map[string]string, len(tags))
	for k, v := range tags {
		out[k] = deref(v)
	}
	return out
}

func strs(in []*string) []string {
	out := []string{}
	for _, s := range in {
		if s != nil {
			out = append(out, *s)
		}
	}
	return out
}

// nicsOf are a VM's network interfaces, the primary first.
func (v view) nicsOf(m *armcompute.VirtualMachine) []*armnetwork.Interface {
	var out []*armnetwork.Interface
	if m.Properties == nil || m.Properties.NetworkProfile == nil {
		return nil
	}
	for _, ref := range m.Properties.NetworkProfile.NetworkInterfaces {
		n := v.nics[strings.ToLower(deref(ref.ID))]
		if n == nil {
			continue
		}
		if ref.Properties != nil && deref(ref.Properties.Primary) {
			out = append([]*armnetwork.Interface{n}, out...)
		} else {
			out = append(out, n)
		}
	}
	return out
}

// addressing is a VM's private addresses and the subnet ids they are
// in, the primary NIC's primary configuration first.
func addressing(nics []*armnetwork.Interface) (ips, subnets []string) {
	ips, subnets = []string{}, []string{}
	for _, n := range nics {
		if n.Properties == nil {
			continue
		}
		for _, c := range n.Properties.IPConfigurations {
			if c.Properties == nil {
				continue
			}
			ip := deref(c.Properties.PrivateIPAddress)
			if ip != "" && !slices.Contains(ips, ip) {
				if deref(c.Properties.Primary) {
					ips = append([]string{ip}, ips...)
				} else {
					ips = append(ips, ip)
				}
			}
			if c.Properties.Subnet != nil {
				if id := strings.ToLower(deref(c.Properties.Subnet.ID)); id != "" && !slices.Contains(subnets, id) {
					subnets = append(subnets, id)
				}
			}
		}
	}
	return ips, subnets
}

// pool is one subnet's pool being built.
type pool struct {
	subnet    *armnetwork.Subnet
	purpose   string
	vms       int
	zones     map[string]bool
	requested amount
}

func subnetCIDRs(s *armnetwork.Subnet) []string {
	if s.Properties == nil {
		return []string{}
	}
	out := strs(s.Properties.AddressPrefixes)
	if a := deref(s.Properties.AddressPrefix); a != "" && !slices.Contains(out, a) {
		out = append([]string{a}, out...)
	}
	return out
}

func (p *Provider) snapshot(v view) ims.Snapshot {
	var snap ims.Snapshot
	loc, rg := p.opts.Location, p.opts.ResourceGroup
	dmID := p.DeploymentManagerID()
	purposes := map[string]string{}
	for _, s := range p.opts.Subnets {
		purposes[strings.ToLower(s.Name)] = s.Purpose
	}

	pools := map[string]*pool{} // by lowercased subnet id
	for _, s := range v.subnets {
		purpose := purposes[strings.ToLower(deref(s.Name))]
		if purpose == "" {
			purpose = PurposeCompute
		}
		pools[strings.ToLower(deref(s.ID))] = &pool{subnet: s, purpose: purpose, zones: map[string]bool{}}
	}

	typeIDs := map[string]string{} // by lowercased size name
	typeID := func(name string) string {
		key := strings.ToLower(name)
		if id, ok := typeIDs[key]; ok {
			return id
		}
		id := p.id("vm-size/" + key)
		typeIDs[key] = id
		return id
	}
	sizeNames := map[string]string{} // lowercased → as Azure spells it
	for key, s := range v.sizes {
		sizeNames[key] = deref(s.Name)
	}

	for _, m := range v.vms {
		armID := deref(m.ID)
		nics := v.nicsOf(m.VirtualMachine)
		ips, subnetIDs := addressing(nics)
		var pl *pool
		for _, id := range subnetIDs {
			if pl = pools[id]; pl != nil {
				break
			}
		}
		if pl == nil {
			// Its NICs are in no subnet inventoried.
			p.logger.Warn("VM outside the inventoried subnets skipped", "vm", armID)
			continue
		}
		props := m.Properties
		if props == nil {
			props = &armcompute.VirtualMachineProperties{}
		}
		size := ""
		if props.HardwareProfile != nil && props.HardwareProfile.VMSize != nil {
			size = string(*props.HardwareProfile.VMSize)
		}
		if n, ok := sizeNames[strings.ToLower(size)]; ok {
			size = n
		} else if size != "" {
			sizeNames[strings.ToLower(size)] = size
		}
		provisioning := deref(props.ProvisioningState)
		admin, oper, usage, allocated := states(provisioning, m.power)
		zones := strs(m.Zones)
		pl.vms++
		for _, z := range zones {
			pl.zones[z] = true
		}
		if allocated {
			pl.requested = pl.requested.add(sizeAmount(v.sizes[strings.ToLower(size)]))
		}
		name := deref(m.Name)
		tags := tagMap(m.Tags)
		subnetName := deref(pl.subnet.Name)
		ext := ims.Extensions{
			"provider":           ProviderType,
			"providerName":       p.opts.Name,
			"vmName":             name,
			"vmId":               deref(props.VMID),
			"azureResourceId":    armID,
			"vmSize":             size,
			"provisioningState":  provisioning,
			"powerState":         m.power,
			"adminState":         admin,
			"operationalState":   oper,
			"usageState":         usage,
			"healthy":            m.power == "running" && strings.EqualFold(provisioning, "Succeeded"),
			"location":           loc,
			"region":             loc,
			"zones":              zones,
			"resourceGroup":      rg,
			"vnetName":           p.opts.VNetName,
			"subnet":             subnetName,
			"privateIpAddresses": ips,
			"tags":               tags,
		}
		if props.TimeCreated != nil {
			ext["timeCreated"] = props.TimeCreated.UTC().Format(time.RFC3339)
		}
		if sp := props.StorageProfile; sp != nil {
			if sp.OSDisk != nil && sp.OSDisk.OSType != nil {
				ext["osType"] = string(*sp.OSDisk.OSType)
			}
			if img := sp.ImageReference; img != nil {
				ext["image"] = map[string]string{"publisher": deref(img.Publisher), "offer": deref(img.Offer), "sku": deref(img.SKU), "version": deref(img.Version), "id": deref(img.ID)}
			}
		}
		snap.Resources = append(snap.Resources, ims.Resource{
			ResourceID:     p.ResourceID(armID),
			ResourcePoolID: p.poolID(deref(pl.subnet.ID)),
			ResourceTypeID: typeID(size),
			GlobalAssetID:  armID,
			Description:    fmt.Sprintf("Azure VM %s (%s) in %s, subnet %s", name, size, loc, subnetName),
			Tags:           []string{"azure", "virtual-machine"},
			Groups:         []string{p.opts.Name},
			Extensions:     ext,
		})
	}

	// Pools share the location's budget: each sees it less what the
	// others take, so its free capacity is the location's.
	ids := slices.Sorted(maps.Keys(pools))
	var requested amount
	for _, id := range ids {
		requested = requested.add(pools[id].requested)
	}
	budget := amount{p.opts.Capacity.VCPUs * 1000, p.opts.Capacity.MemoryGiB << 30}
	vnetCIDRs := []string{}
	if v.vnet.Properties != nil && v.vnet.Properties.AddressSpace != nil {
		vnetCIDRs = strs(v.vnet.Properties.AddressSpace.AddressPrefixes)
	}
	var subnetDocs []map[string]any
	for _, id := range ids {
		pl := pools[id]
		s := pl.subnet
		state := ""
		if s.Properties != nil && s.Properties.ProvisioningState != nil {
			state = string(*s.Properties.ProvisioningState)
		}
		name := deref(s.Name)
		subnetDoc := map[string]any{"name": name, "id": deref(s.ID), "cidrs": subnetCIDRs(s), "purpose": pl.purpose}
		subnetDocs = append(subnetDocs, subnetDoc)
		ext := ims.Extensions{
			"provider":            ProviderType,
			"providerName":        p.opts.Name,
			"deploymentManagerId": dmID,
			"location":            loc,
			"region":              loc,
			"subscriptionId":      p.opts.SubscriptionID,
			"resourceGroup":       rg,
			"vnetName":            p.opts.VNetName,
			"vnetId":              deref(v.vnet.ID),
			"subnet":              subnetDoc,
			"subnets":             []map[string]any{subnetDoc},
			"purpose":             pl.purpose,
			"zones":               slices.Sorted(maps.Keys(pl.zones)),
			"vmCount":             pl.vms,
			"healthy":             state == "" || strings.EqualFold(state, "Succeeded"),
			"labels":              map[string]string{"topology.kubernetes.io/region": loc},
		}
		if !p.opts.Capacity.IsZero() {
			alloc := budget.sub(requested.sub(pl.requested))
			alloc.cpuMillis, alloc.memBytes = max(alloc.cpuMillis, 0), max(alloc.memBytes, 0)
			ext["capacity"] = map[string]any{"allocatable": alloc.doc(), "requested": pl.requested.doc(), "budget": "location"}
			ext["utilization"] = map[string]any{"cpu": ratio(pl.requested.cpuMillis, alloc.cpuMillis), "memory": ratio(pl.requested.memBytes, alloc.memBytes)}
		}
		snap.ResourcePools = append(snap.ResourcePools, ims.ResourcePool{
			ResourcePoolID: p.poolID(deref(s.ID)),
			Name:           p.opts.Name + "-" + strings.ToLower(name),
			Description:    fmt.Sprintf("Subnet %s (%s) of virtual network %s in %s (Azure provider %s)", name, pl.purpose, p.opts.VNetName, loc, p.opts.Name),
			Extensions:     ext,
		})
	}

	// Resource types: the sizes in use and those supported.
	for _, s := range p.opts.SupportedVMSizes {
		typeID(s)
		if _, ok := sizeNames[strings.ToLower(s)]; !ok {
			sizeNames[strings.ToLower(s)] = s
		}
	}
	for _, key := range slices.Sorted(maps.Keys(typeIDs)) {
		name := sizeNames[key]
		s := v.sizes[key]
		ext := ims.Extensions{
			"provider":     ProviderType,
			"providerName": p.opts.Name,
			"vmSize":       name,
			"location":     loc,
			"supported":    containsFold(p.opts.SupportedVMSizes, name),
			"default":      strings.EqualFold(name, p.opts.DefaultVMSize),
			"available":    s != nil,
		}
		desc := "Azure VM size " + name + " (not offered in " + loc + ")"
		if s != nil {
			a := sizeAmount(s)
			ext["vcpus"] = a.cpuMillis / 1000
			ext["memoryMiB"] = a.memBytes >> 20
			ext["maxDataDiskCount"] = deref(s.MaxDataDiskCount)
			ext["osDiskSizeMiB"] = deref(s.OSDiskSizeInMB)
			ext["resourceDiskSizeMiB"] = deref(s.ResourceDiskSizeInMB)
			desc = fmt.Sprintf("Azure VM size %s in %s: %d vCPU, %s memory", name, loc, a.cpuMillis/1000, mib(a.memBytes>>20))
		}
		snap.ResourceTypes = append(snap.ResourceTypes, ims.ResourceType{
			ResourceTypeID: typeIDs[key],
			Name:           "Azure " + name,
			Description:    desc,
			Vendor:         "Microsoft Azure",
			Model:          name,
			ResourceKind:   ims.ResourceKindLogical,
			ResourceClass:  ims.ResourceClassCompute,
			Extensions:     ext,
		})
	}

	capacity := map[string]any{"vms": len(snap.Resources)}
	if !p.opts.Capacity.IsZero() {
		maps.Copy(capacity, budget.doc())
	}
	caps := map[string]any{"vmSizes": append([]string{}, p.opts.SupportedVMSizes...), "templateKinds": []string{"azure-arm"}}
	if p.opts.DefaultVMSize != "" {
		caps["defaultVmSize"] = p.opts.DefaultVMSize
	}
	snap.DeploymentManagers = []ims.DeploymentManager{{
		DeploymentManagerID: dmID,
		Name:                p.opts.Name,
		Description:         "Azure location " + loc + ", resource group " + rg,
		ServiceURI:          p.endpoint,
		Capabilities:        caps,
		Capacity:            capacity,
		Extensions: ims.Extensions{
			"provider": ProviderType, "providerName": p.opts.Name, "location": loc, "region": loc,
			"subscriptionId": p.opts.SubscriptionID, "resourceGroup": rg, "vnetName": p.opts.VNetName, "vnetId": deref(v.vnet.ID),
			"vnetCidrs": vnetCIDRs, "subnets": subnetDocs,
		},
	}}

	sort.Slice(snap.Resources, func(i, j int) bool { return snap.Resources[i].ResourceID < snap.Resources[j].ResourceID })
	return snap
}

// mib renders MiB as GiB when whole.
func mib(n int64) string {
	if n%1024 == 0 {
		return fmt.Sprintf("%d GiB", n/1024)
	}
	return fmt.Sprintf("%d MiB", n)
}

// deref is *p, or the zero value when p is nil.
func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
