package azure

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armdeployments"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/provisioning"
)

// TemplateKind is the kind of the templates ARMRealizer realizes.
const TemplateKind = "azure-arm"

// RequestTag is the tag that names the provisioning request on what a
// deployment creates, beside the provider's default tags.
const RequestTag = "o2ims-provisioning-request"

// Lookup finds the Azure provider whose deployment manager has the id;
// an unknown id is (nil, nil) or an error of code ims.ENOTFOUND.
type Lookup func(ctx context.Context, deploymentManagerID string) (*Provider, error)

// ARMRealizer realizes templates of kind azure-arm: an ARM template
// deployed, in incremental mode, into the resource group of the Azure
// provider the request's deploymentManagerId names. One call does one
// step and returns; the deployment's name derives from the request id
// and what the realizer needs to resume is in Progress.State, so a
// realization goes on after a restart by reading the deployment's state
// rather than submitting it again.
type ARMRealizer struct {
	lookup Lookup
	logger *slog.Logger
	// Timeout bounds a deployment, and a deletion, from its first
	// submission (default 1h); past it the realization fails.
	Timeout time.Duration
	// PollInterval is the RetryAfter while Azure works (default 15s).
	PollInterval time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

var (
	_ provisioning.Realizer  = (*ARMRealizer)(nil)
	_ provisioning.Validator = (*ARMRealizer)(nil)
)

// NewARMRealizer returns the realizer of azure-arm templates.
func NewARMRealizer(lookup Lookup, logger *slog.Logger) *ARMRealizer {
	return &ARMRealizer{lookup: lookup, logger: logger, Timeout: time.Hour, PollInterval: 15 * time.Second, Now: time.Now}
}

// armState is what a realization keeps in Progress.State.
type armState struct {
	DeploymentManagerID string    `json:"deploymentManagerId"`
	Deployment          string    `json:"deployment"`
	Hash                string    `json:"hash,omitempty"`
	SubmittedAt         time.Time `json:"submittedAt,omitzero"`
	DeleteStartedAt     time.Time `json:"deleteStartedAt,omitzero"`
	// Resources are the resource ids the deployment created.
	Resources []string `json:"resources,omitempty"`
}

func (s armState) encode() json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

var invalidDeploymentChars = regexp.MustCompile(`[^-\w.()]`)

// DeploymentName is the ARM deployment of a provisioning request.
func DeploymentName(requestID string) string {
	name := "o2ims-" + invalidDeploymentChars.ReplaceAllString(requestID, "-")
	if len(name) > 64 {
		sum := sha256.Sum256([]byte(requestID))
		name = name[:47] + "-" + hex.EncodeToString(sum[:8])
	}
	return name
}

// provider finds the job's provider; a permanent failure is returned as
// a Failed progress.
func (r *ARMRealizer) provider(ctx context.Context, job provisioning.Job, st *armState) (*Provider, *provisioning.Progress, error) {
	if st.DeploymentManagerID == "" {
		st.DeploymentManagerID, _ = job.Parameters["deploymentManagerId"].(string)
	}
	p, err := r.lookup(ctx, st.DeploymentManagerID)
	if err != nil && ims.ErrorCode(err) != ims.ENOTFOUND {
		return nil, nil, err
	}
	if p == nil {
		return nil, &provisioning.Progress{Phase: provisioning.Failed, State: st.encode(),
			Message: fmt.Sprintf("deploymentManagerId %q is not the deployment manager of a registered Azure provider", st.DeploymentManagerID)}, nil
	}
	return p, nil, nil
}

func decodeState(raw json.RawMessage) (armState, error) {
	var st armState
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &st); err != nil {
			return st, fmt.Errorf("azure realizer state: %w", err)
		}
	}
	return st, nil
}

