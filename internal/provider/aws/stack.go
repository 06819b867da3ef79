package aws

import (
	"context"
	"errors"
	"slices"
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

// stackOperations are the CloudFormation calls the provider makes, held
// as method values for the reason given at operations.
type stackOperations struct {
	createStack            func(context.Context, *cloudformation.CreateStackInput, ...func(*cloudformation.Options)) (*cloudformation.CreateStackOutput, error)
	updateStack            func(context.Context, *cloudformation.UpdateStackInput, ...func(*cloudformation.Options)) (*cloudformation.UpdateStackOutput, error)
	deleteStack            func(context.Context, *cloudformation.DeleteStackInput, ...func(*cloudformation.Options)) (*cloudformation.DeleteStackOutput, error)
	describeStacks         func(context.Context, *cloudformation.DescribeStacksInput, ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
	describeStackEvents    func(context.Context, *cloudformation.DescribeStackEventsInput, ...func(*cloudformation.Options)) (*cloudformation.DescribeStackEventsOutput, error)
	describeStackResources func(context.Context, *cloudformation.DescribeStackResourcesInput, ...func(*cloudformation.Options)) (*cloudformation.DescribeStackResourcesOutput, error)
}

// stackSpec is what a stack is created or updated with.
type stackSpec struct {
	name   string
	body   string
	params []cfntypes.Parameter
	tags   []cfntypes.Tag
	// token is the ClientRequestToken: CloudFormation answers a repeated
	// call with the same token as the first.
	token string
}

// apiCode is the error code of a failed AWS call, "" for other errors.
func apiCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// apiMessage is the message of a failed AWS call in the API's words.
func apiMessage(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorMessage()
	}
	return err.Error()
}

// describeStack returns the live stack of the name (or id), nil when
// there is none.
func (p *Provider) describeStack(ctx context.Context, name string) (*cfntypes.Stack, error) {
	out, err := p.cfn.describeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: awssdk.String(name)})
	if err != nil {
		// CloudFormation's word for a stack that does not exist (some
		// other implementations of the API answer StackNotFoundException).
		if code := apiCode(err); code == "StackNotFoundException" || code == "ValidationError" && strings.Contains(apiMessage(err), "does not exist") {
			return nil, nil
		}
		return nil, p.stackErr(ctx, "DescribeStacks", err)
	}
	for i := range out.Stacks {
		if out.Stacks[i].StackStatus != cfntypes.StackStatusDeleteComplete {
			return &out.Stacks[i], nil
		}
	}
	return nil, nil
}

// createStack starts a stack's creation; on a failure CloudFormation rolls
// the stack back and keeps it, so that its events tell why.
func (p *Provider) createStack(ctx context.Context, s stackSpec) (string, error) {
	out, err := p.cfn.createStack(ctx, &cloudformation.CreateStackInput{
		StackName: awssdk.String(s.name), TemplateBody: awssdk.String(s.body), Parameters: s.params, Tags: s.tags,
		ClientRequestToken: awssdk.String(s.token), OnFailure: cfntypes.OnFailureRollback, TimeoutInMinutes: awssdk.Int32(stackTimeoutMinutes),
	})
	if err != nil {
		return "", p.stackErr(ctx, "CreateStack", err)
	}
	return awssdk.ToString(out.StackId), nil
}

// stackTimeoutMinutes bounds a stack's creation: CloudFormation fails it
// (and rolls it back) when its resources are not complete by then.
const stackTimeoutMinutes = 30

// noUpdates is CloudFormation's answer to an update that changes
// nothing.
const noUpdates = "No updates are to be performed."

// updateStack starts a stack's update; false when CloudFormation found
// nothing to change.
func (p *Provider) updateStack(ctx context.Context, s stackSpec) (bool, error) {
	_, err := p.cfn.updateStack(ctx, &cloudformation.UpdateStackInput{
		StackName: awssdk.String(s.name), TemplateBody: awssdk.String(s.body), Parameters: s.params, Tags: s.tags,
		ClientRequestToken: awssdk.String(s.token),
	})
	if err != nil {
		if apiCode(err) == "ValidationError" && strings.Contains(apiMessage(err), noUpdates) {
			return false, nil
		}
		return false, p.stackErr(ctx, "UpdateStack", err)
	}
	return true, nil
}

// deleteStack starts a stack's deletion.
func (p *Provider) deleteStack(ctx context.Context, name, token string) error {
	if _, err := p.cfn.deleteStack(ctx, &cloudformation.DeleteStackInput{StackName: awssdk.String(name), ClientRequestToken: awssdk.String(token)}); err != nil {
		return p.stackErr(ctx, "DeleteStack", err)
	}
	return nil
}

// stackEvents returns the events of a stack's latest operation, the
// newest first: the pages up to the stack's own event that started it
// (CREATE, UPDATE or DELETE_IN_PROGRESS, "User Initiated").
func (p *Provider) stackEvents(ctx context.Context, stackID string) ([]cfntypes.StackEvent, error) {
	var events []cfntypes.StackEvent
	in := &cloudformation.DescribeStackEventsInput{StackName: awssdk.String(stackID)}
	started := errors.New("operation start reached")
	err := pages(ctx, &in.NextToken, func(ctx context.Context) (*string, error) {
		page, err := p.cfn.describeStackEvents(ctx, in)
		if err != nil {
			return nil, p.stackErr(ctx, "DescribeStackEvents", err)
		}
		for _, e := range page.StackEvents {
			events = append(events, e)
			if awssdk.ToString(e.ResourceType) == "AWS::CloudFormation::Stack" && awssdk.ToString(e.PhysicalResourceId) == awssdk.ToString(e.StackId) &&
				awssdk.ToString(e.ResourceStatusReason) == "User Initiated" {
				return nil, started
			}
		}
		return page.NextToken, nil
	})
	if err != nil && !errors.Is(err, started) {
		return nil, err
	}
	return events, nil
}

