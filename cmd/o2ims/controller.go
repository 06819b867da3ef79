package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/nephoran/o2ims/internal/controller"
	"github.com/nephoran/o2ims/internal/intent"
	o2 "github.com/nephoran/o2ims/pkg/client"
)

// imsClientFlags say how a process reaches the O2 IMS as a client.
type imsClientFlags struct {
	endpoint         string
	caFile           string
	certFile         string
	keyFile          string
	tokenFile        string
	tokenURL         string
	clientID         string
	clientSecretFile string
	scopes           string
}

func (f *imsClientFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.endpoint, "o2ims-endpoint", "http://127.0.0.1:8080", "base URL of the O2 IMS")
	fs.StringVar(&f.caFile, "o2ims-ca-file", "", "PEM file of CAs that sign the IMS's certificate (and the token endpoint's)")
	fs.StringVar(&f.certFile, "o2ims-cert-file", "", "PEM client certificate for mutual TLS with the IMS")
	fs.StringVar(&f.keyFile, "o2ims-key-file", "", "PEM key of --o2ims-cert-file")
	fs.StringVar(&f.tokenFile, "o2ims-token-file", "", "file holding a bearer token for the IMS, read at start")
	fs.StringVar(&f.tokenURL, "oauth2-token-url", "", "OAuth 2.0 token endpoint: tokens by the client credentials grant")
	fs.StringVar(&f.clientID, "oauth2-client-id", "", "OAuth 2.0 client id")
	fs.StringVar(&f.clientSecretFile, "oauth2-client-secret-file", "", "file holding the OAuth 2.0 client secret (or O2IMS_OAUTH2_CLIENT_SECRET)")
	fs.StringVar(&f.scopes, "oauth2-scopes", o2.ScopeRead+","+o2.ScopeWrite, "comma-separated scopes of the token requests")
}

func (f *imsClientFlags) client(userAgent string) (*o2.Client, error) {
	cfg := &o2.Config{Endpoint: f.endpoint, UserAgent: userAgent}
	if f.caFile != "" || f.certFile != "" || f.keyFile != "" {
		cfg.TLS = &o2.TLSConfig{CAFile: f.caFile, CertFile: f.certFile, KeyFile: f.keyFile}
	}
	switch {
	case f.tokenURL != "" && f.tokenFile != "":
		return nil, fmt.Errorf("--o2ims-token-file and --oauth2-token-url exclude each other")
	case f.tokenFile != "":
		tok, err := readSecretFile(f.tokenFile)
		if err != nil {
			return nil, fmt.Errorf("--o2ims-token-file: %w", err)
		}
		cfg.Authentication = &o2.AuthConfig{Type: o2.AuthBearer, Token: tok}
	case f.tokenURL != "":
		secret := os.Getenv("O2IMS_OAUTH2_CLIENT_SECRET")
		if f.clientSecretFile != "" {
			var err error
			if secret, err = readSecretFile(f.clientSecretFile); err != nil {
				return nil, fmt.Errorf("--oauth2-client-secret-file: %w", err)
			}
		}
		if f.clientID == "" || secret == "" {
			return nil, fmt.Errorf("--oauth2-token-url needs --oauth2-client-id and a client secret")
		}
		cfg.Authentication = &o2.AuthConfig{Type: o2.AuthOAuth2, OAuth2: &o2.OAuth2Config{
			TokenURL: f.tokenURL, ClientID: f.clientID, ClientSecret: secret, Scopes: splitList(f.scopes),
		}}
	}
	c, err := o2.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("--o2ims-endpoint: %w", err)
	}
	return c, nil
}

func readSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return s, nil
}

func newControllerCommand() *cobra.Command {
	var (
		common     commonFlags
		ims        imsClientFlags
		kubeconfig string
		opts       controller.Options
	)
	cmd := &cobra.Command{
		Use:   "controller",
		Short: "Run the NetworkIntent controller: nephoran.com/v1 NetworkIntents become O2 deployments",
		Long: `Watches the NetworkIntents of a Kubernetes cluster and runs each as a
deployment of the O2 IMS at --o2ims-endpoint: the intent is analysed (the
network functions its text or targetComponents name, replicas, high
availability, region, resources), mapped to CNF packages by the catalog,
created as one deployment, kept in step when the intent changes, and
deleted with the intent. The intent's status mirrors the deployment's
phase.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := common.configure(cmd.Flags())
			if err != nil {
				return err
			}
			// The library's own packages log through its global logger.
			ctrllog.SetLogger(logr.FromSlogHandler(logger.Handler()))
			rules := clientcmd.NewDefaultClientConfigLoadingRules()
			rules.ExplicitPath = kubeconfig
			kube, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
			if err != nil {
				return fmt.Errorf("kubeconfig: %w", err)
			}
			kube.UserAgent = "o2ims-controller/" + buildVersion()
			if opts.IMS, err = ims.client("o2ims-controller/" + buildVersion()); err != nil {
				return err
			}
			if opts.CatalogFile != "" && opts.CatalogConfigMap != "" {
				return fmt.Errorf("--catalog and --catalog-configmap exclude each other")
			}
			if opts.CatalogFile != "" {
				if _, err := intent.LoadCatalog(opts.CatalogFile); err != nil {
					return err
				}
			}
			opts.Kube = kube
			opts.Logger = logger
			return controller.Run(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	common.register(fs)
	ims.register(cmd)
	fs.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig of the cluster whose intents are watched (default: $KUBECONFIG, ~/.kube/config, or in-cluster)")
	fs.StringVar(&opts.Namespace, "namespace", "", "watch only this namespace (default: all)")
	fs.StringVar(&opts.CatalogFile, "catalog", "", "YAML catalog mapping network functions to CNF packages, read at each reconciliation")
	fs.StringVar(&opts.CatalogConfigMap, "catalog-configmap", "", "namespace/name of a ConfigMap whose key catalog.yaml is the catalog")
	fs.BoolVar(&opts.UseAdvisor, "use-advisor", false, "plan new deployments with the IMS's advisor (the rules plan them when it does not answer)")
	fs.BoolVar(&opts.InstallCRDs, "install-crds", false, "create or update the NetworkIntent CRD before starting")
	fs.StringVar(&opts.MetricsAddr, "metrics-bind-address", "0", "listen address of the controller's Prometheus metrics (0: off)")
	fs.StringVar(&opts.ProbeAddr, "health-probe-bind-address", "0", "listen address of /healthz and /readyz (0: off)")
	fs.BoolVar(&opts.LeaderElection, "leader-elect", false, "elect one active replica with a Lease")
	fs.StringVar(&opts.LeaderElectionNamespace, "leader-election-namespace", "", "namespace of the Lease (default: the pod's)")
	fs.IntVar(&opts.Workers, "workers", 4, "intents reconciled at once")
	fs.DurationVar(&opts.Poll, "poll-interval", 2*time.Second, "how often a deployment in progress is read")
	fs.DurationVar(&opts.Resync, "resync-interval", 30*time.Second, "how often a settled deployment is read")
	return cmd
}