// Apply submits the deployment, or reads how the submitted one stands.
func (r *ARMRealizer) Apply(ctx context.Context, job provisioning.Job) (provisioning.Progress, error) {
	st, err := decodeState(job.State)
	if err != nil {
		return provisioning.Progress{}, err
	}
	p, failed, err := r.provider(ctx, job, &st)
	if failed != nil || err != nil {
		return deref(failed), err
	}
	st.Deployment = DeploymentName(job.RequestID)
	body, params, err := r.deployment(p, job)
	if err != nil {
		return provisioning.Progress{Phase: provisioning.Failed, Message: err.Error(), State: st.encode()}, nil
	}
	hash := contentHash(job.Template.Body, params)

	got, err := p.api.getDeployment(ctx, p.opts.ResourceGroup, st.Deployment, nil)
	switch {
	case err != nil && !notFound(err):
		return provisioning.Progress{}, p.callErr(ctx, "Deployments.Get", err)
	case err == nil && (st.Hash == "" || st.Hash == hash || !terminal(got.DeploymentExtended)):
		// Ours, as submitted (or found after a restart that lost the
		// state): how does it stand?
		if st.Hash == "" {
			st.Hash = hash
		}
		if st.SubmittedAt.IsZero() {
			st.SubmittedAt = r.Now()
		}
		return r.applied(p, st, got.DeploymentExtended), nil
	}
	// Not there yet, or finished with other parameters: submit.
	_, err = p.api.createDeploy(ctx, p.opts.ResourceGroup, st.Deployment, armdeployments.Deployment{
		Properties: &armdeployments.DeploymentProperties{Mode: ptr(armdeployments.DeploymentModeIncremental), Template: body, Parameters: params},
		Tags:       map[string]*string{RequestTag: ptr(job.RequestID)},
	}, nil)
	if err != nil {
		var re *azcore.ResponseError
		if errors.As(err, &re) && re.StatusCode == 400 {
			// The template or its parameters are refused: no retry helps.
			return provisioning.Progress{Phase: provisioning.Failed, State: st.encode(),
				Message: fmt.Sprintf("Azure refused ARM deployment %s: %s", st.Deployment, cmp.Or(azureMessage(re), re.ErrorCode))}, nil
		}
		return provisioning.Progress{}, p.callErr(ctx, "Deployments.CreateOrUpdate", err)
	}
	st.Hash, st.SubmittedAt = hash, r.Now()
	r.logger.InfoContext(ctx, "ARM deployment submitted", "deployment", st.Deployment, "provider", p.Name(), "request", job.RequestID)
	return provisioning.Progress{Phase: provisioning.Progressing, Message: "ARM deployment " + st.Deployment + " submitted", State: st.encode(), RetryAfter: r.PollInterval}, nil
}

func terminal(d armdeployments.DeploymentExtended) bool {
	switch provisioningState(d) {
	case armdeployments.ProvisioningStateSucceeded, armdeployments.ProvisioningStateFailed, armdeployments.ProvisioningStateCanceled:
		return true
	}
	return false
}

func provisioningState(d armdeployments.DeploymentExtended) armdeployments.ProvisioningState {
	if d.Properties == nil || d.Properties.ProvisioningState == nil {
		return ""
	}
	return *d.Properties.ProvisioningState
}

// applied is the progress of a submitted deployment.
func (r *ARMRealizer) applied(p *Provider, st armState, d armdeployments.DeploymentExtended) provisioning.Progress {
	state := provisioningState(d)
	switch state {
	case armdeployments.ProvisioningStateSucceeded:
		st.Resources = outputIDs(d)
		return provisioning.Progress{Phase: provisioning.Fulfilled, Message: "ARM deployment " + st.Deployment + " succeeded",
			Resources: p.vmResources(st.Resources, provisioning.ResourceProvisioned, ""), State: st.encode()}
	case armdeployments.ProvisioningStateFailed, armdeployments.ProvisioningStateCanceled:
		msg := deploymentError(d)
		st.Resources = outputIDs(d)
		return provisioning.Progress{Phase: provisioning.Failed, Message: fmt.Sprintf("ARM deployment %s %s: %s", st.Deployment, strings.ToLower(string(state)), msg),
			Resources: p.vmResources(st.Resources, provisioning.ResourceFailed, msg), State: st.encode()}
	}
	if elapsed := r.Now().Sub(st.SubmittedAt); elapsed > r.Timeout {
		return provisioning.Progress{Phase: provisioning.Failed, State: st.encode(),
			Message: fmt.Sprintf("ARM deployment %s did not finish within %s (it is %s)", st.Deployment, r.Timeout, cmp.Or(string(state), "in no known state"))}
	}
	return provisioning.Progress{Phase: provisioning.Progressing, Message: fmt.Sprintf("ARM deployment %s is %s", st.Deployment, cmp.Or(string(state), "submitted")),
		Resources: p.vmResources(outputIDs(d), provisioning.ResourceProcessing, ""), State: st.encode(), RetryAfter: r.PollInterval}
}

