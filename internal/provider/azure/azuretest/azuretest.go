// Package azuretest is an Azure resource group for tests, served by the
// Azure SDK's own fake servers (armcompute, armnetwork and armdeployments
// fakes) behind one transport: the real SDK clients build, send, page and
// retry their requests, and the fakes answer from the World's state
// without leaving the process. A deployment creates the VM its
// parameters describe (vmName, vmSize, subnetId, tags) with its NIC, so
// what the ARM realizer deploys shows up in discovery.
package azuretest

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
	computefake "github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v8"
	networkfake "github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v8/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armdeployments"
	deploymentsfake "github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armdeployments/fake"
)

// VM is a virtual machine of the resource group.
type VM struct {
	Name         string
	Size         string
	Power        string // running, stopped, deallocated, …
	Provisioning string // Succeeded (default), Creating, Deleting, Failed
	Zones        []string
	Tags         map[string]string
	NICs         []string // NIC names, the first primary
	Created      time.Time
}

// NIC is a network interface in a subnet.
type NIC struct {
	Name, Subnet, IP string
}

// Size is a VM size of the location.
type Size struct {
	Name     string
	Cores    int32
	MemoryMB int32
}

// Subnet is a subnet of the virtual network.
type Subnet struct {
	Name, CIDR string
}

// Deployment is an ARM deployment as the World received it.
type Deployment struct {
	Name       string
	Mode       string
	Template   any
	Parameters map[string]any
	State      string // Running, Succeeded, Failed
	Error      string
	Output     []string // resource ids created
	gets       int
}

// World is the state of one resource group and its location.
type World struct {
	Subscription, ResourceGroup, Location, VNet, VNetCIDR string
	// PageSize is the number of items per page of every list (default 2).
	PageSize int
	// DeploySteps is how many reads a deployment stays Running before it
	// completes.
	DeploySteps int

	mu          sync.Mutex
	subnets     []Subnet
	vms         map[string]*VM
	nics        map[string]*NIC
	sizes       []Size
	deployments map[string]*Deployment
	failNext    string
	rejectNext  string
	throttle    map[string]int
	refuse      bool
	unreachable bool
	calls       map[string]int
}

// New returns an empty World.
func New(subscription, resourceGroup, location, vnet, vnetCIDR string) *World {
	return &World{Subscription: subscription, ResourceGroup: resourceGroup, Location: location, VNet: vnet, VNetCIDR: vnetCIDR, PageSize: 2,
		vms: map[string]*VM{}, nics: map[string]*NIC{}, deployments: map[string]*Deployment{}, throttle: map[string]int{}, calls: map[string]int{}}
}

// AddSubnet adds subnets to the virtual network.
func (w *World) AddSubnet(s ...Subnet) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.subnets = append(w.subnets, s...)
}

// AddSize adds VM sizes to the location.
func (w *World) AddSize(s ...Size) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sizes = append(w.sizes, s...)
}

// AddNIC adds network interfaces.
func (w *World) AddNIC(n ...NIC) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, nic := range n {
		w.nics[strings.ToLower(nic.Name)] = &nic
	}
}

// AddVM adds VMs.
func (w *World) AddVM(v ...VM) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, vm := range v {
		w.vms[strings.ToLower(vm.Name)] = &vm
	}
}

// HasVM and HasNIC tell whether the resource exists.
func (w *World) HasVM(name string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.vms[strings.ToLower(name)] != nil
}

// HasNIC tells whether the NIC exists.
func (w *World) HasNIC(name string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.nics[strings.ToLower(name)] != nil
}

// Deployment returns a copy of the named deployment.
func (w *World) Deployment(name string) (Deployment, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	d, ok := w.deployments[name]
	if !ok {
		return Deployment{}, false
	}
	return *d, true
}

// FailNextDeployment makes the next deployment fail with message.
func (w *World) FailNextDeployment(message string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.failNext = message
}

// RejectNextDeployment answers the next deployment's submission with
// 400 and the ARM error code (such as InvalidTemplate).
func (w *World) RejectNextDeployment(code string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.rejectNext = code
}

