package aws

import (
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
	"strconv"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"go.yaml.in/yaml/v3"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/provisioning"
)

// RequestTag is the stack tag naming the provisioning request; the
// stack's instances carry it too.
const RequestTag = "o2ims.nephoran.io/provisioning-request"

// TemplateKind is the kind of the templates StackRealizer realizes.
const TemplateKind = "aws-cloudformation"

// ProviderLookup finds the AWS provider whose deployment manager has the
// given id; an error with code ims.ENOTFOUND says that none has.
type ProviderLookup func(ctx context.Context, deploymentManagerID string) (*Provider, error)

// StackRealizer realizes aws-cloudformation templates as CloudFormation
// stacks in the VPC of the AWS provider a request's deploymentManagerId
// names: the stack o2ims-<request id>, created with the template's body
// and the request's parameters, updated when they change, deleted with
// the request. Its EC2 instances are the request's resources, with the
// ids the provider's discovery gives them.
type StackRealizer struct {
	lookup ProviderLookup
	logger *slog.Logger
	// RetryAfter is how soon to ask again while a stack is in progress.
	RetryAfter time.Duration
}

var (
	_ provisioning.Realizer  = (*StackRealizer)(nil)
	_ provisioning.Validator = (*StackRealizer)(nil)
)

// NewStackRealizer returns the realizer of aws-cloudformation templates.
func NewStackRealizer(lookup ProviderLookup, logger *slog.Logger) *StackRealizer {
	return &StackRealizer{lookup: lookup, logger: logger, RetryAfter: 10 * time.Second}
}

// stackState is what a realization keeps between calls (Progress.State).
type stackState struct {
	StackID string `json:"stackId,omitempty"`
	// Operation is the last one started: create, update, recreate (the
	// deletion of a failed stack before creating it anew) or delete.
	Operation string `json:"operation,omitempty"`
	// Fingerprint is that of the template, parameters and tags the
	// operation was started with.
	Fingerprint string `json:"fingerprint,omitempty"`
	// Refused is CloudFormation's answer to a creation or update it
	// refused outright, with that Fingerprint: the same request is not
	// sent again.
	Refused string `json:"refused,omitempty"`
	// Seq counts the operations started, so that each has a
	// ClientRequestToken of its own while its retries share it.
	Seq int `json:"seq,omitempty"`
}

const deploymentManagerParam = "deploymentManagerId"

var stackNameUnsafe = regexp.MustCompile(`[^A-Za-z0-9-]`)

// StackName is the name of a request's stack: o2ims-<request id>, a
// valid CloudFormation stack name.
func StackName(requestID string) string {
	name := "o2ims-" + stackNameUnsafe.ReplaceAllString(requestID, "-")
	if len(name) > 128 {
		name = name[:128]
	}
	return name
}

// provider finds the request's provider; a Failed progress when there is
// none.
func (r *StackRealizer) provider(ctx context.Context, params map[string]any) (*Provider, *provisioning.Progress, error) {
	id, _ := params[deploymentManagerParam].(string)
	p, err := r.lookup(ctx, id)
	if err != nil {
		if ims.ErrorCode(err) == ims.ENOTFOUND {
			return nil, &provisioning.Progress{Phase: provisioning.Failed, Message: fmt.Sprintf("deployment manager %s is not a registered AWS provider", id)}, nil
		}
		return nil, nil, err
	}
	return p, nil, nil
}

// Validate checks that deploymentManagerId names a registered AWS
// provider, and that the InstanceType (and SubnetId) are among those it
// offers.
func (r *StackRealizer) Validate(ctx context.Context, t provisioning.Template, params map[string]any) error {
	id, _ := params[deploymentManagerParam].(string)
	p, err := r.lookup(ctx, id)
	if err != nil {
		if ims.ErrorCode(err) == ims.ENOTFOUND {
			return ims.Errorf(ims.EINVALID, "templateParameters.%s: %q is not the deployment manager of a registered AWS provider", deploymentManagerParam, trunc(id))
		}
		return err
	}
	if typ, ok := params["InstanceType"].(string); ok {
		if supported := p.opts.SupportedInstanceTypes; len(supported) > 0 && !slices.Contains(supported, typ) {
			return ims.Errorf(ims.EINVALID, "templateParameters.InstanceType: %q is not among the instance types of deployment manager %s (%s)", trunc(typ), id, strings.Join(supported, ", "))
		}
	}
	if sn, ok := params["SubnetId"].(string); ok && sn != "" && len(p.opts.Subnets) > 0 &&
		!slices.ContainsFunc(p.opts.Subnets, func(s Subnet) bool { return s.ID == sn }) {
		return ims.Errorf(ims.EINVALID, "templateParameters.SubnetId: %q is not among the subnets of deployment manager %s", trunc(sn), id)
	}
	if _, err := templateParameters(t.Body); err != nil {
		return ims.Errorf(ims.EINVALID, "template %s %s: %v", t.Name, t.Version, err)
	}
	return nil
}

// templateParameters returns the names of a CloudFormation template's
// Parameters (JSON is YAML too).
func templateParameters(body []byte) (map[string]bool, error) {
	var doc struct {
		Parameters map[string]yaml.Node `yaml:"Parameters"`
	}
	if err := yaml.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("the CloudFormation template does not parse: %w", err)
	}
	out := map[string]bool{}
	for k := range doc.Parameters {
		out[k] = true
	}
	return out, nil
}

// paramString is a parameter value as CloudFormation takes it.
func paramString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = paramString(e)
		}
		return strings.Join(parts, ",")
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// spec is the stack a job asks for: the request's parameters that the
// template declares, with VpcId, SubnetId and ResourcePoolId filled in
// from the provider when the template declares them and the request
// leaves them out. A Failed progress says why there can be none.
func (r *StackRealizer) spec(ctx context.Context, p *Provider, job provisioning.Job) (stackSpec, string, *provisioning.Progress, error) {
	failed := func(format string, a ...any) (stackSpec, string, *provisioning.Progress, error) {
		return stackSpec{}, "", &provisioning.Progress{Phase: provisioning.Failed, Message: fmt.Sprintf(format, a...)}, nil
	}
	declared, err := templateParameters(job.Template.Body)
	if err != nil {
		return failed("template %s %s: %v", job.Template.Name, job.Template.Version, err)
	}
	values := map[string]string{}
	for k, v := range job.Parameters {
		if k == deploymentManagerParam {
			continue
		}
		if !declared[k] {
			return failed("template %s %s: parameter %s is not a parameter of its CloudFormation template", job.Template.Name, job.Template.Version, k)
		}
		values[k] = paramString(v)
	}
	if declared["VpcId"] && values["VpcId"] == "" {
		values["VpcId"] = p.opts.VPCID
	}
	if declared["SubnetId"] && values["SubnetId"] == "" {
		sn, err := p.defaultSubnet(ctx)
		if err != nil {
			return stackSpec{}, "", nil, err
		}
		if sn == "" {
			return failed("VPC %s of deployment manager %s has no subnet to launch into", p.opts.VPCID, p.DeploymentManagerID())
		}
		values["SubnetId"] = sn
	}
	if sn := values["SubnetId"]; sn != "" {
		zone, ok, err := p.subnetZone(ctx, sn)
		if err != nil {
			return stackSpec{}, "", nil, err
		}
		if !ok {
			return failed("templateParameters.SubnetId: %s is not a subnet of VPC %s of deployment manager %s", sn, p.opts.VPCID, p.DeploymentManagerID())
		}
		if declared["ResourcePoolId"] && values["ResourcePoolId"] == "" {
			values["ResourcePoolId"] = p.poolID(zone)
		}
	}
	tags := maps.Clone(p.opts.Tags)
	if tags == nil {
		tags = map[string]string{}
	}
	tags[RequestTag] = job.RequestID

	s := stackSpec{name: StackName(job.RequestID), body: string(job.Template.Body)}
	h := sha256.New()
	h.Write(job.Template.Body)
	for _, k := range slices.Sorted(maps.Keys(values)) {
		s.params = append(s.params, cfntypes.Parameter{ParameterKey: awssdk.String(k), ParameterValue: awssdk.String(values[k])})
		fmt.Fprintf(h, "\x00p%q=%q", k, values[k])
	}
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		s.tags = append(s.tags, cfntypes.Tag{Key: awssdk.String(k), Value: awssdk.String(tags[k])})
		fmt.Fprintf(h, "\x00t%q=%q", k, tags[k])
	}
	fp := hex.EncodeToString(h.Sum(nil))
	return s, fp, nil, nil
}

func decodeState(raw json.RawMessage) stackState {
	var st stackState
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &st)
	}
	return st
}

func (st stackState) raw() json.RawMessage {
	b, _ := json.Marshal(st)
	return b
}

// token is the ClientRequestToken of the operation a state starts next:
// a retry of the call is the same call to CloudFormation.
func (st stackState) token(op, fingerprint string) string {
	return fmt.Sprintf("o2ims-%s-%d-%s", op, st.Seq, fingerprint[:min(len(fingerprint), 40)])
}

// Apply creates the request's stack, or updates it when the request
// changed, and follows it to CREATE_COMPLETE or UPDATE_COMPLETE
// (Fulfilled once its instances run) or to its failure (Failed, with the
// first failure CloudFormation reported).
func (r *StackRealizer) Apply(ctx context.Context, job provisioning.Job) (provisioning.Progress, error) {
	p, failed, err := r.provider(ctx, job.Parameters)
	if failed != nil || err != nil {
		return deref(failed), err
	}
	spec, fp, failed, err := r.spec(ctx, p, job)
	if failed != nil || err != nil {
		return deref(failed), err
	}
	st := decodeState(job.State)
	if st.Refused != "" && st.Fingerprint == fp {
		return provisioning.Progress{Phase: provisioning.Failed, Message: st.Refused, State: st.raw()}, nil
	}
	st.Refused = ""
	stack, err := p.describeStack(ctx, spec.name)
	if err != nil {
		return provisioning.Progress{}, err
	}
	if stack == nil {
		spec.token = st.token("create", fp)
		id, err := p.createStack(ctx, spec)
		if err != nil {
			if code := apiCode(err); code == "AlreadyExistsException" {
				return r.progressing(st, "stack "+spec.name+" is being created", nil), nil
			} else if permanent(code) {
				return r.refused(st, fp, fmt.Sprintf("CloudFormation refused stack %s: %s", spec.name, apiMessage(err))), nil
			}
			return provisioning.Progress{}, err
		}
		r.logger.Info("stack creation started", "stack", spec.name, "stackId", id, "request", job.RequestID)
		st = stackState{StackID: id, Operation: "create", Fingerprint: fp, Seq: st.Seq + 1}
		return r.progressing(st, "stack "+spec.name+": CREATE_IN_PROGRESS", nil), nil
	}
	id := awssdk.ToString(stack.StackId)
	st.StackID = id
	status := string(stack.StackStatus)
	if st.Fingerprint == "" {
		// No state (an older realization, or a stack found by its name):
		// what the stack shows of its parameters and tags decides.
		st.Fingerprint = fp
		if !sameVisible(stack, spec) {
			st.Fingerprint = "adopted"
		}
	}
	switch {
	case strings.HasSuffix(status, "_IN_PROGRESS"):
		res, err := r.resources(ctx, p, spec.name)
		if err != nil {
			return provisioning.Progress{}, err
		}
		return r.progressing(st, "stack "+spec.name+": "+status, res), nil
	case status == "ROLLBACK_COMPLETE" && st.Fingerprint != fp:
		// A failed creation can only be deleted; the request changed,
		// so the stack is created anew.
		if err := p.deleteStack(ctx, spec.name, st.token("recreate", fp)); err != nil {
			return provisioning.Progress{}, err
		}
		st.Operation, st.Seq = "recreate", st.Seq+1
		return r.progressing(st, "stack "+spec.name+": deleting the failed stack to create it anew", nil), nil
	case status == "CREATE_FAILED", status == "ROLLBACK_COMPLETE", status == "ROLLBACK_FAILED", status == "DELETE_FAILED",
		status == "UPDATE_ROLLBACK_FAILED", status == "UPDATE_FAILED",
		status == "UPDATE_ROLLBACK_COMPLETE" && st.Operation == "update" && st.Fingerprint == fp:
		return r.failed(ctx, p, stack, st)
	}
	if st.Fingerprint != fp {
		spec.token = st.token("update", fp)
		changed, err := p.updateStack(ctx, spec)
		if err != nil {
			if permanent(apiCode(err)) {
				return r.refused(st, fp, fmt.Sprintf("CloudFormation refused the update of stack %s: %s", spec.name, apiMessage(err))), nil
			}
			return provisioning.Progress{}, err
		}
		st.Fingerprint = fp
		if changed {
			r.logger.Info("stack update started", "stack", spec.name, "request", job.RequestID)
			st.Operation, st.Seq = "update", st.Seq+1
			return r.progressing(st, "stack "+spec.name+": UPDATE_IN_PROGRESS", nil), nil
		}
	}
	res, err := r.resources(ctx, p, spec.name)
	if err != nil {
		return provisioning.Progress{}, err
	}
	for _, x := range res {
		if x.Phase != provisioning.ResourceProvisioned {
			return r.progressing(st, "stack "+spec.name+": "+status+"; waiting for instance "+x.Name, res), nil
		}
	}
	return provisioning.Progress{Phase: provisioning.Fulfilled, Message: "stack " + spec.name + ": " + status, Resources: res, State: st.raw()}, nil
}

// Delete deletes the request's stack and follows it to DELETE_COMPLETE.
func (r *StackRealizer) Delete(ctx context.Context, job provisioning.Job) (provisioning.Progress, error) {
	p, failed, err := r.provider(ctx, job.Parameters)
	if failed != nil || err != nil {
		if failed != nil {
			failed.Message += "; its stack " + StackName(job.RequestID) + " (if any) was left in place"
		}
		return deref(failed), err
	}
	st := decodeState(job.State)
	name := StackName(job.RequestID)
	stack, err := p.describeStack(ctx, name)
	if err != nil {
		return provisioning.Progress{}, err
	}
	if stack == nil {
		return provisioning.Progress{Phase: provisioning.Deleted, Message: "stack " + name + " is gone", State: st.raw()}, nil
	}
	id := awssdk.ToString(stack.StackId)
	st.StackID = id
	switch status := string(stack.StackStatus); {
	case status == "DELETE_FAILED" && st.Operation == "delete":
		return r.failed(ctx, p, stack, st)
	case strings.HasSuffix(status, "_IN_PROGRESS"):
		// A deletion under way, or an operation that must end first.
		return r.progressing(st, "stack "+name+": "+status, nil), nil
	}
	sum := sha256.Sum256([]byte(id))
	if err := p.deleteStack(ctx, name, st.token("delete", hex.EncodeToString(sum[:]))); err != nil {
		return provisioning.Progress{}, err
	}
	r.logger.Info("stack deletion started", "stack", name, "request", job.RequestID)
	st.Operation, st.Seq = "delete", st.Seq+1
	return r.progressing(st, "stack "+name+": DELETE_IN_PROGRESS", nil), nil
}

// refused fails a request CloudFormation refused outright; the state
// keeps the answer for the same request.
func (r *StackRealizer) refused(st stackState, fp, msg string) provisioning.Progress {
	st.Refused, st.Fingerprint = msg, fp
	return provisioning.Progress{Phase: provisioning.Failed, Message: msg, State: st.raw()}
}

func deref(p *provisioning.Progress) provisioning.Progress {
	if p == nil {
		return provisioning.Progress{}
	}
	return *p
}

func (r *StackRealizer) progressing(st stackState, msg string, res []provisioning.Resource) provisioning.Progress {
	return provisioning.Progress{Phase: provisioning.Progressing, Message: msg, Resources: res, State: st.raw(), RetryAfter: r.RetryAfter}
}

// permanent tells whether an error code of CreateStack or UpdateStack
// means the request itself is refused (a parameter value, the
// template), which asking again does not change; throttling, refused
// credentials and unreachable endpoints are transient.
func permanent(code string) bool {
	switch code {
	case "ValidationError", "InsufficientCapabilitiesException", "TokenAlreadyExistsException", "InvalidParameterValue", "InvalidParameterCombination":
		return true
	}
	return false
}

// sameVisible tells whether a stack shows the spec's parameters (those
// it echoes) and tags.
func sameVisible(stack *cfntypes.Stack, s stackSpec) bool {
	have := map[string]string{}
	for _, p := range stack.Parameters {
		have[awssdk.ToString(p.ParameterKey)] = awssdk.ToString(p.ParameterValue)
	}
	for _, p := range s.params {
		v, ok := have[awssdk.ToString(p.ParameterKey)]
		if ok && v != "****" && v != awssdk.ToString(p.ParameterValue) {
			return false
		}
	}
	tags := map[string]string{}
	for _, t := range stack.Tags {
		tags[awssdk.ToString(t.Key)] = awssdk.ToString(t.Value)
	}
	for _, t := range s.tags {
		if tags[awssdk.ToString(t.Key)] != awssdk.ToString(t.Value) {
			return false
		}
	}
	return true
}

// failed is the Failed progress of a stack whose operation failed: the
// first failure of its latest operation, in CloudFormation's words.
func (r *StackRealizer) failed(ctx context.Context, p *Provider, stack *cfntypes.Stack, st stackState) (provisioning.Progress, error) {
	id, name, status := awssdk.ToString(stack.StackId), awssdk.ToString(stack.StackName), string(stack.StackStatus)
	events, err := p.stackEvents(ctx, id)
	if err != nil {
		return provisioning.Progress{}, err
	}
	msg := firstFailure(events)
	if msg == "" {
		msg = awssdk.ToString(stack.StackStatusReason)
	}
	res, err := r.resources(ctx, p, name)
	if err != nil {
		return provisioning.Progress{}, err
	}
	text := "stack " + name + ": " + status
	if msg != "" {
		text += ": " + msg
	}
	return provisioning.Progress{Phase: provisioning.Failed, Message: text, Resources: res, State: st.raw()}, nil
}

// firstFailure is the reason of the earliest failed resource among
// events (newest first), skipping those CloudFormation cancelled because
// of it; the stack's own failure when no resource failed.
func firstFailure(events []cfntypes.StackEvent) string {
	var resource, stack string
	for _, e := range events {
		reason := awssdk.ToString(e.ResourceStatusReason)
		if !strings.HasSuffix(string(e.ResourceStatus), "_FAILED") || reason == "" || strings.HasSuffix(reason, " cancelled") {
			continue
		}
		if awssdk.ToString(e.ResourceType) == "AWS::CloudFormation::Stack" {
			stack = reason
		} else {
			resource = awssdk.ToString(e.LogicalResourceId) + ": " + reason
		}
	}
	if resource != "" {
		return resource
	}
	return stack
}

// resources are the EC2 instances of the live stack of the name as the
// request's resources: provisioned once running, with the id discovery
// gives them once it lists them.
func (r *StackRealizer) resources(ctx context.Context, p *Provider, stackName string) ([]provisioning.Resource, error) {
	all, err := p.stackResources(ctx, stackName)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, x := range all {
		if awssdk.ToString(x.ResourceType) == "AWS::EC2::Instance" && awssdk.ToString(x.PhysicalResourceId) != "" && !strings.HasPrefix(string(x.ResourceStatus), "DELETE") {
			ids = append(ids, awssdk.ToString(x.PhysicalResourceId))
		}
	}
	instances, err := p.instancesByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	var out []provisioning.Resource
	for _, x := range all {
		if awssdk.ToString(x.ResourceType) != "AWS::EC2::Instance" {
			continue
		}
		res := provisioning.Resource{Name: awssdk.ToString(x.LogicalResourceId), Phase: provisioning.ResourceProcessing}
		status := string(x.ResourceStatus)
		in, ok := instances[awssdk.ToString(x.PhysicalResourceId)]
		switch {
		case strings.HasSuffix(status, "_FAILED"):
			res.Phase, res.Message = provisioning.ResourceFailed, awssdk.ToString(x.ResourceStatusReason)
		case !ok:
			res.Message = status
		default:
			state := ""
			if in.State != nil {
				state = string(in.State.Name)
			}
			res.Message = "instance " + awssdk.ToString(in.InstanceId) + " " + state
			if listedOK, why := p.inventoried(in); listedOK {
				res.ID = p.instanceResourceID(awssdk.ToString(in.InstanceId))
			} else {
				res.Message += "; not in the inventory: " + why
			}
			if state == string(ec2types.InstanceStateNameRunning) && strings.HasSuffix(status, "_COMPLETE") {
				res.Phase = provisioning.ResourceProvisioned
			}
		}
		out = append(out, res)
	}
	return out, nil
}

var errNoProvider = errors.New("no AWS provider")

// ProviderNotFound is the error a ProviderLookup returns for a
// deployment manager that is not an AWS provider's.
func ProviderNotFound(deploymentManagerID string) error {
	return &ims.Error{Code: ims.ENOTFOUND, Message: fmt.Sprintf("deployment manager %s is not a registered AWS provider", deploymentManagerID), Err: errNoProvider}
}
