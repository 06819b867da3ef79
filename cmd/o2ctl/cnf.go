package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	o2 "github.com/nephoran/o2ims/pkg/client"
)

// defaultWaitTimeout bounds --wait unless --wait-timeout says otherwise.
const defaultWaitTimeout = 10 * time.Minute

// cnfCommand builds "o2ctl cnf" and its subcommands.
func (a *app) cnfCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cnf",
		Short: "Manage CNF packages and the lifecycle of CNF instances",
		Long: `Upload CNF packages (Helm charts, kpt packages), create CNF instances of
their descriptors (VNFD), and instantiate, scale, terminate and delete them.
List them with "o2ctl get cnfpackages", "o2ctl get cnfinstances" and
"o2ctl get lcmopoccs".

instantiate, scale and terminate start an asynchronous lifecycle operation
and print its ID; with --wait they wait until it ends, and exit with
status 7 when it FAILED. One operation runs at a time per instance:
starting another meanwhile is a conflict (exit status 5). A request the
IMS cannot carry out, such as an unknown resource pool or scaling beyond
an aspect's maximum level, exits with status 6.`,
		Example: `  o2ctl cnf package upload --metadata meta.json --content app-0.3.1.tgz
  CNF=$(o2ctl cnf create --vnfd vnfd-app --name app-1)
  o2ctl cnf instantiate $CNF --flavour small --dm $DM --pool $POOL --namespace app --wait
  o2ctl cnf scale $CNF --aspect app --out --steps 1 --wait
  o2ctl cnf terminate $CNF --wait
  o2ctl cnf delete $CNF`,
		Args: exactArgs(0, "a subcommand"),
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(
		a.cnfPackageCommand(),
		a.cnfCreateCommand(),
		a.cnfDeleteCommand(),
		a.cnfInstantiateCommand(),
		a.cnfScaleCommand(),
		a.cnfTerminateCommand(),
	)
	return cmd
}

// cnfPackageCommand builds "o2ctl cnf package" and its subcommands.
func (a *app) cnfPackageCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "package",
		Aliases: []string{"pkg"},
		Short:   "Upload or delete CNF packages",
		Args:    exactArgs(0, "a subcommand"),
		RunE:    func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}

	var metadataFile, contentFile, output string
	upload := &cobra.Command{
		Use:   "upload --metadata FILE --content FILE",
		Short: "Register a CNF package",
		Long: `Register a CNF package: its metadata, a JSON or YAML file such as

  {"name": "app", "version": "0.3.1",
   "vnfdInfo": {"vnfdId": "vnfd-app", "vnfProvider": "Nephoran"},
   "flavours": [{"flavourId": "small", "replicas": 1,
                 "resources": {"cpu": "100m", "memory": "64Mi"}}],
   "scalingAspects": [{"aspectId": "app", "workload": "app",
                       "stepDelta": 1, "maxScaleLevel": 3}]}

and its content: a Helm chart archive, or a kpt package as a .tgz, .zip or
multi-document YAML with a Kptfile ("contentType": "helm" or "kpt" in the
metadata, detected when absent). The IMS validates the content before it
stores it. The ID of the new package is printed.`,
		Example: `  o2ctl cnf package upload --metadata meta.json --content app-0.3.1.tgz
  o2ctl cnf package upload --metadata meta.yaml --content kapp.tgz -o json`,
		Args: exactArgs(0, "no argument"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(output, outID, outJSON, outYAML); err != nil {
				return err
			}
			if metadataFile == "" || contentFile == "" {
				return &usageError{fmt.Errorf("--metadata and --content are required")}
			}
			meta, err := readPackageMetadata(metadataFile)
			if err != nil {
				return err
			}
			content, err := os.Open(contentFile)
			if err != nil {
				return err
			}
			defer content.Close()
			c, err := a.client()
			if err != nil {
				return err
			}
			pkg, err := c.CNFPackages().Upload(cmd.Context(), meta, content)
			if err != nil {
				return err
			}
			return a.printCreated(output, pkg.PackageID, pkg)
		},
	}
	upload.Flags().StringVar(&metadataFile, "metadata", "", "JSON or YAML file of the package metadata (required)")
	upload.Flags().StringVar(&contentFile, "content", "", "the package content: a Helm chart .tgz or a kpt package (required)")
	addOutputFlag(upload, &output, outID, outJSON, outYAML)

	del := a.deleteCommand("delete ID...", "Delete CNF packages", "cnfpackages",
		`Delete the CNF packages with the given IDs. A package that CNF instances
use cannot be deleted: exit status 5.`,
		func(ctx context.Context, c *o2.Client, id string) error { return c.CNFPackages().Delete(ctx, id) })

	cmd.AddCommand(upload, del)
	return cmd
}

// readPackageMetadata reads a JSON or YAML package metadata file,
// refusing attributes the IMS does not know, so that a typo does not pass
// silently.
func readPackageMetadata(path string) (o2.PackageMetadata, error) {
	var meta o2.PackageMetadata
	data, err := os.ReadFile(path)
	if err != nil {
		return meta, err
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return meta, fmt.Errorf("%s: %w", path, err)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&meta); err != nil {
		return meta, fmt.Errorf("%s: %w", path, err)
	}
	return meta, nil
}

// cnfCreateCommand builds "o2ctl cnf create".
func (a *app) cnfCreateCommand() *cobra.Command {
	var req o2.CreateCNFInstanceRequest
	var output string
	cmd := &cobra.Command{
		Use:   "create --vnfd ID [--name NAME] [--description TEXT] [--flavour ID]",
		Short: "Create a CNF instance, not instantiated",
		Long: `Create a CNF instance of the descriptor (VNFD) a registered package
implements, and print its ID. It is NOT_INSTANTIATED until
"o2ctl cnf instantiate". A VNFD no package implements exits with status 6.`,
		Example: `  CNF=$(o2ctl cnf create --vnfd vnfd-app --name app-1)`,
		Args:    exactArgs(0, "no argument"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(output, outID, outJSON, outYAML); err != nil {
				return err
			}
			if strings.TrimSpace(req.VnfdID) == "" {
				return &usageError{fmt.Errorf("--vnfd is required")}
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			inst, err := c.CNFInstances().Create(cmd.Context(), req)
			if err != nil {
				return err
			}
			return a.printCreated(output, inst.CNFInstanceID, inst)
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.VnfdID, "vnfd", "", "VNFD ID of a registered package (required)")
	f.StringVar(&req.VnfInstanceName, "name", "", "name of the instance")
	f.StringVar(&req.VnfInstanceDescription, "description", "", "description of the instance")
	f.StringVar(&req.FlavourID, "flavour", "", "default flavour of instantiate")
	addOutputFlag(cmd, &output, outID, outJSON, outYAML)
	return cmd
}

// cnfDeleteCommand builds "o2ctl cnf delete".
func (a *app) cnfDeleteCommand() *cobra.Command {
	return a.deleteCommand("delete ID...", "Delete CNF instances", "cnfinstances",
		`Delete the CNF instances with the given IDs. Only an instance that is
not instantiated can be deleted; terminate it first, else exit status 5.`,
		func(ctx context.Context, c *o2.Client, id string) error { return c.CNFInstances().Delete(ctx, id) })
}

// opOptions are the flags every command starting a lifecycle operation
// has.
type opOptions struct {
	wait        bool
	waitTimeout time.Duration
	output      string
}

// addOpFlags adds --wait, --wait-timeout and -o to cmd.
func addOpFlags(cmd *cobra.Command, o *opOptions) {
	cmd.Flags().BoolVar(&o.wait, "wait", false, "wait until the operation ends; exit status 7 if it FAILED")
	cmd.Flags().DurationVar(&o.waitTimeout, "wait-timeout", defaultWaitTimeout, "how long --wait waits at most")
	addOutputFlag(cmd, &o.output, outID, outJSON, outYAML)
}

// check validates the flags of o.
func (o *opOptions) check() error {
	if err := checkFormat(o.output, outID, outJSON, outYAML); err != nil {
		return err
	}
	if o.waitTimeout <= 0 {
		return &usageError{fmt.Errorf("--wait-timeout must be positive")}
	}
	return nil
}

// runOp starts a lifecycle operation with start and reports it: the ID is
// printed at once (-o id), so that it is known even if waiting fails; with
// --wait, the operation is awaited, and -o json or yaml print it in its
// final state.
func (a *app) runOp(ctx context.Context, o *opOptions, start func(ctx context.Context, c *o2.Client) (*o2.LcmOpOcc, error)) error {
	if err := o.check(); err != nil {
		return err
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	op, err := start(ctx, c)
	if err != nil {
		return err
	}
	if o.output == outID {
		if _, err := fmt.Fprintln(a.stdout, op.ID); err != nil {
			return err
		}
	}
	var waitErr error
	if o.wait {
		wctx, cancel := context.WithTimeout(ctx, o.waitTimeout)
		defer cancel()
		var done *o2.LcmOpOcc
		done, waitErr = c.LcmOpOccs().Wait(wctx, op.ID)
		if done != nil {
			op = done
		}
	}
	switch o.output {
	case outJSON:
		if err := printJSON(a.stdout, op); err != nil {
			return err
		}
	case outYAML:
		if err := printYAML(a.stdout, op); err != nil {
			return err
		}
	}
	return waitErr
}

// cnfInstantiateCommand builds "o2ctl cnf instantiate".
func (a *app) cnfInstantiateCommand() *cobra.Command {
	var (
		req        o2.InstantiateRequest
		paramsFile string
		o          opOptions
	)
	cmd := &cobra.Command{
		Use:   "instantiate ID --dm ID [--flavour ID] [--pool ID] [--namespace NS] [--wait]",
		Short: "Deploy a CNF instance onto a deployment manager",
		Long: `Deploy the CNF instance ID onto the Kubernetes cluster of deployment
manager --dm, with the flavour --flavour (by default the one the instance
was created with), its pods confined to the nodes of resource pool --pool
when given, in namespace --namespace (by default cnf-<first 8 characters
of the ID>). --params names a JSON or YAML file of additional parameters
passed to the package, such as Helm values.

The ID of the lifecycle operation is printed; --wait waits until it ends.`,
		Example: `  o2ctl cnf instantiate $CNF --flavour small --dm $DM --pool $POOL --namespace app --wait`,
		Args:    exactArgs(1, "a CNF instance ID"),
		ValidArgsFunction: a.completeIDs(func(*cobra.Command) (string, o2.Filter) {
			return "cnfinstances", o2.Eq("instantiationState", string(o2.NotInstantiated))
		}),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(req.DeploymentManagerID) == "" {
				return &usageError{fmt.Errorf("--dm is required")}
			}
			if paramsFile != "" {
				params, err := readParams(paramsFile)
				if err != nil {
					return err
				}
				req.AdditionalParams = params
			}
			return a.runOp(cmd.Context(), &o, func(ctx context.Context, c *o2.Client) (*o2.LcmOpOcc, error) {
				return c.CNFInstances().Instantiate(ctx, args[0], req)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.DeploymentManagerID, "dm", "", "deployment manager ID (required)")
	f.StringVar(&req.FlavourID, "flavour", "", "flavour ID (default: the instance's)")
	f.StringVar(&req.ResourcePoolID, "pool", "", "resource pool ID whose nodes the pods run on")
	f.StringVar(&req.Namespace, "namespace", "", "Kubernetes namespace (default cnf-<first 8 characters of the ID>)")
	f.StringVar(&paramsFile, "params", "", "JSON or YAML file of additional parameters, such as Helm values")
	addOpFlags(cmd, &o)
	return cmd
}

// readParams reads a JSON or YAML object.
func readParams(path string) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var params map[string]any
	if err := yaml.Unmarshal(data, &params); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return params, nil
}

// cnfScaleCommand builds "o2ctl cnf scale".
func (a *app) cnfScaleCommand() *cobra.Command {
	var (
		req     o2.ScaleRequest
		out, in bool
		o       opOptions
	)
	cmd := &cobra.Command{
		Use:   "scale ID --aspect ID (--out|--in) [--steps N] [--wait]",
		Short: "Scale an aspect of a CNF instance out or in",
		Long: `Scale the aspect --aspect of the instantiated CNF instance ID out (add
replicas) or in (remove them) by --steps levels, each the aspect's
stepDelta replicas. Leaving the levels 0 to the aspect's maximum exits
with status 6.

The ID of the lifecycle operation is printed; --wait waits until it ends.`,
		Example: `  o2ctl cnf scale $CNF --aspect app --out --wait
  o2ctl cnf scale $CNF --aspect app --in --steps 2`,
		Args: exactArgs(1, "a CNF instance ID"),
		ValidArgsFunction: a.completeIDs(func(*cobra.Command) (string, o2.Filter) {
			return "cnfinstances", o2.Eq("instantiationState", string(o2.Instantiated))
		}),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case out == in:
				return &usageError{fmt.Errorf("give exactly one of --out and --in")}
			case strings.TrimSpace(req.AspectID) == "":
				return &usageError{fmt.Errorf("--aspect is required")}
			case req.NumberOfSteps < 1:
				return &usageError{fmt.Errorf("--steps must be at least 1")}
			}
			req.Type = o2.ScaleOut
			if in {
				req.Type = o2.ScaleIn
			}
			return a.runOp(cmd.Context(), &o, func(ctx context.Context, c *o2.Client) (*o2.LcmOpOcc, error) {
				return c.CNFInstances().Scale(ctx, args[0], req)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.AspectID, "aspect", "", "scaling aspect ID of the package (required)")
	f.BoolVar(&out, "out", false, "add replicas (SCALE_OUT)")
	f.BoolVar(&in, "in", false, "remove replicas (SCALE_IN)")
	f.IntVar(&req.NumberOfSteps, "steps", 1, "number of levels")
	addOpFlags(cmd, &o)
	return cmd
}

// cnfTerminateCommand builds "o2ctl cnf terminate".
func (a *app) cnfTerminateCommand() *cobra.Command {
	var (
		forceful bool
		grace    time.Duration
		o        opOptions
	)
	cmd := &cobra.Command{
		Use:   "terminate ID [--forceful | --graceful-timeout D] [--wait]",
		Short: "Remove everything a CNF instance deployed",
		Long: `Remove every Kubernetes object the CNF instance ID deployed, gracefully
(pods may shut down, within --graceful-timeout) or with --forceful at
once. The instance is NOT_INSTANTIATED afterwards and can be deleted.

The ID of the lifecycle operation is printed; --wait waits until it ends.`,
		Example: `  o2ctl cnf terminate $CNF --wait
  o2ctl cnf terminate $CNF --forceful`,
		Args: exactArgs(1, "a CNF instance ID"),
		ValidArgsFunction: a.completeIDs(func(*cobra.Command) (string, o2.Filter) {
			return "cnfinstances", o2.Eq("instantiationState", string(o2.Instantiated))
		}),
		RunE: func(cmd *cobra.Command, args []string) error {
			if forceful && cmd.Flags().Changed("graceful-timeout") {
				return &usageError{fmt.Errorf("--forceful and --graceful-timeout cannot be combined")}
			}
			if grace < 0 {
				return &usageError{fmt.Errorf("--graceful-timeout must not be negative")}
			}
			req := o2.TerminateRequest{TerminationType: o2.Graceful, GracefulTerminationTimeout: grace}
			if forceful {
				req.TerminationType = o2.Forceful
			}
			return a.runOp(cmd.Context(), &o, func(ctx context.Context, c *o2.Client) (*o2.LcmOpOcc, error) {
				return c.CNFInstances().Terminate(ctx, args[0], req)
			})
		},
	}
	cmd.Flags().BoolVar(&forceful, "forceful", false, "delete everything at once rather than gracefully")
	cmd.Flags().DurationVar(&grace, "graceful-timeout", 0, "bound of a graceful termination, such as 30s (default: the IMS's)")
	addOpFlags(cmd, &o)
	return cmd
}

// deleteCommand builds a command deleting the objects of kind kindName
// with the given IDs, in order, stopping at the first error, and
// reporting each as "<singular>/ID deleted".
func (a *app) deleteCommand(use, short, kindName, long string, del func(ctx context.Context, c *o2.Client, id string) error) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Long:  long,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &usageError{fmt.Errorf("expected one or more IDs")}
			}
			return nil
		},
		ValidArgsFunction: a.completeIDs(func(*cobra.Command) (string, o2.Filter) { return kindName, o2.Filter{} }),
		RunE: func(cmd *cobra.Command, ids []string) error {
			k, err := findKind(kindName)
			if err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			for _, id := range ids {
				if err := del(cmd.Context(), c, id); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "%s/%s deleted\n", k.singular, id)
			}
			return nil
		},
	}
}

// printCreated prints a new object: its ID (-o id) or the object.
func (a *app) printCreated(format, id string, obj any) error {
	switch format {
	case outJSON:
		return printJSON(a.stdout, obj)
	case outYAML:
		return printYAML(a.stdout, obj)
	}
	_, err := fmt.Fprintln(a.stdout, id)
	return err
}