// Throttle answers the next n calls of api (such as
// "VirtualMachinesClient.NewListPager") with 429 Too Many Requests.
func (w *World) Throttle(api string, n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.throttle[api] = n
}

// Refuse answers every call with 401 (refused credentials) while on.
func (w *World) Refuse(on bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.refuse = on
}

// Unreachable fails every call as a refused connection while on.
func (w *World) Unreachable(on bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.unreachable = on
}

// Calls is how often api was called (each attempt counts).
func (w *World) Calls(api string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.calls[api]
}

// ID is the Azure resource id of a resource of the group, such as
// ID("Microsoft.Compute/virtualMachines", "vm-1").
func (w *World) ID(typ, name string) string {
	return "/subscriptions/" + w.Subscription + "/resourceGroups/" + w.ResourceGroup + "/providers/" + typ + "/" + name
}

// SubnetID is the resource id of a subnet of the virtual network.
func (w *World) SubnetID(name string) string {
	return w.ID("Microsoft.Network/virtualNetworks", w.VNet) + "/subnets/" + name
}

// VMID is the resource id of a VM.
func (w *World) VMID(name string) string { return w.ID("Microsoft.Compute/virtualMachines", name) }

// NICID is the resource id of a NIC.
func (w *World) NICID(name string) string { return w.ID("Microsoft.Network/networkInterfaces", name) }

// Transport is the one transport every Azure client of a provider uses:
// it routes each request to the fake server of its resource provider.
func (w *World) Transport() policy.Transporter {
	return &router{
		w:           w,
		compute:     computefake.NewServerFactoryTransport(w.computeServer()),
		network:     networkfake.NewServerFactoryTransport(w.networkServer()),
		deployments: deploymentsfake.NewServerFactoryTransport(w.deploymentsServer()),
	}
}

// Credential is a token credential that needs no identity service.
func Credential() *azfake.TokenCredential { return &azfake.TokenCredential{} }

type router struct {
	w                             *World
	compute, network, deployments policy.Transporter
}

func (r *router) Do(req *http.Request) (*http.Response, error) {
	api, _ := req.Context().Value(runtime.CtxAPINameKey{}).(string)
	w := r.w
	w.mu.Lock()
	w.calls[api]++
	refuse, unreachable, throttled := w.refuse, w.unreachable, w.throttle[api] > 0
	if throttled {
		w.throttle[api]--
	}
	w.mu.Unlock()
	switch {
	case unreachable:
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: fmt.Errorf("connect: connection refused")}
	case refuse:
		return errorResponse(req, http.StatusUnauthorized, "InvalidAuthenticationToken", "The access token is invalid."), nil
	case throttled:
		return errorResponse(req, http.StatusTooManyRequests, "TooManyRequests", "The request is being throttled."), nil
	}
	path := strings.ToLower(req.URL.Path)
	switch {
	case strings.Contains(path, "/providers/microsoft.compute/"):
		return r.compute.Do(req)
	case strings.Contains(path, "/providers/microsoft.network/"):
		return r.network.Do(req)
	case strings.Contains(path, "/providers/microsoft.resources/deployments/"):
		return r.deployments.Do(req)
	}
	return errorResponse(req, http.StatusNotFound, "NoRoute", "no fake serves "+req.URL.Path), nil
}

func errorResponse(req *http.Request, status int, code, message string) *http.Response {
	body := fmt.Sprintf(`{"error":{"code":%q,"message":%q}}`, code, message)
	return &http.Response{
		StatusCode: status, Status: fmt.Sprintf("%d %s", status, http.StatusText(status)), Request: req,
		Header: http.Header{"Content-Type": {"application/json"}, "X-Ms-Error-Code": {code}},
		Body:   io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)),
	}
}

// paged splits items into PageSize pages.
func paged[T any, R any](w *World, items []T, page func([]T) R) (resp azfake.PagerResponder[R]) {
	n := max(w.PageSize, 1)
	if len(items) == 0 {
		resp.AddPage(http.StatusOK, page(nil), nil)
		return resp
	}
	for c := range slices.Chunk(items, n) {
		resp.AddPage(http.StatusOK, page(c), nil)
	}
	return resp
}

