package aws

import (
	"context"
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/servicequotas"

	"github.com/nephoran/o2ims/internal/ims"
)

// standardQuota is the Service Quotas code of EC2's Running On-Demand
// Standard (A, C, D, H, I, M, R, T, Z) instances, in vCPUs.
const standardQuota = "L-1216C47A"

// standardFamily tells whether an instance type counts against
// standardQuota: families starting with one of its letters, but for
// those with quotas of their own (Inferentia, DL, Trainium, Mac, HPC).
func standardFamily(instanceType string) bool {
	family, _, _ := strings.Cut(instanceType, ".")
	for _, own := range []string{"inf", "dl", "trn", "mac", "hpc"} {
		if strings.HasPrefix(family, own) {
			return false
		}
	}
	return family != "" && strings.ContainsRune("acdhimrtz", rune(family[0]))
}

// readQuota reads the standard instances' vCPU quota and the account's
// running instances of those families that the inventory leaves out
// (other VPCs, untagged), which take from it too. Spot instances have
// quotas of their own.
func (p *Provider) readQuota(ctx context.Context, v *view) error {
	out, err := p.ec2.getServiceQuota(ctx, &servicequotas.GetServiceQuotaInput{ServiceCode: awssdk.String("ec2"), QuotaCode: awssdk.String(standardQuota)})
	if err != nil {
		return p.apiErr(ctx, "servicequotas", p.endpointOf("servicequotas"), "the discovery", "GetServiceQuota", err)
	}
	if out.Quota == nil || out.Quota.Value == nil {
		return ims.Errorf(ims.EUNAVAILABLE, "%s: GetServiceQuota answered no value for ec2 quota %s", p, standardQuota)
	}
	inventoried := map[string]bool{}
	for _, in := range v.instances {
		inventoried[awssdk.ToString(in.InstanceId)] = true
	}
	in := &ec2.DescribeInstancesInput{
		Filters:    []ec2types.Filter{{Name: awssdk.String("instance-state-name"), Values: []string{"pending", "running"}}},
		MaxResults: awssdk.Int32(1000),
	}
	err = pages(ctx, &in.NextToken, func(ctx context.Context) (*string, error) {
		page, err := p.ec2.describeInstances(ctx, in)
		if err != nil {
			return nil, p.callErr(ctx, "DescribeInstances", err)
		}
		for _, r := range page.Reservations {
			for _, i := range r.Instances {
				if !inventoried[awssdk.ToString(i.InstanceId)] && i.InstanceLifecycle != ec2types.InstanceLifecycleTypeSpot && standardFamily(string(i.InstanceType)) {
					v.others = append(v.others, i)
				}
			}
		}
		return page.NextToken, nil
	})
	if err != nil {
		return err
	}
	v.quota = out.Quota.Value
	return nil
}

// quotaAmount is the compute the zones sharing the region's capacity
// have with Capacity.FromQuotas: the quota's vCPUs less those of the
// account's other instances and of the zones with budgets of their own;
// memory from the budget, else what those vCPUs bring with the supported
// instance type of the most memory per vCPU.
func (p *Provider) quotaAmount(v view, zones map[string]*zone) amount {
	var taken amount
	for _, in := range v.others {
		taken = taken.add(typeAmount(v.types[string(in.InstanceType)]))
	}
	for name, z := range zones {
		if _, own := p.opts.Capacity.Zones[name]; own {
			taken = taken.add(z.requested)
		}
	}
	a := amount{cpuMillis: max(int64(*v.quota*1000)-taken.cpuMillis, 0)}
	if p.opts.Capacity.MemoryGiB > 0 {
		a.memBytes = p.opts.Capacity.MemoryGiB << 30
		return a
	}
	var perVCPU int64 // bytes
	for _, name := range p.opts.SupportedInstanceTypes {
		if t := typeAmount(v.types[name]); t.cpuMillis > 0 {
			perVCPU = max(perVCPU, t.memBytes*1000/t.cpuMillis)
		}
	}
	a.memBytes = a.cpuMillis / 1000 * perVCPU
	return a
}

// endpointOf is the endpoint URL of another service of the region
// (Endpoint, when set, serves them all).
func (p *Provider) endpointOf(service string) string {
	if p.opts.Endpoint != "" {
		return p.opts.Endpoint
	}
	return strings.Replace(p.endpoint, "://ec2.", "://"+service+".", 1)
}
