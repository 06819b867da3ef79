package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"sigs.k8s.io/yaml"

	"github.com/nephoran/o2ims/internal/a1"
	"github.com/nephoran/o2ims/internal/advisor"
	"github.com/nephoran/o2ims/internal/app"
	"github.com/nephoran/o2ims/internal/deployment"
	"github.com/nephoran/o2ims/internal/edge"
	"github.com/nephoran/o2ims/internal/eventstream"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/logging"
	"github.com/nephoran/o2ims/internal/notify"
	"github.com/nephoran/o2ims/internal/provider/local"
	"github.com/nephoran/o2ims/internal/secrets"
	"github.com/nephoran/o2ims/internal/sqlstore"
	"github.com/nephoran/o2ims/internal/tracing"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "o2ims",
		Short:         "O-RAN O2 Infrastructure Management Service",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServeCommand(), newControllerCommand(), newMigrateCommand(), newBackupCommand(), newRestoreCommand(), newAgentCommand(), newVersionCommand())
	return root
}

// commonFlags are shared by every command that touches the database.
type commonFlags struct {
	config      string
	dataDir     string
	databaseURL string
	logLevel    string
	logFormat   string
	logOutput   string
	logMaxSize  int
	logBackups  int
}

func (c *commonFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&c.dataDir, "data-dir", "./data", "directory of the embedded SQLite database, of the local GitOps repository and of the edge CA (edge/)")
	fs.StringVar(&c.databaseURL, "database-url", "", "PostgreSQL URL (postgres://…); empty selects SQLite in --data-dir")
	c.registerLog(fs)
}

// registerLog registers --config and the log flags only, for commands that
// do not touch the database (the edge agent).
func (c *commonFlags) registerLog(fs *pflag.FlagSet) {
	fs.StringVar(&c.config, "config", "", "YAML configuration file; its keys are the flag names (env O2IMS_CONFIG)")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.logFormat, "log-format", "text", "json or text")
	fs.StringVar(&c.logOutput, "log-output", "stderr", "stdout, stderr or file:/path (rotated by --log-max-size)")
	fs.IntVar(&c.logMaxSize, "log-max-size", 100, "MiB a file:/path log grows to before it is rotated to path.1")
	fs.IntVar(&c.logBackups, "log-max-backups", 5, "rotated log files kept (path.1 … path.N)")
}

func (c *commonFlags) logger() (*logging.Logger, error) {
	return logging.Open(logging.Config{Format: c.logFormat, Level: c.logLevel, Output: c.logOutput, MaxSizeMB: c.logMaxSize, MaxBackups: c.logBackups}, os.Stdout, os.Stderr)
}

// reloadLogging answers SIGHUP until ctx ends: the level and format are
// read again from the environment and the configuration file (the
// command line still wins) and a file output is reopened.
func (c *commonFlags) reloadLogging(ctx context.Context, fs *pflag.FlagSet, l *logging.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		}
		level, format, err := reloadedLogFlags(fs, os.Getenv, os.ReadFile)
		if err == nil {
			err = l.Reconfigure(format, level)
		}
		if rerr := l.Reopen(); err == nil {
			err = rerr
		}
		if err != nil {
			l.Error("SIGHUP: logging unchanged", "err", err)
			continue
		}
		l.Info("SIGHUP: logging reconfigured", "logLevel", level, "logFormat", format)
	}
}

// reloadedLogFlags reads log-level and log-format as a fresh start would:
// the command line, else the environment, else the configuration file.
func reloadedLogFlags(fs *pflag.FlagSet, getenv func(string) string, readFile func(string) ([]byte, error)) (level, format string, err error) {
	_, file, err := readConfigFile(fs, getenv, readFile)
	if err != nil {
		return "", "", err
	}
	value := func(name string) string {
		f := fs.Lookup(name)
		if f.Changed {
			return f.Value.String()
		}
		if v := getenv(envName(name)); v != "" {
			return v
		}
		if v, ok := file[name]; ok {
			return configString(v)
		}
		return f.DefValue
	}
	return value("log-level"), value("log-format"), nil
}

// configure fills the flags fs from the environment and the
// configuration file (applyConfig) and returns the logger they select.
func (c *commonFlags) configure(fs *pflag.FlagSet) (*slog.Logger, error) {
	if err := applyConfig(fs, os.Getenv, os.ReadFile); err != nil {
		return nil, err
	}
	l, err := c.logger()
	if err != nil {
		return nil, err
	}
	return l.Logger, nil
}

