package main

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	o2 "github.com/nephoran/o2ims/pkg/client"
)

// deploymentKind is the kind of the deployments.
func deploymentKind() *kind {
	return erase(&kind{
		name: "deployments", singular: "deployment", aliases: []string{"deploy", "dep", "deps"},
		title: "deployment",
		describeOrder: []string{"deploymentId", "name", "description", "resourceVersion", "createdAt", "updatedAt",
			"components", "resourcePools", "deploymentManagerId", "placement", "networkRequirements", "reserveCapacity", "failover", "status", "extensions"},
		columns: []column{
			col("ID", func(d o2.Deployment) string { return d.DeploymentID }),
			col("NAME", func(d o2.Deployment) string { return d.Name }),
			col("PHASE", func(d o2.Deployment) string { return string(d.Status.Phase) }),
			col("READY", readyCell),
			col("POOLS", func(d o2.Deployment) string { return strings.Join(deploymentPools(d), ",") }),
			col("CREATED", func(d o2.Deployment) string { return timeCell(d.CreatedAt) }),
		},
		wide: []column{
			col("COMPONENTS", func(d o2.Deployment) string {
				var parts []string
				for _, c := range d.Components {
					parts = append(parts, c.Name+"="+strconv.Itoa(max(1, c.Replicas)))
				}
				return strings.Join(parts, ",")
			}),
			col("PACKAGE REVISION", func(d o2.Deployment) string { return d.Status.PackageRevision }),
			col("GIT COMMIT", func(d o2.Deployment) string {
				if g := d.Status.GitOps; g != nil && g.Commit != "" {
					return g.Commit[:min(12, len(g.Commit))] + " " + g.Path
				}
				return ""
			}),
			col("VERSION", func(d o2.Deployment) string { return strconv.FormatInt(d.ResourceVersion, 10) }),
			col("MESSAGE", func(d o2.Deployment) string { return d.Status.Message }),
		},
		explain: func(v any) string { return placementExplanation(v.(o2.Deployment)) },
	}, ops[o2.Deployment]{
		list: func(ctx context.Context, c *o2.Client, _ string, o o2.ListOptions) (*o2.Page[o2.Deployment], error) {
			return c.Deployments().List(ctx, o)
		},
		all: func(ctx context.Context, c *o2.Client, _ string, o o2.ListOptions) iter.Seq2[o2.Deployment, error] {
			return c.Deployments().All(ctx, o)
		},
		get: func(ctx context.Context, c *o2.Client, _, id string) (*o2.Deployment, error) {
			return c.Deployments().Get(ctx, id)
		},
		id: func(d o2.Deployment) string { return d.DeploymentID },
	})
}

// recommendationKind is the kind of the advisor's recommendations.
func recommendationKind() *kind {
	return erase(&kind{
		name: "recommendations", singular: "recommendation", aliases: []string{"rec", "recs", "advice"},
		title: "recommendation",
		describeOrder: []string{"recommendationId", "intent", "createdAt", "source", "confidence", "requirements", "plan", "estimatedCost",
			"timeline", "reasons", "placement", "modelAnswer"},
		columns: []column{
			col("ID", func(r o2.Recommendation) string { return r.RecommendationID }),
			col("SOURCE", func(r o2.Recommendation) string { return r.Source }),
			col("CONFIDENCE", func(r o2.Recommendation) string { return strconv.FormatFloat(r.Confidence, 'f', 2, 64) }),
			col("MONTHLY", func(r o2.Recommendation) string {
				return strconv.FormatFloat(r.EstimatedCost.Monthly, 'f', 2, 64) + " " + r.EstimatedCost.Currency
			}),
			col("PLAN", func(r o2.Recommendation) string { return r.Plan.Name }),
			col("INTENT", func(r o2.Recommendation) string { return r.Intent }),
		},
		wide: []column{
			col("CREATED", func(r o2.Recommendation) string { return timeCell(r.CreatedAt) }),
			col("MINUTES", func(r o2.Recommendation) string { return strconv.Itoa(r.Timeline.EstimatedMinutes) }),
		},
		explain: func(v any) string {
			r := v.(o2.Recommendation)
			return placementExplanation(o2.Deployment{DeploymentSpec: r.Plan, Status: o2.DeploymentStatus{Placement: r.Placement}})
		},
	}, ops[o2.Recommendation]{
		list: func(ctx context.Context, c *o2.Client, _ string, o o2.ListOptions) (*o2.Page[o2.Recommendation], error) {
			return c.Advisor().List(ctx, o)
		},
		all: func(ctx context.Context, c *o2.Client, _ string, o o2.ListOptions) iter.Seq2[o2.Recommendation, error] {
			return c.Advisor().All(ctx, o)
		},
		get: func(ctx context.Context, c *o2.Client, _, id string) (*o2.Recommendation, error) {
			return c.Advisor().Get(ctx, id)
		},
		id: func(r o2.Recommendation) string { return r.RecommendationID },
	})
}

// readyCell sums the ready and wanted replicas of every component.
func readyCell(d o2.Deployment) string {
	ready, want := 0, 0
	for _, c := range d.Status.Components {
		ready += c.ReadyReplicas
		want += c.Replicas
	}
	return fmt.Sprintf("%d/%d", ready, want)
}

// deploymentPools lists the names of the pools a deployment runs on.
func deploymentPools(d o2.Deployment) []string {
	var pools []string
	for _, c := range d.Status.Components {
		name := c.ResourcePoolName
		if name == "" {
			name = shortID(c.ResourcePoolID)
		}
		if !slices.Contains(pools, name) {
			pools = append(pools, name)
		}
	}
	return pools
}

// placementExplanation renders why each pool was chosen or refused, and
// where each component's replicas went.
func placementExplanation(d o2.Deployment) string {
	p := d.Status.Placement
	if p == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString("Placement:\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  COMPONENT\tPOOL\tREPLICAS\tCPU\tMEMORY\tSCORE")
	for _, a := range p.Assignments {
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%dm\t%s\t%.3f\n", a.Component, poolLabel(a.ResourcePoolName, a.ResourcePoolID), a.Replicas,
			a.Requests.CPUMillicores, bytesCell(a.Requests.MemoryBytes), a.Score)
	}
	_ = tw.Flush()
	b.WriteString("Pools considered:\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  POOL\tELIGIBLE\tCHOSEN\tSCORE\tREASONS")
	for _, dec := range p.Decisions {
		reasons := strings.Join(dec.Reasons, "; ")
		if reasons == "" {
			reasons = "-"
		}
		fmt.Fprintf(tw, "  %s\t%t\t%t\t%.3f\t%s\n", poolLabel(dec.ResourcePoolName, dec.ResourcePoolID), dec.Eligible, dec.Chosen, dec.Score, reasons)
	}
	_ = tw.Flush()
	return b.String()
}

func poolLabel(name, id string) string {
	if name != "" {
		return name
	}
	return id
}

// bytesCell renders a byte count in binary units.
func bytesCell(n int64) string {
	units := []string{"", "Ki", "Mi", "Gi", "Ti"}
	i := 0
	for n >= 1024 && n%1024 == 0 && i < len(units)-1 {
		n /= 1024
		i++
	}
	return strconv.FormatInt(n, 10) + units[i]
}
