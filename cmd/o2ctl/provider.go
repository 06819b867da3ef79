package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	o2 "github.com/nephoran/o2ims/pkg/client"
)

// providerCommand builds "o2ctl provider" and its subcommands.
func (a *app) providerCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "provider",
		Short: "Register or remove infrastructure providers (Kubernetes clusters)",
		Long: `Register Kubernetes clusters with the IMS, or remove them; list them, with
their health, with "o2ctl get providers". A registered cluster's nodes
become resources, grouped into resource pools by their
nephoran.io/resource-pool label, and the cluster a deployment manager
named after the provider, onto which CNF instances are instantiated.`,
		Args: exactArgs(0, "a subcommand"),
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}

	var (
		kubeconfig, kubeconfigPath, kubeContext, output string
	)
	add := &cobra.Command{
		Use:   "add NAME (--kubeconfig FILE | --kubeconfig-path PATH) [--kube-context NAME]",
		Short: "Register a Kubernetes cluster",
		Long: `Register the Kubernetes cluster a kubeconfig reaches as provider NAME (1 to
63 lowercase letters, digits, '-' or '.'), and print its ID.

--kubeconfig reads a local file and sends its content, which the IMS
stores encrypted; it needs a secrets key (O2IMS_SECRETS_KEY or
--secrets-key-file), else exit status 6; it must carry its credentials
inline (no exec plugins, no file references). --kubeconfig-path instead
names a file of the IMS's provider credentials directory
(--provider-credentials-dir), relative to it. --kube-context selects a context of the
kubeconfig (o2ctl's own --context selects the IMS, as everywhere). A name
in use exits with status 5.`,
		Example: `  o2ctl provider add edge-1 --kubeconfig ~/.kube/edge-1.yaml --kube-context admin@edge-1
  o2ctl provider add lab --kubeconfig-path lab.kubeconfig`,
		Args: exactArgs(1, "a provider name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(output, outID, outJSON, outYAML); err != nil {
				return err
			}
			if (kubeconfig == "") == (kubeconfigPath == "") {
				return &usageError{fmt.Errorf("give exactly one of --kubeconfig and --kubeconfig-path")}
			}
			req := o2.ProviderRequest{
				Name: args[0],
				Type: o2.ProviderTypeKubernetes,
				Config: o2.ProviderConfig{
					KubeconfigPath: kubeconfigPath,
					Context:        kubeContext,
				},
			}
			if kubeconfig != "" {
				data, err := os.ReadFile(kubeconfig)
				if err != nil {
					return err
				}
				req.Config.Kubeconfig = string(data)
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			p, err := c.Providers().Create(cmd.Context(), req)
			if err != nil {
				return err
			}
			return a.printCreated(output, p.ProviderID, p)
		},
	}
	add.Flags().StringVar(&kubeconfig, "kubeconfig", "", "local kubeconfig file whose content is sent")
	add.Flags().StringVar(&kubeconfigPath, "kubeconfig-path", "", "path of a kubeconfig file on the IMS's host")
	add.Flags().StringVar(&kubeContext, "kube-context", "", "kubeconfig context (default: its current context)")
	addOutputFlag(add, &output, outID, outJSON, outYAML)

	del := a.deleteCommand("delete ID...", "Remove providers and their inventory", "providers",
		`Remove the providers with the given IDs, and every resource pool, resource
and deployment manager they reported. Providers that were not registered
through the API (the local host, those of the IMS's configuration file)
cannot be removed: exit status 5.`,
		func(ctx context.Context, c *o2.Client, id string) error { return c.Providers().Delete(ctx, id) })

	cmd.AddCommand(add, del)
	return cmd
}