func (c *commonFlags) database() sqlstore.Options {
	return sqlstore.Options{URL: c.databaseURL, DataDir: c.dataDir}
}

func newServeCommand() *cobra.Command {
	var (
		common             commonFlags
		listen             string
		globalCloudID      string
		cloudName          string
		cloudDesc          string
		serviceURI         string
		localProvider      bool
		localGitOps        bool
		gitAuthorName      string
		gitAuthorEmail     string
		siteName           string
		locationID         string
		location           string
		refreshInterval    time.Duration
		shutdownTimeout    time.Duration
		notifyMaxAge       time.Duration
		notifyTimeout      time.Duration
		denyLoopback       bool
		denyCIDRs          string
		allowCIDRs         string
		utilization        float64
		sec                securityFlags
		secretsKeyFile     string
		credentialsDir     string
		exposeDMS          bool
		debugListen        string
		accessLogLevel     string
		knowledgeWebhook   string
		eventStream        eventstream.Options
		tracingOpts        tracing.Options
		tombstoneRetention time.Duration
		cnfOpTimeout       time.Duration
		reservationTTL     time.Duration
		reserve            bool
		a1Endpoint         string
		a1Interval         time.Duration
		a1Types            string
		a1Reports          app.A1ReportOptions
		catalogFile        string
		pricesFile         string
		modelEndpoint      string
		modelName          string
		promptFile         string
		agentOpts          app.AgentOptions
		agentHosts         string
		templatesDir       string
		provisionTimeout   time.Duration
		cloudPoll          time.Duration
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the O2 IMS server",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			file, err := loadConfig(cmd.Flags(), os.Getenv, os.ReadFile)
			if err != nil {
				return err
			}
			provs, err := providersFrom(file)
			if err != nil {
				return err
			}
			places, err := placesFrom(file)
			if err != nil {
				return err
			}
			secretsKey, err := readSecretsKey(secretsKeyFile, os.Getenv("O2IMS_SECRETS_KEY"))
			if err != nil {
				return err
			}
			log, err := common.logger()
			if err != nil {
				return err
			}
			defer log.Close()
			go common.reloadLogging(cmd.Context(), cmd.Flags(), log)
			logger := log.Logger
			if serviceURI == "" {
				serviceURI = "http://" + listen
			}
			deny, err := notify.ParsePrefixes(denyCIDRs)
			if err != nil {
				return fmt.Errorf("--callback-deny-cidrs: %w", err)
			}
			allow, err := notify.ParsePrefixes(allowCIDRs)
			if err != nil {
				return fmt.Errorf("--callback-allow-cidrs: %w", err)
			}
			modelOpts := advisor.ModelOptions{Endpoint: modelEndpoint, Model: modelName, APIKey: os.Getenv("O2IMS_ADVISOR_API_KEY")}
			if promptFile != "" {
				b, err := os.ReadFile(promptFile)
				if err != nil {
					return fmt.Errorf("--advisor-system-prompt-file: %w", err)
				}
				modelOpts.SystemPrompt = string(b)
			}
			a1PolicyTypes, err := parsePolicyTypes(a1Types)
			if err != nil {
				return fmt.Errorf("--a1-policy-types: %w", err)
			}
			if utilization <= 0 || utilization > 1 {
				return fmt.Errorf("--utilization-threshold: must be in (0, 1], got %v", utilization)
			}
			var accessLevel slog.Level
			if err := accessLevel.UnmarshalText([]byte(accessLogLevel)); err != nil {
				return fmt.Errorf("--access-log-level: %w", err)
			}
			authOpts, err := sec.authOptions()
			if err != nil {
				return err
			}
			tlsOpts, err := sec.tlsOptions()
			if err != nil {
				return err
			}
			notifyTLS, err := sec.notifyTLS()
			if err != nil {
				return err
			}
			notifyOAuth2, err := sec.notifyOAuth2()
			if err != nil {
				return err
			}
			if tlsOpts != nil && !cmd.Flags().Changed("service-uri") && os.Getenv("O2IMS_SERVICE_URI") == "" {
				serviceURI = "https://" + listen
			}
			if agentOpts.Listen != "" {
				if agentOpts.Hosts = splitList(agentHosts); len(agentOpts.Hosts) == 0 {
					agentOpts.Hosts = defaultAgentHosts(agentOpts.Listen)
				}
				if agentOpts.HeartbeatInterval <= 0 || agentOpts.HeartbeatGrace < 1 || agentOpts.CertValidity <= 0 {
					return fmt.Errorf("--agent-heartbeat-interval and --agent-cert-validity must be positive, --agent-heartbeat-grace at least 1")
				}
			}
			a, err := app.New(cmd.Context(), app.Options{
				Listen:   listen,
				Database: common.database(),
				Cloud: inventory.CloudConfig{
					GlobalCloudID: globalCloudID,
					Name:          cloudName,
					Description:   cloudDesc,
					ServiceURI:    serviceURI,
				},
				LocalProvider:                localProvider,
				Local:                        local.Options{SiteName: siteName},
				Place:                        inventory.Place{Location: ims.Location{GlobalLocationID: locationID, Address: location}},
				Locations:                    places.Locations,
				OCloudSites:                  places.Sites,
				RefreshInterval:              refreshInterval,
				ShutdownTimeout:              shutdownTimeout,
				Logger:                       logger,
				CallbackPolicy:               notify.Policy{DenyLoopback: denyLoopback, Deny: deny, Allow: allow},
				NotificationMaxAge:           notifyMaxAge,
				NotificationTimeout:          notifyTimeout,
				UtilizationThreshold:         utilization,
				Auth:                         authOpts,
				InsecureAllowUnauthenticated: sec.insecureAllowUnauthenticated,
				PublicPaths:                  splitList(sec.publicPaths),
				TLS:                          tlsOpts,
				RateLimit:                    sec.rateLimitOptions(),
				MaxBodyBytes:                 sec.maxBodyBytes,
				NotifyTLS:                    notifyTLS,
				NotifyOAuth2:                 notifyOAuth2,
				Providers:                    provs,
				GitOps:                       app.GitOpsOptions{Local: localGitOps, DataDir: common.dataDir, AuthorName: gitAuthorName, AuthorEmail: gitAuthorEmail},
				SecretsKey:                   secretsKey,
				ProviderCredentialsDir:       credentialsDir,
				ExposeDMSCredentials:         exposeDMS,
				DebugListen:                  debugListen,
				AccessLogLevel:               accessLevel,
				KnowledgeWebhook:             knowledgeWebhook,
				EventStream:                  eventStreamOptions(eventStream),
				Tracing:                      tracingOpts,
				TombstoneRetention:           tombstoneRetention,
				CNFOperationTimeout:          cnfOpTimeout,
				Deployments:                  deployment.Options{ReservationTTL: reservationTTL, ReserveByDefault: reserve},
				AdvisorCatalog:               catalogFile,
				AdvisorPrices:                pricesFile,
				AdvisorModel:                 modelOpts,
				A1:                           app.A1Options{Endpoint: a1Endpoint, SyncInterval: a1Interval, PolicyTypes: a1PolicyTypes, Reports: a1Reports},
				Agent:                        agentOpts,
				Provisioning:                 app.ProvisioningOptions{TemplatesDir: provisioningTemplatesDir(templatesDir, common.config, os.Getenv), Timeout: provisionTimeout, CloudPollInterval: cloudPoll},
			})
			if err != nil {
				return err
			}
			return a.Run(cmd.Context())
		},
	}
	fs := cmd.Flags()
	common.register(fs)
	fs.StringVar(&listen, "listen", "127.0.0.1:8080", "address to serve the APIs on")
	fs.StringVar(&globalCloudID, "global-cloud-id", "", "globalCloudId assigned to this O-Cloud by the SMO")
	fs.StringVar(&cloudName, "cloud-name", "nephoran-ocloud", "name of this O-Cloud")
	fs.StringVar(&cloudDesc, "cloud-description", "Nephoran O-Cloud", "description of this O-Cloud")
	fs.StringVar(&serviceURI, "service-uri", "", "external base URI of this IMS (default http://<listen>)")
	fs.BoolVar(&localProvider, "local-provider", true, "publish the host this server runs on as inventory")
	fs.BoolVar(&localGitOps, "local-gitops", true, "keep the GitOps deployment manager local-gitops: a git repository under --data-dir that deployments naming it are committed to, served read-only at /gitops/o2ims-deployments.git")
	fs.StringVar(&gitAuthorName, "gitops-author-name", "Nephoran O2 IMS", "author and committer name of the commits of deployment packages")
	fs.StringVar(&gitAuthorEmail, "gitops-author-email", "o2ims@nephoran.io", "author and committer email of the commits of deployment packages")
	fs.StringVar(&siteName, "site-name", "", "name of the host's O-Cloud site and resource pool (default <hostname>-site)")
	fs.StringVar(&locationID, "global-location-id", "", "globalLocationId of the O-Cloud's default location, where the host's site is (default \"default\")")
	fs.StringVar(&location, "location", "", "address of the O-Cloud's default location (default \"host <hostname>\")")
	fs.DurationVar(&refreshInterval, "refresh-interval", time.Minute, "how often providers are re-discovered")
	fs.DurationVar(&shutdownTimeout, "shutdown-timeout", 15*time.Second, "how long requests in flight may finish on SIGTERM")
	fs.DurationVar(&notifyMaxAge, "notification-max-age", 24*time.Hour, "how long an undelivered notification is retried before it expires")
	fs.DurationVar(&notifyTimeout, "notification-timeout", 10*time.Second, "timeout of one delivery attempt")
	fs.BoolVar(&denyLoopback, "callback-deny-loopback", false, "refuse subscription callbacks on loopback addresses")
	fs.StringVar(&denyCIDRs, "callback-deny-cidrs", "", "comma-separated CIDRs callbacks may not reach (link-local and metadata addresses are always refused)")
	fs.StringVar(&allowCIDRs, "callback-allow-cidrs", "", "comma-separated CIDRs; when set, callbacks may reach only these")
	fs.Float64Var(&utilization, "utilization-threshold", 0.9, "resource pool utilization above which an alarm is raised and placement refuses the pool")
	fs.DurationVar(&reservationTTL, "reservation-ttl", 15*time.Minute, "how long capacity held for a deployment waits for its workloads to run")
	fs.BoolVar(&reserve, "reserve-capacity", true, "hold capacity for deployments that do not say reserveCapacity")
	fs.StringVar(&catalogFile, "catalog", "", "YAML file mapping network functions (amf, smf, …) to CNF packages for the advisor (default: the package whose vnfdId is the function's name)")
	fs.StringVar(&pricesFile, "price-table", "", "YAML file of prices per provider kind (cpuCoreHour, memoryGiBHour, currency) for the advisor's cost estimates")
	fs.StringVar(&modelEndpoint, "advisor-model-endpoint", "", "OpenAI-compatible API base (e.g. https://api.openai.com/v1) the advisor asks first; its key in O2IMS_ADVISOR_API_KEY (empty: rule-based plans only)")
	fs.StringVar(&modelName, "advisor-model", "gpt-4o-mini", "model name for --advisor-model-endpoint")
	fs.StringVar(&promptFile, "advisor-system-prompt-file", "", "file with the advisor model's system prompt (default: built in)")
	fs.StringVar(&a1Endpoint, "a1-endpoint", "", "A1-P base URL of a Near-RT RIC whose policies follow the deployments (empty: no A1 sync)")
	fs.DurationVar(&a1Interval, "a1-sync-interval", 30*time.Second, "period of the full A1 policy sync (deployment changes also trigger one)")
	fs.StringVar(&a1Types, "a1-policy-types", "", "policy type ids of the templates, e.g. qos-optimization=20008,traffic-steering=20009,recovery=20010 (default: the template names)")
	registerA1ReportFlags(fs, &a1Reports)
	sec.register(fs)
	fs.DurationVar(&cnfOpTimeout, "cnf-operation-timeout", 5*time.Minute, "how long a CNF operation waits for its workloads to become ready")
	fs.StringVar(&templatesDir, "provisioning-templates-dir", "", "directory of the operator's managed infrastructure templates (*.yaml), beside the built-in ones (default: templates/ beside the --config file)")
	fs.DurationVar(&provisionTimeout, "provisioning-timeout", 30*time.Minute, "how long a provisioning request's apply or delete may take before the request is FAILED")
	fs.DurationVar(&cloudPoll, "provisioning-cloud-poll-interval", 10*time.Second, "how often a CloudFormation stack or ARM deployment under way is checked")
	fs.DurationVar(&tombstoneRetention, "tombstone-retention", 7*24*time.Hour, "how long the changedSince feeds keep deletions; an older stamp is answered 410")
	fs.StringVar(&tracingOpts.Endpoint, "tracing-endpoint", "", "OTLP collector traces are exported to: http(s)://host:4318 (OTLP/HTTP) or grpc(s)://host:4317; empty uses the OTEL_EXPORTER_OTLP_* variables, with neither tracing is off")
	fs.Float64Var(&tracingOpts.SamplingRate, "tracing-sampling-rate", 1, "share of new traces recorded, 0 to 1 (a request with a sampled traceparent is always recorded)")
	fs.StringVar(&eventStream.URL, "nats-url", "", "NATS server(s) (nats://host:4222, comma-separated) the outbox is published to as a JetStream stream: one message per inventory or alarm change")
	fs.StringVar(&eventStream.CredsFile, "nats-creds-file", "", "NATS credentials file (user JWT and nkey seed) for --nats-url")
	fs.StringVar(&eventStream.StreamName, "nats-stream", eventstream.DefaultStreamName, "JetStream stream of --nats-url")
	fs.StringVar(&eventStream.SubjectPrefix, "nats-subject-prefix", eventstream.DefaultSubjectPrefix, "subject prefix of the event stream: <prefix>.<inventory|alarm>.<object type>.<event>")
	fs.DurationVar(&eventStream.MaxAge, "nats-max-age", eventstream.DefaultMaxAge, "how long the JetStream stream keeps a message")
	fs.StringVar(&knowledgeWebhook, "knowledge-webhook", "", "URL notified of every change of a resource pool or deployment (the RAG feeds' documents), as a subscription the server keeps")
	fs.StringVar(&accessLogLevel, "access-log-level", "info", "level of the line logged for every HTTP request: debug, info, warn or error (below --log-level it is not logged, at no cost)")
	fs.StringVar(&debugListen, "debug-listen", "", "loopback address serving /debug/pprof/ and /debug/vars (expvar), e.g. 127.0.0.1:6060; off when empty")
	fs.BoolVar(&exposeDMS, "expose-dms-credentials", false, "show a cluster's credentials in its deployment manager's O2dms profile to tokens with the scope o2ims:dms-credentials (needs OIDC authentication)")
	fs.StringVar(&credentialsDir, "provider-credentials-dir", "", "directory whose kubeconfig files providers registered through the API may name (kubeconfigPath, relative to it); without it the API takes inline kubeconfigs only")
	fs.StringVar(&secretsKeyFile, "secrets-key-file", "", "file holding the 32-byte key (base64 or hex) that encrypts provider credentials and the edge CA key at rest (or O2IMS_SECRETS_KEY)")
	fs.StringVar(&agentOpts.Listen, "agent-listen", DefaultAgentListen, "TLS address edge-node agents enrol and heartbeat on, e.g. 0.0.0.0:8443 (empty: edge enrolment off)")
	fs.StringVar(&agentHosts, "agent-hosts", "", "comma-separated names and addresses agents reach --agent-listen by, the SANs of its certificate (default: its host, or this host's name when it listens on all addresses)")
	fs.DurationVar(&agentOpts.HeartbeatInterval, "agent-heartbeat-interval", edge.DefaultHeartbeatInterval, "how often agents heartbeat")
	fs.IntVar(&agentOpts.HeartbeatGrace, "agent-heartbeat-grace", edge.DefaultHeartbeatGrace, "heartbeat intervals without a heartbeat after which a node is unreachable (O2IMSEdgeNodeUnreachable)")
	fs.BoolVar(&agentOpts.ManualApproval, "agent-manual-approval", false, "enrolled edge nodes wait for an operator's approval (o2ctl agent approve) before they get their certificate and become resources")
	fs.DurationVar(&agentOpts.CertValidity, "agent-cert-validity", edge.DefaultCertValidity, "validity of the client certificates issued to edge nodes (renewed by the agent)")
	return cmd
}

