package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	o2 "github.com/nephoran/o2ims/pkg/client"
)

// adviseCommand builds "o2ctl advise".
func (a *app) adviseCommand() *cobra.Command {
	var (
		req    o2.RecommendationRequest
		cons   o2.RecommendationConstraints
		output string
	)
	cmd := &cobra.Command{
		Use:   `advise "INTENT" [--region R] [--components amf,smf] [--replicas N]`,
		Short: "Ask the advisor for a deployment plan for an intent",
		Long: `Ask the IMS's advisor to turn an intent into a deployment plan placed on
the live inventory, priced and explained, and print it. The plan is kept
(o2ctl get recommendations); -o yaml prints it whole, and its plan
attribute can be given to "o2ctl deploy -f" as it is. An intent that fits
no pool exits with status 6, naming why each pool was refused.`,
		Example: `  o2ctl advise "Deploy 5G AMF with high availability in US West region"
  o2ctl advise "UPF for URLLC with latency under 5 ms" --providers kubernetes -o yaml`,
		Args: exactArgs(1, "the intent"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(output, outTable, outJSON, outYAML); err != nil {
				return err
			}
			req.Intent = args[0]
			if len(cons.Providers) > 0 || cons.PoolSelector != "" {
				req.Constraints = &cons
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			rec, err := c.Advisor().Recommend(cmd.Context(), req)
			if err != nil {
				return err
			}
			switch output {
			case outJSON:
				return printJSON(a.stdout, rec)
			case outYAML:
				return printYAML(a.stdout, rec)
			}
			var fns []string
			for _, f := range rec.Requirements.Functions {
				fns = append(fns, fmt.Sprintf("%s×%d", f.Name, f.Replicas))
			}
			_, err = fmt.Fprintf(a.stdout, "Recommendation %s (%s, confidence %.2f): deployment %s of %s, about %.2f %s a month, %d minutes.\n%s",
				rec.RecommendationID, rec.Source, rec.Confidence, rec.Plan.Name, strings.Join(fns, ", "), rec.EstimatedCost.Monthly,
				rec.EstimatedCost.Currency, rec.Timeline.EstimatedMinutes,
				placementExplanation(o2.Deployment{DeploymentSpec: rec.Plan, Status: o2.DeploymentStatus{Placement: rec.Placement}}))
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.Region, "region", "", "region (overrides the intent's)")
	f.StringSliceVar(&req.TargetComponents, "components", nil, "network functions (override those the intent names)")
	f.IntVar(&req.Replicas, "replicas", 0, "replicas of every function")
	f.StringSliceVar(&cons.Providers, "providers", nil, "provider kinds allowed")
	f.StringVar(&cons.PoolSelector, "pool-selector", "", "label selector on the pools")
	addOutputFlag(cmd, &output, outTable, outJSON, outYAML)
	return cmd
}