func (w *World) vmModel(v *VM) *armcompute.VirtualMachine {
	size := armcompute.VirtualMachineSizeTypes(v.Size)
	tags := map[string]*string{}
	for k, val := range v.Tags {
		tags[k] = to.Ptr(val)
	}
	var refs []*armcompute.NetworkInterfaceReference
	for i, n := range v.NICs {
		refs = append(refs, &armcompute.NetworkInterfaceReference{ID: to.Ptr(w.NICID(n)), Properties: &armcompute.NetworkInterfaceReferenceProperties{Primary: to.Ptr(i == 0)}})
	}
	prov := v.Provisioning
	if prov == "" {
		prov = "Succeeded"
	}
	created := v.Created
	if created.IsZero() {
		created = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	}
	return &armcompute.VirtualMachine{
		ID: to.Ptr(w.VMID(v.Name)), Name: to.Ptr(v.Name), Location: to.Ptr(w.Location), Tags: tags, Zones: to.SliceOfPtrs(v.Zones...),
		Properties: &armcompute.VirtualMachineProperties{
			HardwareProfile:   &armcompute.HardwareProfile{VMSize: &size},
			NetworkProfile:    &armcompute.NetworkProfile{NetworkInterfaces: refs},
			ProvisioningState: to.Ptr(prov),
			TimeCreated:       to.Ptr(created),
			VMID:              to.Ptr("vmid-" + strings.ToLower(v.Name)),
			StorageProfile: &armcompute.StorageProfile{
				OSDisk:         &armcompute.OSDisk{OSType: to.Ptr(armcompute.OperatingSystemTypesLinux)},
				ImageReference: &armcompute.ImageReference{Publisher: to.Ptr("Canonical"), Offer: to.Ptr("ubuntu-24_04-lts"), SKU: to.Ptr("server"), Version: to.Ptr("latest")},
			},
		},
	}
}

func notFound(code string) (errResp azfake.ErrorResponder) {
	errResp.SetResponseError(http.StatusNotFound, code)
	return errResp
}