// stackResources returns the resources of a stack (by name or id).
func (p *Provider) stackResources(ctx context.Context, stack string) ([]cfntypes.StackResource, error) {
	out, err := p.cfn.describeStackResources(ctx, &cloudformation.DescribeStackResourcesInput{StackName: awssdk.String(stack)})
	if err != nil {
		return nil, p.stackErr(ctx, "DescribeStackResources", err)
	}
	return out.StackResources, nil
}

// instancesByID describes the instances with the given ids.
func (p *Provider) instancesByID(ctx context.Context, ids []string) (map[string]ec2types.Instance, error) {
	out := map[string]ec2types.Instance{}
	if len(ids) == 0 {
		return out, nil
	}
	in := &ec2.DescribeInstancesInput{InstanceIds: ids}
	err := pages(ctx, &in.NextToken, func(ctx context.Context) (*string, error) {
		page, err := p.ec2.describeInstances(ctx, in)
		if err != nil {
			return nil, p.callErr(ctx, "DescribeInstances", err)
		}
		for _, r := range page.Reservations {
			for _, i := range r.Instances {
				out[awssdk.ToString(i.InstanceId)] = i
			}
		}
		return page.NextToken, nil
	})
	return out, err
}

// inventoried tells whether discovery lists an instance (with the
// filters read sends): in the VPC and a configured subnet, in a live
// state, carrying every default tag. It says why not otherwise.
func (p *Provider) inventoried(in ec2types.Instance) (bool, string) {
	if awssdk.ToString(in.VpcId) != p.opts.VPCID {
		return false, "it is not in VPC " + p.opts.VPCID
	}
	if len(p.opts.Subnets) > 0 && !slices.ContainsFunc(p.opts.Subnets, func(s Subnet) bool { return s.ID == awssdk.ToString(in.SubnetId) }) {
		return false, "its subnet " + awssdk.ToString(in.SubnetId) + " is not among the provider's subnets"
	}
	if in.State == nil || !slices.Contains(listed, string(in.State.Name)) {
		return false, "it is terminated"
	}
	tags := tagMap(in.Tags)
	for k, v := range p.opts.Tags {
		if tags[k] != v {
			return false, "it does not carry the provider's tag " + k + "=" + v
		}
	}
	return true, ""
}

// subnetZone returns the zone of a subnet of the provider's VPC; ok is
// false when the VPC has no such subnet (or, with configured subnets,
// the subnet is not among them).
func (p *Provider) subnetZone(ctx context.Context, subnetID string) (zone string, ok bool, err error) {
	if len(p.opts.Subnets) > 0 {
		i := slices.IndexFunc(p.opts.Subnets, func(s Subnet) bool { return s.ID == subnetID })
		if i < 0 {
			return "", false, nil
		}
		if z := p.opts.Subnets[i].Zone; z != "" {
			return z, true, nil
		}
	}
	subnets, err := p.vpcSubnets(ctx, subnetID)
	if err != nil || len(subnets) == 0 {
		return "", false, err
	}
	return awssdk.ToString(subnets[0].AvailabilityZone), true, nil
}

// defaultSubnet is the subnet a stack is launched into when the request
// names none: the first configured one, else the VPC's first (by zone,
// then id).
func (p *Provider) defaultSubnet(ctx context.Context) (string, error) {
	if len(p.opts.Subnets) > 0 {
		return p.opts.Subnets[0].ID, nil
	}
	subnets, err := p.vpcSubnets(ctx, "")
	if err != nil {
		return "", err
	}
	if len(subnets) == 0 {
		return "", nil
	}
	slices.SortFunc(subnets, func(a, b ec2types.Subnet) int {
		return strings.Compare(awssdk.ToString(a.AvailabilityZone)+"/"+awssdk.ToString(a.SubnetId), awssdk.ToString(b.AvailabilityZone)+"/"+awssdk.ToString(b.SubnetId))
	})
	return awssdk.ToString(subnets[0].SubnetId), nil
}

// vpcSubnets lists the VPC's subnets, or the one with the id.
func (p *Provider) vpcSubnets(ctx context.Context, subnetID string) ([]ec2types.Subnet, error) {
	filters := []ec2types.Filter{{Name: awssdk.String("vpc-id"), Values: []string{p.opts.VPCID}}}
	if subnetID != "" {
		filters = append(filters, ec2types.Filter{Name: awssdk.String("subnet-id"), Values: []string{subnetID}})
	}
	var out []ec2types.Subnet
	in := &ec2.DescribeSubnetsInput{Filters: filters, MaxResults: awssdk.Int32(1000)}
	err := pages(ctx, &in.NextToken, func(ctx context.Context) (*string, error) {
		page, err := p.ec2.describeSubnets(ctx, in)
		if err != nil {
			return nil, p.callErr(ctx, "DescribeSubnets", err)
		}
		out = append(out, page.Subnets...)
		return page.NextToken, nil
	})
	return out, err
}
