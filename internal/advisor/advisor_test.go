package advisor_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/nephoran/o2ims/internal/advisor"
	"github.com/nephoran/o2ims/internal/cnf/cnftest"
	"github.com/nephoran/o2ims/internal/collection"
	"github.com/nephoran/o2ims/internal/deployment"
	"github.com/nephoran/o2ims/internal/deployment/deploymenttest"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/lcm"
	"github.com/nephoran/o2ims/internal/sqlstore/sqlstoretest"
)

// setup stores two us-west pools and one in eu-west, a package for amf
// (vnfdId "amf", the default catalog's), and returns the advisor over the
// real deployment service.
func setup(t *testing.T, b sqlstoretest.Backend) (*advisor.Service, *deployment.Service) {
	t.Helper()
	ctx := context.Background()
	st := sqlstoretest.Open(t, b)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	dm := uuid.NewString()
	deploymenttest.PutDM(t, st, dm, "kubernetes")
	for i, p := range []deploymenttest.Pool{
		{Name: "west-a", Region: "us-west-1", AllocCPU: 8000, ReqCPU: 1000},
		{Name: "west-b", Region: "us-west-2", AllocCPU: 8000, ReqCPU: 2000},
		{Name: "eu-a", Region: "eu-west-1", AllocCPU: 32000},
	} {
		p.ID = "00000000-0000-4000-8000-00000000000" + string(rune('1'+i))
		p.DM, p.Healthy = dm, true
		deploymenttest.PutPool(t, st, p)
	}
	l := lcm.NewService(st, nil, nil, lcm.Options{}, logger, nil)
	one := 1
	if _, err := l.CreatePackage(ctx, lcm.PackageInput{Name: "amf", Version: "1", VnfdInfo: lcm.VnfdInfo{VnfdID: "amf"},
		Flavours: []lcm.Flavour{{FlavourID: "small", Replicas: &one, Resources: &lcm.Resources{CPU: "500m", Memory: "256Mi"}}}}, cnftest.HelmChart(t)); err != nil {
		t.Fatal(err)
	}
	deps := deployment.NewService(st, l, nil, deployment.Options{ReserveByDefault: true}, logger, nil)
	return advisor.NewService(st, deps, nil, nil, logger), deps
}

func TestRecommend(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		adv, deps := setup(t, b)
		ctx := context.Background()
		rec, err := adv.Recommend(ctx, advisor.Request{Intent: "Deploy 5G AMF with high availability in US West region"})
		if err != nil {
			t.Fatal(err)
		}
		p := rec.Plan
		if len(p.Components) != 1 || p.Components[0].Name != "amf" || p.Components[0].Replicas != 2 || p.Placement.Spread != 2 ||
			len(p.Placement.Regions) != 1 || p.Placement.Regions[0] != "us-west" || !strings.HasPrefix(p.Name, "amf-us-west-") || p.DryRun {
			t.Fatalf("plan %+v, placement %+v", p, p.Placement)
		}
		pools := map[string]bool{}
		for _, a := range rec.Placement.Assignments {
			pools[a.ResourcePoolName] = true
		}
		if !pools["west-a"] || !pools["west-b"] || len(pools) != 2 {
			t.Fatalf("placed on %v, want west-a and west-b", pools)
		}
		// 1 core and 512Mi for a month at the default Kubernetes prices.
		want := (1*0.031 + 0.5*0.0042) * 730
		if rec.EstimatedCost.Currency != "USD" || rec.EstimatedCost.Monthly < want-0.02 || rec.EstimatedCost.Monthly > want+0.02 || len(rec.EstimatedCost.PerPool) != 2 {
			t.Fatalf("cost %+v, want about %.2f", rec.EstimatedCost, want)
		}
		if rec.Source != "rules" || rec.Confidence <= 0.5 || rec.Confidence > 0.95 || rec.Timeline.EstimatedMinutes <= 0 || len(rec.Requirements.Reasons) == 0 {
			t.Fatalf("recommendation %+v", rec)
		}

		// Stored, and the plan is accepted as a deployment as it is.
		got, err := adv.Get(ctx, rec.RecommendationID)
		if err != nil || got.Plan.Name != p.Name {
			t.Fatalf("Get = %+v, %v", got, err)
		}
		page, err := adv.List(ctx, collection.Request{})
		if err != nil || len(page.Items) != 1 || page.Items[0]["placement"] != nil {
			t.Fatalf("List = %v, %v (placement is excluded by default)", page.Items, err)
		}
		d, err := deps.Create(ctx, rec.Plan)
		if err != nil || d.DeploymentID == "" || len(d.Status.Components) != 2 {
			t.Fatalf("submitting the plan: %+v, %v", d.Status, err)
		}
	})
}

func TestRecommendRefuses(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		adv, _ := setup(t, b)
		ctx := context.Background()
		one := 1.0
		tests := []struct {
			req       advisor.Request
			code      string
			fragments []string
		}{
			{advisor.Request{}, ims.EINVALID, []string{"intent is required"}},
			{advisor.Request{Intent: "make everything faster"}, ims.EUNPROCESSABLE, []string{"names no network function"}},
			{advisor.Request{Intent: "deploy SMF"}, ims.EUNPROCESSABLE, []string{"smf"}},
			{advisor.Request{Intent: "AMF in Asia Pacific South"}, ims.EUNPROCESSABLE, []string{"no resource pool is eligible", "region us-west-1 is not among ap-south"}},
			{advisor.Request{Intent: "AMF, 40 replicas, US West"}, ims.EUNPROCESSABLE, []string{"no eligible pool has room for 40 replica(s) of amf"}},
			{advisor.Request{Intent: "AMF", Constraints: advisor.Constraints{MaxMonthlyCost: &one}}, ims.EUNPROCESSABLE, []string{"exceeds constraints.maxMonthlyCost 1.00"}},
			{advisor.Request{Intent: "AMF", Constraints: advisor.Constraints{Providers: []string{"aws"}}}, ims.EUNPROCESSABLE, []string{"provider k8s-west-a (kubernetes) is not among aws"}},
		}
		for _, tt := range tests {
			_, err := adv.Recommend(ctx, tt.req)
			var e *ims.Error
			if !errors.As(err, &e) || e.Code != tt.code {
				t.Errorf("Recommend(%+v) = %v, want code %s", tt.req, err, tt.code)
				continue
			}
			for _, f := range tt.fragments {
				if !strings.Contains(e.Message, f) {
					t.Errorf("Recommend(%q): %q lacks %q", tt.req.Intent, e.Message, f)
				}
			}
		}
		if page, err := adv.List(ctx, collection.Request{}); err != nil || len(page.Items) != 0 {
			t.Fatalf("refused recommendations were stored: %v, %v", page.Items, err)
		}
	})
}

func TestLoadPrices(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	p, err := advisor.LoadPrices(write("prices.yaml", "edge: {cpuCoreHour: 0.1, memoryGiBHour: 0.01, currency: EUR}\n"))
	if err != nil || p["edge"].Currency != "EUR" || p["kubernetes"].CPUCoreHour == 0 {
		t.Fatalf("prices = %+v, %v", p, err)
	}
	if _, err := advisor.LoadPrices(write("neg.yaml", "aws: {cpuCoreHour: -1}\n")); err == nil {
		t.Error("a negative price was accepted")
	}
}