func newMigrateCommand() *cobra.Command {
	var (
		common    commonFlags
		toVersion int64
	)
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply database migrations (all, or up or down to --to-version)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := common.configure(cmd.Flags())
			if err != nil {
				return err
			}
			store, err := sqlstore.Open(cmd.Context(), common.database(), logger)
			if err != nil {
				return err
			}
			defer store.Close()
			if cmd.Flags().Changed("to-version") {
				err = store.MigrateTo(cmd.Context(), toVersion)
			} else {
				err = store.Migrate(cmd.Context())
			}
			if err != nil {
				return err
			}
			cur, latest, err := store.SchemaVersion(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "schema version %d (latest %d)\n", cur, latest)
			return nil
		},
	}
	common.register(cmd.Flags())
	cmd.Flags().Int64Var(&toVersion, "to-version", 0, "migrate up or down to exactly this version (0 removes every table)")
	return cmd
}

func newBackupCommand() *cobra.Command {
	var (
		common commonFlags
		to     string
	)
	cmd := &cobra.Command{
		Use:   "backup --to FILE",
		Short: "Write a consistent copy of the database while the server runs (SQLite: VACUUM INTO; PostgreSQL: pg_dump)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := common.configure(cmd.Flags())
			if err != nil {
				return err
			}
			if to == "" {
				return fmt.Errorf("--to names the backup file")
			}
			store, err := sqlstore.Open(cmd.Context(), common.database(), logger)
			if err != nil {
				return err
			}
			defer store.Close()
			cur, _, err := store.SchemaVersion(cmd.Context())
			if err != nil {
				return err
			}
			if err := store.Backup(cmd.Context(), to); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "backed up schema version %d to %s\n", cur, to)
			return nil
		},
	}
	common.register(cmd.Flags())
	cmd.Flags().StringVar(&to, "to", "", "the backup file to write (must not exist)")
	return cmd
}

func newRestoreCommand() *cobra.Command {
	var (
		common commonFlags
		from   string
	)
	cmd := &cobra.Command{
		Use:   "restore --from FILE",
		Short: "Make a backup the database (SQLite of --data-dir, or --database-url with pg_restore), migrated to this binary's schema (the server must be stopped)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := common.configure(cmd.Flags())
			if err != nil {
				return err
			}
			if from == "" {
				return fmt.Errorf("--from names the backup file")
			}
			if common.databaseURL != "" {
				restored, now, err := sqlstore.RestorePostgres(cmd.Context(), from, common.databaseURL, logger)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "restored schema version %d into the PostgreSQL database, now at %d\n", restored, now)
				return nil
			}
			restored, now, err := sqlstore.RestoreSQLite(cmd.Context(), from, common.dataDir, logger)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "restored schema version %d into %s, now at %d\n", restored, common.dataDir, now)
			return nil
		},
	}
	common.register(cmd.Flags())
	cmd.Flags().StringVar(&from, "from", "", "the backup file to restore")
	return cmd
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), buildVersion())
		},
	}
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// applyConfig fills every flag not given on the command line from the
// environment (O2IMS_<FLAG>, dashes as underscores) or else from the YAML
// file named by --config / O2IMS_CONFIG, whose keys are the flag names.
func applyConfig(fs *pflag.FlagSet, getenv func(string) string, readFile func(string) ([]byte, error)) error {
	_, err := loadConfig(fs, getenv, readFile)
	return err
}