func (w *World) computeServer() *computefake.ServerFactory {
	return &computefake.ServerFactory{
		VirtualMachinesServer: computefake.VirtualMachinesServer{
			NewListPager: func(rg string, _ *armcompute.VirtualMachinesClientListOptions) azfake.PagerResponder[armcompute.VirtualMachinesClientListResponse] {
				w.mu.Lock()
				defer w.mu.Unlock()
				var list []*armcompute.VirtualMachine
				if strings.EqualFold(rg, w.ResourceGroup) {
					for _, k := range slices.Sorted(maps.Keys(w.vms)) {
						list = append(list, w.vmModel(w.vms[k]))
					}
				}
				return paged(w, list, func(c []*armcompute.VirtualMachine) armcompute.VirtualMachinesClientListResponse {
					return armcompute.VirtualMachinesClientListResponse{VirtualMachineListResult: armcompute.VirtualMachineListResult{Value: c}}
				})
			},
			Get: func(_ context.Context, _ string, name string, _ *armcompute.VirtualMachinesClientGetOptions) (resp azfake.Responder[armcompute.VirtualMachinesClientGetResponse], errResp azfake.ErrorResponder) {
				w.mu.Lock()
				defer w.mu.Unlock()
				v := w.vms[strings.ToLower(name)]
				if v == nil {
					return resp, notFound("ResourceNotFound")
				}
				resp.SetResponse(http.StatusOK, armcompute.VirtualMachinesClientGetResponse{VirtualMachine: *w.vmModel(v)}, nil)
				return resp, errResp
			},
			InstanceView: func(_ context.Context, _ string, name string, _ *armcompute.VirtualMachinesClientInstanceViewOptions) (resp azfake.Responder[armcompute.VirtualMachinesClientInstanceViewResponse], errResp azfake.ErrorResponder) {
				w.mu.Lock()
				defer w.mu.Unlock()
				v := w.vms[strings.ToLower(name)]
				if v == nil {
					return resp, notFound("ResourceNotFound")
				}
				prov := v.Provisioning
				if prov == "" {
					prov = "Succeeded"
				}
				statuses := []*armcompute.InstanceViewStatus{{Code: to.Ptr("ProvisioningState/" + strings.ToLower(prov))}}
				if v.Power != "" {
					statuses = append(statuses, &armcompute.InstanceViewStatus{Code: to.Ptr("PowerState/" + v.Power)})
				}
				resp.SetResponse(http.StatusOK, armcompute.VirtualMachinesClientInstanceViewResponse{VirtualMachineInstanceView: armcompute.VirtualMachineInstanceView{Statuses: statuses}}, nil)
				return resp, errResp
			},
			BeginDelete: func(_ context.Context, _ string, name string, _ *armcompute.VirtualMachinesClientBeginDeleteOptions) (resp azfake.PollerResponder[armcompute.VirtualMachinesClientDeleteResponse], errResp azfake.ErrorResponder) {
				w.mu.Lock()
				defer w.mu.Unlock()
				if w.vms[strings.ToLower(name)] == nil {
					return resp, notFound("ResourceNotFound")
				}
				delete(w.vms, strings.ToLower(name))
				resp.SetTerminalResponse(http.StatusOK, armcompute.VirtualMachinesClientDeleteResponse{}, nil)
				return resp, errResp
			},
		},
		VirtualMachineSizesServer: computefake.VirtualMachineSizesServer{
			NewListPager: func(location string, _ *armcompute.VirtualMachineSizesClientListOptions) azfake.PagerResponder[armcompute.VirtualMachineSizesClientListResponse] {
				w.mu.Lock()
				defer w.mu.Unlock()
				var list []*armcompute.VirtualMachineSize
				if location == w.Location {
					for _, s := range w.sizes {
						list = append(list, &armcompute.VirtualMachineSize{Name: to.Ptr(s.Name), NumberOfCores: to.Ptr(s.Cores), MemoryInMB: to.Ptr(s.MemoryMB),
							MaxDataDiskCount: to.Ptr(int32(4)), OSDiskSizeInMB: to.Ptr(int32(1047552)), ResourceDiskSizeInMB: to.Ptr(int32(0))})
					}
				}
				return paged(w, list, func(c []*armcompute.VirtualMachineSize) armcompute.VirtualMachineSizesClientListResponse {
					return armcompute.VirtualMachineSizesClientListResponse{VirtualMachineSizeListResult: armcompute.VirtualMachineSizeListResult{Value: c}}
				})
			},
		},
	}
}

func (w *World) nicModel(n *NIC) *armnetwork.Interface {
	return &armnetwork.Interface{
		ID: to.Ptr(w.NICID(n.Name)), Name: to.Ptr(n.Name), Location: to.Ptr(w.Location),
		Properties: &armnetwork.InterfacePropertiesFormat{IPConfigurations: []*armnetwork.InterfaceIPConfiguration{{
			Name: to.Ptr("ipconfig1"),
			Properties: &armnetwork.InterfaceIPConfigurationPropertiesFormat{
				Primary: to.Ptr(true), PrivateIPAddress: to.Ptr(n.IP), Subnet: &armnetwork.Subnet{ID: to.Ptr(w.SubnetID(n.Subnet))},
			},
		}}},
	}
}

