package aws

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/placement"
	"github.com/nephoran/o2ims/internal/provider/aws/ec2test"
)

// TestCapacityFromQuotas: with capacity.fromQuotas the zones sharing the
// region's capacity see the standard instances' vCPU quota, less the
// account's instances outside the inventory and the zones with budgets
// of their own.
func TestCapacityFromQuotas(t *testing.T) {
	const gi = int64(1) << 30
	for _, tc := range []struct {
		name   string
		budget Budget
		alloc  placement.Resources
	}{
		// 32 vCPUs less 6 (the untagged m5.xlarge, the m5.large of the
		// other VPC) less 2 (us-east-1b's m5.large); memory at 4 GiB per
		// vCPU (m5's, the most of the supported types).
		{"memory per vCPU", Budget{}, placement.Resources{CPUMillis: 24000, MemoryBytes: 96 * gi}},
		{"memory from the budget", Budget{MemoryGiB: 64}, placement.Resources{CPUMillis: 24000, MemoryBytes: 64 * gi}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := world(t, ec2test.Options{PageSize: 2})
			s.SetQuota("ec2", standardQuota, 32)
			opts := testOptions(s)
			opts.Capacity = Capacity{Budget: tc.budget, FromQuotas: true, Zones: map[string]Budget{"us-east-1b": {VCPUs: 8, MemoryGiB: 32}}}
			s.FailNext("GetServiceQuota", ec2test.APIError{Status: http.StatusBadRequest, Code: "TooManyRequestsException", Message: "Rate exceeded"})
			snap, err := newProvider(t, opts).Discover(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			snap = roundTrip(t, snap)
			for _, rp := range snap.ResourcePools {
				capacity, _ := rp.Extensions["capacity"].(map[string]any)
				alloc, _ := inventory.PoolCapacity(capacity)
				want, scope := tc.alloc, "quota"
				if rp.Extensions["zone"] == "us-east-1b" {
					want, scope = placement.Resources{CPUMillis: 8000, MemoryBytes: 32 * gi}, "zone"
				}
				if alloc != want || capacity["budget"] != scope {
					t.Errorf("%s: capacity %v, allocatable %+v, want %+v (%s)", rp.Name, capacity, alloc, want, scope)
				}
			}
			dm := snap.DeploymentManagers[0]
			if q, _ := dm.Capacity["quota"].(map[string]any); q["code"] != standardQuota || q["vcpus"] != float64(32) || q["otherInstances"] != float64(2) {
				t.Errorf("deployment manager capacity %v", dm.Capacity)
			}
			calls := s.Calls("GetServiceQuota")
			if len(calls) != 2 || calls[0].Code != "TooManyRequestsException" || calls[1].Params.Get("ServiceCode") != "ec2" || calls[1].Params.Get("QuotaCode") != standardQuota {
				t.Errorf("GetServiceQuota calls %+v", calls)
			}
		})
	}

	t.Run("unknown quota", func(t *testing.T) {
		s := world(t, ec2test.Options{})
		opts := testOptions(s)
		opts.Capacity = Capacity{FromQuotas: true}
		_, err := newProvider(t, opts).Discover(context.Background())
		if err == nil || !strings.Contains(err.Error(), "GetServiceQuota at "+s.URL+": NoSuchResourceException: The request failed because the specified quota L-1216C47A of service ec2 does not exist.") {
			t.Errorf("got %v", err)
		}
	})
}

func TestStandardFamily(t *testing.T) {
	for typ, want := range map[string]bool{
		"m5.large": true, "t3.micro": true, "c7gn.16xlarge": true, "z1d.large": true, "i4i.xlarge": true,
		"g5.xlarge": false, "p4d.24xlarge": false, "inf2.xlarge": false, "trn1.2xlarge": false, "mac2.metal": false, "hpc7g.4xlarge": false, "x2idn.16xlarge": false, "": false,
	} {
		if standardFamily(typ) != want {
			t.Errorf("standardFamily(%q) = %v", typ, !want)
		}
	}
}