// loadConfig is applyConfig that also returns the file's structured keys
// (those that are not flags, such as "providers").
func loadConfig(fs *pflag.FlagSet, getenv func(string) string, readFile func(string) ([]byte, error)) (map[string]any, error) {
	cfgPath, file, err := readConfigFile(fs, getenv, readFile)
	if err != nil {
		return nil, err
	}
	if cfgPath != "" {
		for k := range file {
			if structuredKeys[k] {
				continue
			}
			if fs.Lookup(k) == nil || k == "config" {
				return nil, fmt.Errorf("config %s: unknown key %q", cfgPath, k)
			}
		}
	}
	var errs []string
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed || f.Name == "config" {
			return
		}
		if v := getenv(envName(f.Name)); v != "" {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Sprintf("%s: %v", envName(f.Name), err))
			}
			return
		}
		if v, ok := file[f.Name]; ok && !structuredKeys[f.Name] {
			if err := f.Value.Set(configString(v)); err != nil {
				errs = append(errs, fmt.Sprintf("config key %s: %v", f.Name, err))
			}
		}
	})
	if len(errs) > 0 {
		return nil, fmt.Errorf("invalid configuration: %s", strings.Join(errs, "; "))
	}
	return file, nil
}

// eventStreamOptions is the event stream the flags configure, or nil.
func eventStreamOptions(o eventstream.Options) *eventstream.Options {
	if o.URL == "" {
		return nil
	}
	return &o
}