func (w *World) networkServer() *networkfake.ServerFactory {
	return &networkfake.ServerFactory{
		VirtualNetworksServer: networkfake.VirtualNetworksServer{
			Get: func(_ context.Context, rg, name string, _ *armnetwork.VirtualNetworksClientGetOptions) (resp azfake.Responder[armnetwork.VirtualNetworksClientGetResponse], errResp azfake.ErrorResponder) {
				if !strings.EqualFold(rg, w.ResourceGroup) || !strings.EqualFold(name, w.VNet) {
					return resp, notFound("ResourceNotFound")
				}
				resp.SetResponse(http.StatusOK, armnetwork.VirtualNetworksClientGetResponse{VirtualNetwork: armnetwork.VirtualNetwork{
					ID: to.Ptr(w.ID("Microsoft.Network/virtualNetworks", w.VNet)), Name: to.Ptr(w.VNet), Location: to.Ptr(w.Location),
					Properties: &armnetwork.VirtualNetworkPropertiesFormat{AddressSpace: &armnetwork.AddressSpace{AddressPrefixes: to.SliceOfPtrs(w.VNetCIDR)}},
				}}, nil)
				return resp, errResp
			},
		},
		SubnetsServer: networkfake.SubnetsServer{
			NewListPager: func(rg, vnet string, _ *armnetwork.SubnetsClientListOptions) azfake.PagerResponder[armnetwork.SubnetsClientListResponse] {
				w.mu.Lock()
				defer w.mu.Unlock()
				var list []*armnetwork.Subnet
				for _, s := range w.subnets {
					list = append(list, &armnetwork.Subnet{ID: to.Ptr(w.SubnetID(s.Name)), Name: to.Ptr(s.Name),
						Properties: &armnetwork.SubnetPropertiesFormat{AddressPrefix: to.Ptr(s.CIDR), ProvisioningState: to.Ptr(armnetwork.ProvisioningStateSucceeded)}})
				}
				return paged(w, list, func(c []*armnetwork.Subnet) armnetwork.SubnetsClientListResponse {
					return armnetwork.SubnetsClientListResponse{SubnetListResult: armnetwork.SubnetListResult{Value: c}}
				})
			},
		},
		InterfacesServer: networkfake.InterfacesServer{
			NewListPager: func(rg string, _ *armnetwork.InterfacesClientListOptions) azfake.PagerResponder[armnetwork.InterfacesClientListResponse] {
				w.mu.Lock()
				defer w.mu.Unlock()
				var list []*armnetwork.Interface
				for _, k := range slices.Sorted(maps.Keys(w.nics)) {
					list = append(list, w.nicModel(w.nics[k]))
				}
				return paged(w, list, func(c []*armnetwork.Interface) armnetwork.InterfacesClientListResponse {
					return armnetwork.InterfacesClientListResponse{InterfaceListResult: armnetwork.InterfaceListResult{Value: c}}
				})
			},
			Get: func(_ context.Context, _ string, name string, _ *armnetwork.InterfacesClientGetOptions) (resp azfake.Responder[armnetwork.InterfacesClientGetResponse], errResp azfake.ErrorResponder) {
				w.mu.Lock()
				defer w.mu.Unlock()
				n := w.nics[strings.ToLower(name)]
				if n == nil {
					return resp, notFound("NotFound")
				}
				resp.SetResponse(http.StatusOK, armnetwork.InterfacesClientGetResponse{Interface: *w.nicModel(n)}, nil)
				return resp, errResp
			},
			BeginDelete: func(_ context.Context, _ string, name string, _ *armnetwork.InterfacesClientBeginDeleteOptions) (resp azfake.PollerResponder[armnetwork.InterfacesClientDeleteResponse], errResp azfake.ErrorResponder) {
				w.mu.Lock()
				defer w.mu.Unlock()
				delete(w.nics, strings.ToLower(name))
				resp.SetTerminalResponse(http.StatusOK, armnetwork.InterfacesClientDeleteResponse{}, nil)
				return resp, errResp
			},
		},
	}
}

func (w *World) deploymentModel(d *Deployment) armdeployments.DeploymentExtended {
	state := armdeployments.ProvisioningState(d.State)
	props := &armdeployments.DeploymentPropertiesExtended{ProvisioningState: &state, Mode: to.Ptr(armdeployments.DeploymentMode(d.Mode)), Timestamp: to.Ptr(time.Now().UTC())}
	for _, id := range d.Output {
		props.OutputResources = append(props.OutputResources, &armdeployments.ResourceReference{ID: to.Ptr(id)})
	}
	if d.State == "Failed" {
		props.Error = &armdeployments.ErrorResponse{Code: to.Ptr("DeploymentFailed"), Message: to.Ptr("At least one resource deployment operation failed."),
			Details: []*armdeployments.ErrorResponse{{Code: to.Ptr("ResourceDeploymentFailure"), Message: to.Ptr(d.Error)}}}
	}
	return armdeployments.DeploymentExtended{ID: to.Ptr(w.ID("Microsoft.Resources/deployments", d.Name)), Name: to.Ptr(d.Name), Properties: props}
}

