package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	o2 "github.com/nephoran/o2ims/pkg/client"
)

// Environment variables o2ctl reads. Flags win over them, and they win
// over the configuration file.
const (
	envEndpoint = "O2CTL_ENDPOINT"
	envToken    = "O2CTL_TOKEN"
	envContext  = "O2CTL_CONTEXT"
	envConfig   = "O2CTL_CONFIG"
)

// app is one invocation of o2ctl: its streams, environment and global
// flags. Nothing of it outlives run.
type app struct {
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string

	configPath  string
	contextName string
	endpoint    string
	token       string
	insecure    bool
	timeout     time.Duration
}

// run executes o2ctl with args and returns its exit status. Data goes to
// stdout; errors go to stderr as "o2ctl: <message>".
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	a := &app{stdout: stdout, stderr: stderr, getenv: getenv}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "o2ctl: %s\n", strings.TrimPrefix(oneLine(err.Error()), "o2: "))
	var ue *usageError
	if errors.As(err, &ue) || isCobraUsageError(err) {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
	return exitCode(err)
}

// isCobraUsageError reports whether err is one of the errors cobra itself
// returns for a wrong invocation.
func isCobraUsageError(err error) bool {
	msg := err.Error()
	return strings.HasPrefix(msg, "unknown command") || strings.HasPrefix(msg, "unknown flag") ||
		strings.HasPrefix(msg, "unknown shorthand flag") || strings.Contains(msg, "arg(s)")
}

// oneLine joins the lines of a message, so each error is one stderr line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

// rootCommand builds the o2ctl command tree.
func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "o2ctl",
		Short: "Command-line client of the Nephoran O2 IMS",
		Long: `o2ctl reads the inventory of an O-RAN O2 IMS (resource pools, resources,
resource types, deployment managers, alarm dictionaries) and its alarms and
probable causes, acknowledges and clears alarms, manages subscriptions to
inventory changes and alarm events, and sets the alarm retention. It
registers Kubernetes clusters as providers, uploads CNF packages, and
runs the lifecycle of CNF instances: create, instantiate, scale,
terminate, delete.

The IMS is chosen by --endpoint, $O2CTL_ENDPOINT, or the current context of
the configuration file (` + "`o2ctl config --help`" + `); flags win over the
environment, which wins over the file.

Examples:
  o2ctl get resourcepools
  o2ctl get res --filter '(eq,tags,disk)' -o wide
  o2ctl get rt --all-pages -o json
  o2ctl describe rp 4c7b9ff0-11d1-59a7-bed2-5c6c20088c15
  o2ctl get alarms --filter '(lte,perceivedSeverity,1)'
  o2ctl alarm ack d6c22996-0cb4-42dd-85e9-c714807ea976
  o2ctl subscribe --callback https://smo.example.net/o2 --filter '(eq,objectType,ResourcePool)'
  o2ctl alarm-config set --retention-days 7
  o2ctl provider add edge-1 --kubeconfig ~/.kube/edge-1.yaml
  o2ctl cnf package upload --metadata meta.json --content app-0.3.1.tgz
  o2ctl cnf instantiate $CNF --flavour small --dm $DM --pool $POOL --wait
  o2ctl get lcmopoccs --filter "(eq,cnfInstanceId,$CNF)"

` + exitStatusHelp,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })

	pf := root.PersistentFlags()
	pf.StringVar(&a.configPath, "config", "", "configuration file (default $XDG_CONFIG_HOME/o2ctl/config.yaml)")
	pf.StringVar(&a.contextName, "context", "", "context of the configuration file to use ($"+envContext+")")
	pf.StringVar(&a.endpoint, "endpoint", "", "base URL of the IMS ($"+envEndpoint+")")
	pf.StringVar(&a.token, "token", "", "bearer token ($"+envToken+")")
	pf.BoolVar(&a.insecure, "insecure-skip-tls-verify", false, "do not verify the server certificate (insecure)")
	pf.DurationVar(&a.timeout, "request-timeout", 0, "bound of each HTTP request (default 30s)")
	_ = root.RegisterFlagCompletionFunc("context", a.completeContexts)

	root.AddCommand(
		a.getCommand(),
		a.describeCommand(),
		a.alarmCommand(),
		a.subscribeCommand(),
		a.unsubscribeCommand(),
		a.alarmConfigCommand(),
		a.cnfCommand(),
		a.deployCommand(),
		a.provisionCommand(),
		a.adviseCommand(),
		a.providerCommand(),
		a.agentCommand(),
		a.cloudInfoCommand(),
		a.versionCommand(),
		a.configCommand(),
	)
	return root
}

// client returns an SDK client for the IMS the flags, the environment and
// the configuration file select.
func (a *app) client() (*o2.Client, error) {
	cfg, err := a.clientConfig()
	if err != nil {
		return nil, err
	}
	return o2.NewClient(cfg)
}

// exactArgs is cobra.ExactArgs reporting a usage error.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return &usageError{fmt.Errorf("expected %s, got %d argument(s)", what, len(args))}
		}
		return nil
	}
}