// envName is the environment variable of a flag: O2IMS_<FLAG>, dashes as
// underscores.
func envName(flag string) string {
	return "O2IMS_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// readConfigFile reads the YAML file named by --config, else O2IMS_CONFIG;
// no file is an empty map.
func readConfigFile(fs *pflag.FlagSet, getenv func(string) string, readFile func(string) ([]byte, error)) (string, map[string]any, error) {
	cfgPath, _ := fs.GetString("config")
	if !fs.Changed("config") {
		cfgPath = cmp.Or(getenv(envName("config")), cfgPath)
	}
	file := map[string]any{}
	if cfgPath == "" {
		return "", file, nil
	}
	b, err := readFile(cfgPath)
	if err != nil {
		return "", nil, fmt.Errorf("read config: %w", err)
	}
	if err := yaml.Unmarshal(b, &file); err != nil {
		return "", nil, fmt.Errorf("config %s: %w", cfgPath, err)
	}
	return cfgPath, file, nil
}

// structuredKeys are configuration-file keys that are not flags.
var structuredKeys = map[string]bool{"providers": true, "locations": true, "oCloudSites": true}

// configPlaces are the locations and O-Cloud sites of the configuration
// file, in the shapes of inventory v2.
type configPlaces struct {
	Locations []ims.Location
	Sites     []ims.OCloudSite
}

// placesFrom decodes the "locations" and "oCloudSites" lists of the
// configuration file; the server validates them.
func placesFrom(file map[string]any) (configPlaces, error) {
	var out configPlaces
	for key, into := range map[string]any{"locations": &out.Locations, "oCloudSites": &out.Sites} {
		raw, ok := file[key]
		if !ok {
			continue
		}
		b, err := json.Marshal(raw)
		if err != nil {
			return out, err
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(into); err != nil {
			return out, fmt.Errorf("config key %s: %w", key, err)
		}
	}
	return out, nil
}

// providersFrom decodes the "providers" list of the configuration file.
func providersFrom(file map[string]any) ([]app.ProviderConfig, error) {
	raw, ok := file["providers"]
	if !ok {
		return nil, nil
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	var out []app.ProviderConfig
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("config key providers: %w (each entry: name, type, and kubeconfigPath, context for kubernetes; repository, branch, directory, username, passwordFile, targetCluster for gitops; region, vpc, instance_types, tags, capacity, endpoint, credentialsFile, profile for aws; subscriptionId, tenantId, clientId, clientSecretFile, resourceGroup, location, networking, vmSizes, tags, capacity, cloud for azure)", err)
	}
	for i, p := range out {
		if p.Name == "" || p.Type == "" {
			return nil, fmt.Errorf("config key providers[%d]: name and type are required", i)
		}
	}
	return out, nil
}

func configString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	default:
		return fmt.Sprint(v)
	}
}

