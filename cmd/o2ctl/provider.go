package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	o2 "github.com/nephoran/o2ims/pkg/client"
)

// providerCommand builds "o2ctl provider" and its subcommands.
func (a *app) providerCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "provider",
		Short: "Register or remove infrastructure providers (Kubernetes clusters, GitOps repositories, Porch)",
		Long: `Register Kubernetes clusters with the IMS, or remove them; list them, with
their health, with "o2ctl get providers". A registered cluster's nodes
become resources, grouped into resource pools by their
nephoran.io/resource-pool label, and the cluster a deployment manager
named after the provider, onto which CNF instances are instantiated.`,
		Args: exactArgs(0, "a subcommand"),
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}

	var (
		typ, kubeconfig, kubeconfigPath, kubeContext, output string
		git                                                  o2.ProviderConfig
		passwordFile                                         string
		aws                                                  awsFlags
		azure                                                azureFlags
	)
	add := &cobra.Command{
		Use:   "add NAME [--type kubernetes|gitops|porch|aws|azure] …",
		Short: "Register a Kubernetes cluster, a GitOps repository, Porch, an AWS VPC or an Azure resource group",
		Long: `Register provider NAME (1 to 63 lowercase letters, digits, '-' or '.') and
print its ID. A name in use exits with status 5.

--type kubernetes (the default): the cluster a kubeconfig reaches.
--kubeconfig reads a local file and sends its content, which the IMS
stores encrypted; it needs a secrets key (O2IMS_SECRETS_KEY or
--secrets-key-file), else exit status 6; it must carry its credentials
inline (no exec plugins, no file references). --kubeconfig-path instead
names a file of the IMS's provider credentials directory
(--provider-credentials-dir), relative to it. --kube-context selects a
context of the kubeconfig (o2ctl's own --context selects the IMS, as
everywhere). --delivery gitops with --repository (and --branch,
--directory, --username, --password-file) sends the deployments placed on
the cluster's pools through that repository, which the cluster's own
GitOps agent applies.

--type gitops: a git repository (--repository, an http(s) URL) that
deployments naming its deployment manager are committed to as kpt
packages; --target-cluster names the registered cluster its agent
applies to. --password-file holds the password or token, stored
encrypted.

--type porch: Porch (Nephio R5) on the API server a kubeconfig reaches
(--kubeconfig or --kubeconfig-path); --repository names the Porch
Repository of the deployments, --blueprint-repository and --blueprint the
blueprint package, --auto-approve publishes the proposals.

--type aws: a VPC (--vpc) of an AWS region (--region), optionally
restricted to --subnet ID[:ZONE[:public|private]] (repeatable), with the
instance types offered (--instance-types, --default-instance-type), the
default tags of the IMS's instances (--tag KEY=VALUE, repeatable), a
compute budget (--vcpus, --memory-gib) and an --aws-endpoint replacing
the region's EC2 and CloudFormation endpoint. The access key comes from
the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_SESSION_TOKEN) or from --credentials-file and its --profile; it is
sent to the IMS, which stores it encrypted.

--type azure: a resource group (--resource-group) of a subscription
(--subscription-id) in one --location, inventoried through a service
principal (--tenant-id, --client-id; the client secret from
AZURE_CLIENT_SECRET or --client-secret-file, sent to the IMS, which
stores it encrypted); the subnets of --vnet, optionally restricted to
--azure-subnet NAME[:compute|storage] (repeatable), are resource pools;
--vm-sizes and --default-vm-size, --tag, --vcpus and --memory-gib as for
aws; --cloud AzureChina or AzureGovernment.`,
		Example: `  o2ctl provider add edge-1 --kubeconfig ~/.kube/edge-1.yaml --kube-context admin@edge-1
  o2ctl provider add lab --kubeconfig-path lab.kubeconfig
  o2ctl provider add fleet --type gitops --repository https://git.example/fleet.git --username bot --password-file token --target-cluster edge-1
  o2ctl provider add nephio --type porch --kubeconfig ~/.kube/mgmt.yaml --auto-approve --target-cluster edge-1
  o2ctl provider add aws-edge --type aws --region us-east-1 --vpc vpc-0a1b2c3d4e5f67890 --instance-types t3.medium,m5.large --tag ManagedBy=o2ims --credentials-file ~/.aws/credentials
  o2ctl provider add azure-edge --type azure --subscription-id … --tenant-id … --client-id … --client-secret-file secret --resource-group rg-edge --location westeurope --vnet vnet-edge --azure-subnet compute:compute --vm-sizes Standard_D2s_v5,Standard_D4s_v5 --tag ManagedBy=o2ims`,
		Args: exactArgs(1, "a provider name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(output, outID, outJSON, outYAML); err != nil {
				return err
			}
			req := o2.ProviderRequest{Name: args[0], Type: typ, Config: git}
			req.Config.KubeconfigPath, req.Config.Context = kubeconfigPath, kubeContext
			kube := kubeconfig != "" || kubeconfigPath != ""
			if name := aws.used(cmd.Flags()); name != "" && typ != o2.ProviderTypeAWS {
				return &usageError{fmt.Errorf("--%s is a flag of --type aws", name)}
			}
			if name := azure.used(cmd.Flags()); name != "" && typ != o2.ProviderTypeAzure {
				return &usageError{fmt.Errorf("--%s is a flag of --type azure", name)}
			}
			if name := firstChanged(cmd.Flags(), cloudFlagNames); name != "" && typ != o2.ProviderTypeAWS && typ != o2.ProviderTypeAzure {
				return &usageError{fmt.Errorf("--%s is a flag of --type aws and --type azure", name)}
			}
			switch typ {
			case o2.ProviderTypeKubernetes, o2.ProviderTypePorch:
				if (kubeconfig == "") == (kubeconfigPath == "") {
					return &usageError{fmt.Errorf("give exactly one of --kubeconfig and --kubeconfig-path")}
				}
			case o2.ProviderTypeGitOps:
				if kube || kubeContext != "" {
					return &usageError{fmt.Errorf("--type gitops takes --repository and its options, no kubeconfig")}
				}
				if git.Repository == "" {
					return &usageError{fmt.Errorf("--type gitops needs --repository")}
				}
			case o2.ProviderTypeAWS:
				if kube || kubeContext != "" || git != (o2.ProviderConfig{}) || passwordFile != "" {
					return &usageError{fmt.Errorf("--type aws takes --region, --vpc and their options only")}
				}
				if err := a.awsConfig(&aws, &req.Config); err != nil {
					return err
				}
			case o2.ProviderTypeAzure:
				if kube || kubeContext != "" || git != (o2.ProviderConfig{}) || passwordFile != "" {
					return &usageError{fmt.Errorf("--type azure takes --subscription-id, --resource-group and their options only")}
				}
				if err := a.azureConfig(&azure, &aws, &req.Config); err != nil {
					return err
				}
			default:
				return &usageError{fmt.Errorf("--type must be kubernetes, gitops, porch, aws or azure")}
			}
			if kubeconfig != "" {
				data, err := os.ReadFile(kubeconfig)
				if err != nil {
					return err
				}
				req.Config.Kubeconfig = string(data)
			}
			if passwordFile != "" {
				data, err := os.ReadFile(passwordFile)
				if err != nil {
					return err
				}
				req.Config.Password = strings.TrimSpace(string(data))
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
	f := add.Flags()
	f.StringVar(&typ, "type", o2.ProviderTypeKubernetes, "provider type: kubernetes, gitops, porch, aws or azure")
	f.StringVar(&kubeconfig, "kubeconfig", "", "local kubeconfig file whose content is sent")
	f.StringVar(&kubeconfigPath, "kubeconfig-path", "", "path of a kubeconfig file on the IMS's host")
	f.StringVar(&kubeContext, "kube-context", "", "kubeconfig context (default: its current context)")
	f.StringVar(&git.Delivery, "delivery", "", "for a cluster: direct (default) or gitops (through --repository)")
	f.StringVar(&git.Repository, "repository", "", "gitops: the repository's http(s) URL; porch: the Porch Repository of the deployments")
	f.StringVar(&git.Branch, "branch", "", "the branch commits go to (default main)")
	f.StringVar(&git.Directory, "directory", "", "the directory holding the packages (default deployments)")
	f.StringVar(&git.Username, "username", "", "the user of the repository's HTTP authentication")
	f.StringVar(&passwordFile, "password-file", "", "file holding the password or token of --username")
	f.StringVar(&git.TargetCluster, "target-cluster", "", "the registered cluster the repository's GitOps agent applies to")
	f.StringVar(&git.BlueprintRepository, "blueprint-repository", "", "porch: the Porch Repository of the blueprint (default o2ims-packages)")
	f.StringVar(&git.Blueprint, "blueprint", "", "porch: the blueprint package (default o2ims-deployment-template)")
	f.StringVar(&git.Namespace, "namespace", "", "porch: the namespace of the repositories (default default)")
	f.BoolVar(&git.AutoApprove, "auto-approve", false, "porch: publish each package revision the IMS proposes")
	aws.register(f)
	azure.register(f)
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