// vmResources are the VMs among ids, as the inventory will show them.
func (p *Provider) vmResources(ids []string, phase provisioning.ResourcePhase, msg string) []provisioning.Resource {
	var out []provisioning.Resource
	for _, id := range ids {
		rid, err := arm.ParseResourceID(id)
		if err != nil || !strings.EqualFold(rid.ResourceType.String(), "Microsoft.Compute/virtualMachines") {
			continue
		}
		out = append(out, provisioning.Resource{Name: rid.Name, ID: p.ResourceID(id), Phase: phase, Message: msg})
	}
	return out
}

func outputIDs(d armdeployments.DeploymentExtended) []string {
	var ids []string
	if d.Properties == nil {
		return nil
	}
	for _, ref := range d.Properties.OutputResources {
		if id := deref(ref.ID); id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}

// deploymentError is a failed deployment's message: the details, which
// name the resource that failed and why, else the summary.
func deploymentError(d armdeployments.DeploymentExtended) string {
	if d.Properties == nil || d.Properties.Error == nil {
		return "no error was reported"
	}
	var parts []string
	var walk func(e *armdeployments.ErrorResponse)
	walk = func(e *armdeployments.ErrorResponse) {
		if len(e.Details) == 0 {
			if m := deref(e.Message); m != "" {
				parts = append(parts, strings.TrimSpace(deref(e.Code)+": "+m))
			}
			return
		}
		for _, sub := range e.Details {
			if sub != nil {
				walk(sub)
			}
		}
	}
	walk(d.Properties.Error)
	if len(parts) == 0 {
		return deref(d.Properties.Error.Code)
	}
	return trunc256(strings.Join(parts, "; "))
}

// deployment is the ARM template of the job and its parameters: those
// the template declares, from the request, and what the provider knows
// (location, the compute subnet's id, the default tags with the
// request's).
func (r *ARMRealizer) deployment(p *Provider, job provisioning.Job) (any, map[string]*armdeployments.DeploymentParameter, error) {
	var body map[string]any
	if err := json.Unmarshal(job.Template.Body, &body); err != nil {
		return nil, nil, fmt.Errorf("template %s %s: its body is not an ARM template (JSON): %v", job.Template.Name, job.Template.Version, err)
	}
	declared, _ := body["parameters"].(map[string]any)
	params := map[string]*armdeployments.DeploymentParameter{}
	set := func(k string, v any) {
		if _, ok := declared[k]; ok {
			params[k] = &armdeployments.DeploymentParameter{Value: v}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(job.Parameters)) {
		if k != "deploymentManagerId" && k != "subnetName" && k != "tags" {
			set(k, job.Parameters[k])
		}
	}
	if _, ok := job.Parameters["vmSize"]; !ok && p.opts.DefaultVMSize != "" {
		set("vmSize", p.opts.DefaultVMSize)
	}
	if _, ok := job.Parameters["location"]; !ok {
		set("location", p.opts.Location)
	}
	if _, ok := declared["subnetId"]; ok {
		if _, given := job.Parameters["subnetId"]; !given {
			subnet, _ := job.Parameters["subnetName"].(string)
			id, err := p.subnetID(subnet)
			if err != nil {
				return nil, nil, err
			}
			set("subnetId", id)
		}
	}
	tags := map[string]any{}
	if t, ok := job.Parameters["tags"].(map[string]any); ok {
		maps.Copy(tags, t)
	}
	for k, v := range p.opts.Tags {
		tags[k] = v
	}
	tags[RequestTag] = job.RequestID
	set("tags", tags)
	return body, params, nil
}

// subnetID is the resource id of the named subnet, or of the first
// compute subnet configured.
func (p *Provider) subnetID(name string) (string, error) {
	if name == "" {
		for _, s := range p.opts.Subnets {
			if s.Purpose == "" || s.Purpose == PurposeCompute {
				name = s.Name
				break
			}
		}
	}
	if name == "" {
		return "", fmt.Errorf("azure provider %s configures no compute subnet (config.networking.subnets) and the request names none (subnetName)", p.opts.Name)
	}
	return "/subscriptions/" + p.opts.SubscriptionID + "/resourceGroups/" + p.opts.ResourceGroup +
		"/providers/Microsoft.Network/virtualNetworks/" + p.opts.VNetName + "/subnets/" + name, nil
}

func contentHash(body []byte, params map[string]*armdeployments.DeploymentParameter) string {
	h := sha256.New()
	h.Write(body)
	b, _ := json.Marshal(params) // map keys are sorted
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Delete removes what the deployment created, VMs first, then their
// network interfaces, and then the deployment record (deleting an ARM
// deployment leaves its resources in place). One call starts one round
// of deletions; the next ones see them through.
func (r *ARMRealizer) Delete(ctx context.Context, job provisioning.Job) (provisioning.Progress, error) {
	st, err := decodeState(job.State)
	if err != nil {
		return provisioning.Progress{}, err
	}
	p, failed, err := r.provider(ctx, job, &st)
	if failed != nil || err != nil {
		if failed != nil {
			failed.Message += "; what its deployment created cannot be deleted"
		}
		return deref(failed), err
	}
	st.Deployment = DeploymentName(job.RequestID)
	if st.DeleteStartedAt.IsZero() {
		st.DeleteStartedAt = r.Now()
	}
	rg := p.opts.ResourceGroup
	got, err := p.api.getDeployment(ctx, rg, st.Deployment, nil)
	deploymentGone := err != nil && notFound(err)
	if err != nil && !deploymentGone {
		return provisioning.Progress{}, p.callErr(ctx, "Deployments.Get", err)
	}
	ids := st.Resources
	if !deploymentGone {
		if !terminal(got.DeploymentExtended) {
			// Still deploying: what it creates is not known yet.
			return r.deleting(st, "ARM deployment "+st.Deployment+" is still running")
		}
		ids = mergeIDs(ids, outputIDs(got.DeploymentExtended))
		st.Resources = ids
	}

	var vms, nics []*arm.ResourceID
	for _, id := range ids {
		rid, err := arm.ParseResourceID(id)
		if err != nil {
			continue
		}
		switch strings.ToLower(rid.ResourceType.String()) {
		case "microsoft.compute/virtualmachines":
			vms = append(vms, rid)
		case "microsoft.network/networkinterfaces":
			nics = append(nics, rid)
		default:
			r.logger.InfoContext(ctx, "a resource of the deployment is left to Azure", "deployment", st.Deployment, "resource", id)
		}
	}
	var pending []string
	for _, vm := range vms {
		got, err := p.api.getVM(ctx, vm.ResourceGroupName, vm.Name, nil)
		switch {
		case err != nil && notFound(err):
			continue
		case err != nil:
			return provisioning.Progress{}, p.callErr(ctx, "VirtualMachines.Get", err)
		}
		pending = append(pending, vm.Name)
		if got.Properties != nil && strings.EqualFold(deref(got.Properties.ProvisioningState), "Deleting") {
			continue
		}
		if _, err := p.api.deleteVM(ctx, vm.ResourceGroupName, vm.Name, nil); err != nil && !notFound(err) {
			return provisioning.Progress{}, p.callErr(ctx, "VirtualMachines.Delete", err)
		}
		r.logger.InfoContext(ctx, "VM deletion started", "vm", vm.Name, "deployment", st.Deployment)
	}
	if len(pending) > 0 {
		return r.deleting(st, "deleting VM "+strings.Join(pending, ", "))
	}
	for _, nic := range nics {
		_, err := p.api.getNIC(ctx, nic.ResourceGroupName, nic.Name, nil)
		switch {
		case err != nil && notFound(err):
			continue
		case err != nil:
			return provisioning.Progress{}, p.callErr(ctx, "NetworkInterfaces.Get", err)
		}
		pending = append(pending, nic.Name)
		if _, err := p.api.deleteNIC(ctx, nic.ResourceGroupName, nic.Name, nil); err != nil && !notFound(err) {
			return provisioning.Progress{}, p.callErr(ctx, "NetworkInterfaces.Delete", err)
		}
	}
	if len(pending) > 0 {
		return r.deleting(st, "deleting network interface "+strings.Join(pending, ", "))
	}
	if deploymentGone {
		return provisioning.Progress{Phase: provisioning.Deleted, Message: "ARM deployment " + st.Deployment + " and its VMs are deleted", State: st.encode()}, nil
	}
	if _, err := p.api.deleteDeploy(ctx, rg, st.Deployment, nil); err != nil && !notFound(err) {
		return provisioning.Progress{}, p.callErr(ctx, "Deployments.Delete", err)
	}
	return r.deleting(st, "deleting the record of ARM deployment "+st.Deployment)
}

func (r *ARMRealizer) deleting(st armState, msg string) (provisioning.Progress, error) {
	if r.Now().Sub(st.DeleteStartedAt) > r.Timeout {
		return provisioning.Progress{Phase: provisioning.Failed, State: st.encode(),
			Message: fmt.Sprintf("the deletion of ARM deployment %s did not finish within %s (%s)", st.Deployment, r.Timeout, msg)}, nil
	}
	return provisioning.Progress{Phase: provisioning.Progressing, Message: msg, State: st.encode(), RetryAfter: r.PollInterval}, nil
}

func mergeIDs(a, b []string) []string {
	out := slices.Clone(a)
	for _, id := range b {
		if !slices.ContainsFunc(out, func(e string) bool { return strings.EqualFold(e, id) }) {
			out = append(out, id)
		}
	}
	return out
}

// Validate checks what the schema cannot: deploymentManagerId names a
// registered Azure provider, whose supported VM sizes include vmSize and
// whose subnets include subnetName.
func (r *ARMRealizer) Validate(ctx context.Context, t provisioning.Template, params map[string]any) error {
	dm, _ := params["deploymentManagerId"].(string)
	if dm == "" {
		return ims.Errorf(ims.EINVALID, "templateParameters.deploymentManagerId: required (the deployment manager of an Azure provider)")
	}
	p, err := r.lookup(ctx, dm)
	if err != nil && ims.ErrorCode(err) != ims.ENOTFOUND {
		return err
	}
	if p == nil {
		return ims.Errorf(ims.EINVALID, "templateParameters.deploymentManagerId: %q is not the deployment manager of a registered Azure provider", trunc(dm))
	}
	size, _ := params["vmSize"].(string)
	if size == "" {
		size = p.opts.DefaultVMSize
	}
	if size != "" && len(p.opts.SupportedVMSizes) > 0 && !containsFold(p.opts.SupportedVMSizes, size) {
		return ims.Errorf(ims.EINVALID, "templateParameters.vmSize: %q is not a VM size of Azure provider %s (supported: %s)", trunc(size), p.Name(), strings.Join(p.opts.SupportedVMSizes, ", "))
	}
	if subnet, _ := params["subnetName"].(string); subnet != "" && len(p.opts.Subnets) > 0 &&
		!slices.ContainsFunc(p.opts.Subnets, func(s Subnet) bool { return strings.EqualFold(s.Name, subnet) }) {
		return ims.Errorf(ims.EINVALID, "templateParameters.subnetName: %q is not a subnet of Azure provider %s", trunc(subnet), p.Name())
	}
	if _, err := p.subnetID(""); err != nil {
		if subnet, _ := params["subnetName"].(string); subnet == "" {
			return ims.Errorf(ims.EINVALID, "templateParameters.subnetName: required: Azure provider %s configures no compute subnet", p.Name())
		}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }
