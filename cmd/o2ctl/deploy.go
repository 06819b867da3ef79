package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	o2 "github.com/nephoran/o2ims/pkg/client"
)

// maxSpecBytes bounds a deployment spec file.
const maxSpecBytes = 1 << 20

// deployCommand builds "o2ctl deploy" and its subcommands.
func (a *app) deployCommand() *cobra.Command {
	var (
		file   string
		dryRun bool
		o      opOptions
	)
	cmd := &cobra.Command{
		Use:   "deploy -f FILE [--dry-run] [--wait]",
		Short: "Create a deployment from a spec, or scale and delete deployments",
		Long: `Create a deployment from the DeploymentSpec in FILE (YAML or JSON; "-" reads
standard input) and print its ID. The IMS places each component on
resource pools (the spec's resourcePools, or those its placement rules
and free capacity allow) and runs it as CNF instances. --wait waits until
it is ACTIVE (exit status 7 if it FAILED).

--dry-run prints the placement the IMS would make, and why each pool was
chosen or refused, and creates nothing. When no pool fits, the exit status
is 6 and the message names why each pool was refused.`,
		Example: `  o2ctl deploy -f core.yaml --dry-run
  DEP=$(o2ctl deploy -f core.yaml)
  o2ctl deploy -f core.yaml --wait -o yaml
  o2ctl describe deployment "$DEP"`,
		Args: exactArgs(0, "no argument"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.check(); err != nil {
				return err
			}
			if file == "" {
				return &usageError{fmt.Errorf("-f is required")}
			}
			spec, err := readSpec(file, cmd.InOrStdin())
			if err != nil {
				return err
			}
			spec.DryRun = spec.DryRun || dryRun
			c, err := a.client()
			if err != nil {
				return err
			}
			d, err := c.Deployments().Create(cmd.Context(), spec)
			if err != nil {
				return err
			}
			if spec.DryRun {
				return a.printDeployment(o.output, d, true)
			}
			if o.output == outID {
				if _, err := fmt.Fprintln(a.stdout, d.DeploymentID); err != nil {
					return err
				}
			}
			var waitErr error
			if o.wait {
				d, waitErr = a.waitDeployment(cmd.Context(), c, d, o2.DeploymentActive, &o)
			}
			if o.output != outID {
				if err := a.printDeployment(o.output, d, false); err != nil {
					return err
				}
			}
			return waitErr
		},
	}
	cmd.Flags().StringVarP(&file, "filename", "f", "", "DeploymentSpec file, YAML or JSON (- for standard input)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "only print the placement; create nothing")
	addOpFlags(cmd, &o)
	cmd.AddCommand(a.deployScaleCommand(), a.deployDeleteCommand())
	return cmd
}

// readSpec reads a DeploymentSpec, refusing unknown attributes.
func readSpec(path string, stdin io.Reader) (*o2.DeploymentSpec, error) {
	return readStrict[o2.DeploymentSpec](path, stdin)
}

// readStrict reads a YAML or JSON document of type T from the file path
// (- for stdin), at most maxSpecBytes, refusing unknown attributes.
func readStrict[T any](path string, stdin io.Reader) (*T, error) {
	var r io.Reader = stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxSpecBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxSpecBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxSpecBytes)
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	var v T
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &v, nil
}

// waitDeployment waits, within o.waitTimeout, until d reaches phase.
func (a *app) waitDeployment(ctx context.Context, c *o2.Client, d *o2.Deployment, phase o2.DeploymentPhase, o *opOptions) (*o2.Deployment, error) {
	wctx, cancel := context.WithTimeout(ctx, o.waitTimeout)
	defer cancel()
	done, err := c.Deployments().Wait(wctx, d.DeploymentID, phase)
	if done != nil {
		d = done
	}
	return d, err
}

// printDeployment prints d as -o asks; a plan (dry run) in the id or
// table form is its placement explanation.
func (a *app) printDeployment(format string, d *o2.Deployment, plan bool) error {
	switch format {
	case outJSON:
		return printJSON(a.stdout, d)
	case outYAML:
		return printYAML(a.stdout, d)
	}
	if plan {
		_, err := fmt.Fprintf(a.stdout, "Dry run: deployment %s would be placed as follows; nothing was created.\n%s", d.Name, placementExplanation(*d))
		return err
	}
	return nil
}

// deployScaleCommand builds "o2ctl deploy scale".
func (a *app) deployScaleCommand() *cobra.Command {
	var o opOptions
	cmd := &cobra.Command{
		Use:   "scale ID COMPONENT=REPLICAS...",
		Short: "Change the replicas of components of a deployment",
		Long: `Set the replica count of the named components of deployment ID. The IMS
checks the pools' free capacity and scales the CNF instances; the
deployment is SCALING, then SCALED. --wait waits for SCALED.`,
		Example: `  o2ctl deploy scale "$DEP" amf=3 smf=2 --wait`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) < 2 {
				return &usageError{fmt.Errorf("expected a deployment ID and one or more COMPONENT=REPLICAS")}
			}
			return nil
		},
		ValidArgsFunction: a.completeIDs(func(*cobra.Command) (string, o2.Filter) { return "deployments", o2.Filter{} }),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.check(); err != nil {
				return err
			}
			var patch o2.DeploymentPatch
			for _, arg := range args[1:] {
				name, n, ok := strings.Cut(arg, "=")
				replicas, err := strconv.Atoi(n)
				if !ok || name == "" || err != nil || replicas < 1 {
					return &usageError{fmt.Errorf("%q: want COMPONENT=REPLICAS with REPLICAS at least 1", arg)}
				}
				patch.Components = append(patch.Components, o2.ComponentReplicas{Name: name, Replicas: replicas})
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			d, err := c.Deployments().Update(cmd.Context(), args[0], patch)
			if err != nil {
				return err
			}
			if o.output == outID {
				if _, err := fmt.Fprintln(a.stdout, d.DeploymentID); err != nil {
					return err
				}
			}
			var waitErr error
			if o.wait {
				d, waitErr = a.waitDeployment(cmd.Context(), c, d, o2.DeploymentScaled, &o)
			}
			if err := a.printDeployment(o.output, d, false); err != nil {
				return err
			}
			return waitErr
		},
	}
	addOpFlags(cmd, &o)
	return cmd
}

// deployDeleteCommand builds "o2ctl deploy delete".
func (a *app) deployDeleteCommand() *cobra.Command {
	return a.deleteWaitCommand("Delete deployments", "deployments",
		`Delete the deployments with the given IDs: the IMS terminates their CNF
instances and releases their capacity; each is gone once that is done.
--wait waits until they are gone.`, "deployment",
		func(ctx context.Context, c *o2.Client, id string) error { return c.Deployments().Delete(ctx, id) },
		func(ctx context.Context, c *o2.Client, id string) error { return c.Deployments().WaitDeleted(ctx, id) })
}

// deleteWaitCommand is "delete ID..." for objects whose deletion takes
// a while: with --wait it waits, within --wait-timeout, until each is
// gone.
func (a *app) deleteWaitCommand(short, kindName, long, noun string, del, waitDeleted func(ctx context.Context, c *o2.Client, id string) error) *cobra.Command {
	var (
		wait bool
		o    opOptions
	)
	cmd := a.deleteCommand("delete ID...", short, kindName, long,
		func(ctx context.Context, c *o2.Client, id string) error {
			if err := del(ctx, c, id); err != nil {
				return err
			}
			if !wait {
				return nil
			}
			wctx, cancel := context.WithTimeout(ctx, o.waitTimeout)
			defer cancel()
			return waitDeleted(wctx, c, id)
		})
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until each "+noun+" is gone")
	cmd.Flags().DurationVar(&o.waitTimeout, "wait-timeout", defaultWaitTimeout, "how long --wait waits at most")
	return cmd
}