// readSecretsKey reads the key from a file, or else from the environment
// value; no key is not an error.
func readSecretsKey(file, env string) ([]byte, error) {
	src := env
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("--secrets-key-file: %w", err)
		}
		src = string(b)
	}
	if src == "" {
		return nil, nil
	}
	key, err := secrets.ParseKey(src)
	if err != nil {
		return nil, fmt.Errorf("secrets key: %w", err)
	}
	return key, nil
}

// parsePolicyTypes reads "template=typeId,…"; empty is nil (the template
// names are the type ids).
func parsePolicyTypes(s string) (map[string]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	out := map[string]string{}
	for _, item := range strings.Split(s, ",") {
		name, id, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok || id == "" || !slices.Contains(a1.Templates, name) {
			return nil, fmt.Errorf("%q: want TEMPLATE=TYPEID with TEMPLATE one of %s", item, strings.Join(a1.Templates, ", "))
		}
		out[name] = id
	}
	return out, nil
}

// provisioningTemplatesDir is --provisioning-templates-dir, else the
// templates directory beside the configuration file (--config or
// O2IMS_CONFIG), else none.
func provisioningTemplatesDir(flag, config string, getenv func(string) string) string {
	if flag != "" {
		return flag
	}
	if config == "" {
		config = getenv(envName("config"))
	}
	if config == "" {
		return ""
	}
	return filepath.Join(filepath.Dir(config), "templates")
}
