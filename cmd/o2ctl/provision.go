package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	o2 "github.com/nephoran/o2ims/pkg/client"
)

// provisionCommand builds "o2ctl provision" and its subcommands.
func (a *app) provisionCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "provision",
		Short: "Create and delete provisioning requests",
		Long: `Provisioning requests ask the IMS for infrastructure made from a managed
infrastructure template ("o2ctl get templates" lists them, "o2ctl describe
template NAME.VERSION" shows a template's parameter schema).`,
	}
	cmd.AddCommand(a.provisionCreateCommand(), a.provisionDeleteCommand())
	return cmd
}

// provisionCreateCommand builds "o2ctl provision create".
func (a *app) provisionCreateCommand() *cobra.Command {
	var (
		file string
		o    opOptions
	)
	cmd := &cobra.Command{
		Use:   "create -f FILE [--wait]",
		Short: "Submit a provisioning request",
		Long: `Submit the ProvisioningRequestData in FILE (YAML or JSON; "-" reads standard
input: provisioningRequestId, name, description, templateName,
templateVersion, templateParameters) and print its ID. A parameter outside
the template's schema exits with status 1 and a message naming it; an ID
in use exits with 5. --wait waits until the request is FULFILLED (exit
status 7 if it FAILED).`,
		Example: `  o2ctl provision create -f team-a.yaml --wait
  o2ctl get provisioningrequests -o wide`,
		Args: exactArgs(0, "no argument"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.check(); err != nil {
				return err
			}
			if file == "" {
				return &usageError{fmt.Errorf("-f is required")}
			}
			d, err := readProvisioningRequest(file, cmd.InOrStdin())
			if err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			r, err := c.ProvisioningRequests().Create(cmd.Context(), *d)
			if err != nil {
				return err
			}
			if o.output == outID {
				if _, err := fmt.Fprintln(a.stdout, d.ProvisioningRequestID); err != nil {
					return err
				}
			}
			var waitErr error
			if o.wait {
				wctx, cancel := context.WithTimeout(cmd.Context(), o.waitTimeout)
				defer cancel()
				var done *o2.ProvisioningRequest
				if done, waitErr = c.ProvisioningRequests().Wait(wctx, d.ProvisioningRequestID, o2.ProvisioningFulfilled); done != nil {
					r = done
				}
			}
			switch o.output {
			case outJSON:
				if err := printJSON(a.stdout, r); err != nil {
					return err
				}
			case outYAML:
				if err := printYAML(a.stdout, r); err != nil {
					return err
				}
			}
			return waitErr
		},
	}
	cmd.Flags().StringVarP(&file, "filename", "f", "", "ProvisioningRequestData file, YAML or JSON (- for standard input)")
	addOpFlags(cmd, &o)
	return cmd
}

// readProvisioningRequest reads ProvisioningRequestData, refusing unknown
// attributes.
func readProvisioningRequest(path string, stdin io.Reader) (*o2.ProvisioningRequestData, error) {
	d, err := readStrict[o2.ProvisioningRequestData](path, stdin)
	if err != nil {
		return nil, err
	}
	if d.ProvisioningRequestID == "" {
		return nil, fmt.Errorf("%s: provisioningRequestId is required", path)
	}
	return d, nil
}

// provisionDeleteCommand builds "o2ctl provision delete".
func (a *app) provisionDeleteCommand() *cobra.Command {
	return a.deleteWaitCommand("Delete provisioning requests and their infrastructure", "provisioningrequests",
		`Delete the provisioning requests with the given IDs: the IMS removes their
infrastructure; each request is DELETING until that is done, then gone.
--wait waits until they are gone.`, "request",
		func(ctx context.Context, c *o2.Client, id string) error {
			return c.ProvisioningRequests().Delete(ctx, id)
		},
		func(ctx context.Context, c *o2.Client, id string) error {
			return c.ProvisioningRequests().WaitDeleted(ctx, id)
		})
}