// advance completes a running deployment once it has been read
// DeploySteps times: it creates the VM and NIC its parameters describe,
// or fails.
func (w *World) advance(d *Deployment) {
	if d.State != "Running" {
		return
	}
	if d.gets < w.DeploySteps {
		d.gets++
		return
	}
	if d.Error != "" {
		d.State = "Failed"
		return
	}
	str := func(k string) string { s, _ := d.Parameters[k].(string); return s }
	name, size, subnetID := str("vmName"), str("vmSize"), str("subnetId")
	subnet := subnetID[strings.LastIndex(subnetID, "/")+1:]
	tags := map[string]string{}
	if t, ok := d.Parameters["tags"].(map[string]any); ok {
		for k, v := range t {
			tags[k], _ = v.(string)
		}
	}
	nic := &NIC{Name: name + "-nic", Subnet: subnet, IP: fmt.Sprintf("10.0.9.%d", 10+len(w.nics))}
	w.nics[strings.ToLower(nic.Name)] = nic
	w.vms[strings.ToLower(name)] = &VM{Name: name, Size: size, Power: "running", Tags: tags, NICs: []string{nic.Name}, Created: time.Now().UTC()}
	d.Output = []string{w.NICID(nic.Name), w.VMID(name)}
	d.State = "Succeeded"
}

func (w *World) deploymentsServer() *deploymentsfake.ServerFactory {
	return &deploymentsfake.ServerFactory{DeploymentsServer: deploymentsfake.DeploymentsServer{
		Get: func(_ context.Context, _ string, name string, _ *armdeployments.DeploymentsClientGetOptions) (resp azfake.Responder[armdeployments.DeploymentsClientGetResponse], errResp azfake.ErrorResponder) {
			w.mu.Lock()
			defer w.mu.Unlock()
			d := w.deployments[name]
			if d == nil {
				return resp, notFound("DeploymentNotFound")
			}
			w.advance(d)
			resp.SetResponse(http.StatusOK, armdeployments.DeploymentsClientGetResponse{DeploymentExtended: w.deploymentModel(d)}, nil)
			return resp, errResp
		},
		BeginCreateOrUpdate: func(_ context.Context, _ string, name string, p armdeployments.Deployment, _ *armdeployments.DeploymentsClientBeginCreateOrUpdateOptions) (resp azfake.PollerResponder[armdeployments.DeploymentsClientCreateOrUpdateResponse], errResp azfake.ErrorResponder) {
			w.mu.Lock()
			defer w.mu.Unlock()
			if code := w.rejectNext; code != "" {
				w.rejectNext = ""
				errResp.SetResponseError(http.StatusBadRequest, code)
				return resp, errResp
			}
			d := &Deployment{Name: name, State: "Running", Parameters: map[string]any{}, Error: w.failNext}
			w.failNext = ""
			if p.Properties != nil {
				if p.Properties.Mode != nil {
					d.Mode = string(*p.Properties.Mode)
				}
				d.Template = p.Properties.Template
				for k, v := range p.Properties.Parameters {
					if v != nil {
						d.Parameters[k] = v.Value
					}
				}
			}
			w.deployments[name] = d
			resp.SetTerminalResponse(http.StatusCreated, armdeployments.DeploymentsClientCreateOrUpdateResponse{DeploymentExtended: w.deploymentModel(d)}, nil)
			return resp, errResp
		},
		BeginDelete: func(_ context.Context, _ string, name string, _ *armdeployments.DeploymentsClientBeginDeleteOptions) (resp azfake.PollerResponder[armdeployments.DeploymentsClientDeleteResponse], errResp azfake.ErrorResponder) {
			w.mu.Lock()
			defer w.mu.Unlock()
			delete(w.deployments, name)
			resp.SetTerminalResponse(http.StatusNoContent, armdeployments.DeploymentsClientDeleteResponse{}, nil)
			return resp, errResp
		},
	}}
}
