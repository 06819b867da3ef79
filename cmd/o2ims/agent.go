package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/nephoran/o2ims/internal/agent"
	"github.com/nephoran/o2ims/internal/app"
	"github.com/nephoran/o2ims/internal/secrets"
	"github.com/nephoran/o2ims/internal/sqlstore"
)

// newAgentCommand runs the edge-node agent; its "token" subcommand mints
// bootstrap tokens on the server side.
func newAgentCommand() *cobra.Command {
	var (
		common commonFlags
		opts   agent.Options
	)
	cmd := &cobra.Command{
		Use:   "agent --server URL --bootstrap-token TOKEN --ca-hash HASH --pool POOL",
		Short: "Run the edge-node agent: enrol this node with the IMS, then heartbeat and report its inventory",
		Long: `Enrols this node with the agent listener of an O2 IMS (o2ims serve
--agent-listen) using a bootstrap token and the hash of the IMS's edge CA
(both printed by "o2ims agent token create"), keeps its key and client
certificate in --state-dir, then heartbeats, reports the node's hardware
inventory when it changes and renews its certificate, until SIGTERM. Once
enrolled, the token and hash are no longer needed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := common.configure(cmd.Flags())
			if err != nil {
				return err
			}
			if opts.NodeName == "" {
				host, err := os.Hostname()
				if err != nil {
					return fmt.Errorf("--node-name: no host name to default to: %w", err)
				}
				opts.NodeName = strings.ToLower(host)
			}
			opts.Version = buildVersion()
			a, err := agent.New(opts, logger)
			if err != nil {
				return err
			}
			logger.Info("edge agent starting", "server", opts.Server, "node", opts.NodeName, "pool", opts.Pool, "state_dir", opts.StateDir)
			return a.Run(cmd.Context())
		},
	}
	fs := cmd.Flags()
	common.registerLog(fs)
	fs.StringVar(&opts.Server, "server", "", "the IMS's agent listener, https://host:port")
	fs.StringVar(&opts.BootstrapToken, "bootstrap-token", "", "bootstrap token <id>.<secret> to enrol with (or O2IMS_BOOTSTRAP_TOKEN)")
	fs.StringVar(&opts.CAHash, "ca-hash", "", "sha256:<hex> pinning the IMS's edge CA on first contact")
	fs.StringVar(&opts.Pool, "pool", "", "resource pool to join; must be the token's pool (default: the token's)")
	fs.StringVar(&opts.Site, "site", "", "site reported for this node")
	fs.StringVar(&opts.NodeName, "node-name", "", "name of this node, a lower-case DNS name (default: the host name)")
	fs.StringVar(&opts.Root, "root", "/", "filesystem root whose proc, sys and etc describe the node")
	fs.StringVar(&opts.StateDir, "state-dir", "/var/lib/o2ims-agent", "directory keeping the node's key, certificate and the IMS's CA")
	cmd.AddCommand(newAgentTokenCommand())
	return cmd
}

func newAgentTokenCommand() *cobra.Command {
	token := &cobra.Command{
		Use:   "token",
		Short: "Manage the bootstrap tokens edge nodes enrol with (server side, against the database)",
	}
	var (
		common         commonFlags
		pool           string
		ttl            time.Duration
		uses           int
		description    string
		secretsKeyFile string
		output         string
	)
	create := &cobra.Command{
		Use:   "create --pool POOL",
		Short: "Mint a bootstrap token enrolling up to --uses nodes into --pool within --ttl; prints it with the CA hash",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := common.configure(cmd.Flags())
			if err != nil {
				return err
			}
			if output != "text" && output != "json" {
				return fmt.Errorf("--output: text or json, not %q", output)
			}
			key, err := readSecretsKey(secretsKeyFile, os.Getenv("O2IMS_SECRETS_KEY"))
			if err != nil {
				return err
			}
			var box *secrets.Box
			if len(key) > 0 {
				if box, err = secrets.NewBox(key); err != nil {
					return err
				}
			}
			ctx := cmd.Context()
			store, err := sqlstore.Open(ctx, common.database(), logger)
			if err != nil {
				return err
			}
			defer store.Close()
			cur, latest, err := store.SchemaVersion(ctx)
			if err != nil {
				return err
			}
			if cur < latest {
				return fmt.Errorf("the database is at schema version %d, this binary needs %d: start the server or run o2ims migrate first", cur, latest)
			}
			svc, err := app.OpenEdge(ctx, common.dataDir, box, store, app.AgentOptions{}, nil, logger)
			if err != nil {
				return err
			}
			t, err := svc.CreateToken(ctx, pool, ttl, uses, description)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if output == "json" {
				return json.NewEncoder(out).Encode(map[string]any{"token": t.Token, "id": t.ID, "caHash": t.CAHash,
					"pool": t.Pool, "expiresAt": t.ExpiresAt.UTC().Format(time.RFC3339), "uses": t.MaxUses})
			}
			fmt.Fprintf(out, "token:    %s\nca-hash:  %s\npool:     %s\nexpires:  %s\nuses:     %d\n\non the node: %s\n",
				t.Token, t.CAHash, t.Pool, t.ExpiresAt.UTC().Format(time.RFC3339), t.MaxUses, t.AgentCommand("https://<agent-listen>"))
			return nil
		},
	}
	fs := create.Flags()
	common.register(fs)
	fs.StringVar(&pool, "pool", "", "resource pool the token enrols into (a DNS label)")
	fs.DurationVar(&ttl, "ttl", 24*time.Hour, "how long the token is valid (at most 720h)")
	fs.IntVar(&uses, "uses", 1, "how many nodes the token may enrol")
	fs.StringVar(&description, "description", "", "what the token is for")
	fs.StringVar(&secretsKeyFile, "secrets-key-file", "", "the server's secrets key file, when it seals the edge CA key (or O2IMS_SECRETS_KEY)")
	fs.StringVarP(&output, "output", "o", "text", "text or json")
	token.AddCommand(create)
	return token
}

// DefaultAgentListen is where serve's agent listener listens unless
// --agent-listen says otherwise (empty turns it off).
const DefaultAgentListen = "127.0.0.1:8443"

// defaultAgentHosts is the SAN of the agent listener's certificate when
// --agent-hosts is not given: the host of listen, or this host's name (and
// localhost) when it listens on every address.
func defaultAgentHosts(listen string) []string {
	host, _, err := net.SplitHostPort(listen)
	if err == nil && host != "" {
		if ip := net.ParseIP(host); ip == nil || !ip.IsUnspecified() {
			return []string{host}
		}
	}
	hosts := []string{"localhost"}
	if name, err := os.Hostname(); err == nil && name != "" {
		hosts = append([]string{strings.ToLower(name)}, hosts...)
	}
	return hosts
}
