package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// configCommand builds "o2ctl config" and its subcommands.
func (a *app) configCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Manage the contexts of the configuration file",
		Long: `Manage the named contexts of the configuration file.

The file is --config, else $O2CTL_CONFIG, else
$XDG_CONFIG_HOME/o2ctl/config.yaml, else ~/.config/o2ctl/config.yaml:

  current-context: lab
  contexts:
  - name: lab
    endpoint: https://ims.lab.example.net
    auth:
      type: oauth2              # none, bearer or oauth2
      token-url: https://sso.lab.example.net/token
      client-id: smo
      client-secret: s3cret
      scopes: [o2ims:read]
    tls:
      ca-file: lab-ca.pem       # relative to the configuration file

The context is --context, else $O2CTL_CONTEXT, else current-context.`,
		Args: exactArgs(0, "a subcommand"),
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(a.useContextCommand(), a.getContextsCommand(), a.currentContextCommand(),
		a.setContextCommand(), a.deleteContextCommand())
	return cmd
}

func (a *app) useContextCommand() *cobra.Command {
	return &cobra.Command{
		Use:               "use-context NAME",
		Short:             "Make NAME the current context",
		Args:              exactArgs(1, "a context name"),
		ValidArgsFunction: a.completeContexts,
		RunE: func(cmd *cobra.Command, args []string) error {
			cf, path, err := a.loadConfig()
			if err != nil {
				return err
			}
			if cf.find(args[0]) == nil {
				return fmt.Errorf("context %q is not defined in %s", args[0], path)
			}
			cf.CurrentContext = args[0]
			if err := saveConfig(cf, path); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "Switched to context %q.\n", args[0])
			return nil
		},
	}
}

func (a *app) getContextsCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "get-contexts",
		Short: "List the contexts; the current one is marked with *",
		Args:  exactArgs(0, "no argument"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cf, _, err := a.loadConfig()
			if err != nil {
				return err
			}
			current := first(a.contextName, a.getenv(envContext), cf.CurrentContext)
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 3, ' ', 0)
			fmt.Fprintln(tw, "CURRENT\tNAME\tENDPOINT\tAUTH")
			for _, c := range cf.Contexts {
				mark := ""
				if c.Name == current {
					mark = "*"
				}
				auth := "none"
				if c.Auth != nil {
					if sdk, err := c.Auth.sdk(); err != nil {
						auth = "invalid"
					} else if sdk != nil {
						auth = string(sdk.Type)
					}
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", mark, c.Name, orNone(c.Endpoint), auth)
			}
			return tw.Flush()
		},
	}
}

func (a *app) currentContextCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "current-context",
		Short: "Print the current context",
		Args:  exactArgs(0, "no argument"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cf, _, err := a.loadConfig()
			if err != nil {
				return err
			}
			name := first(a.contextName, a.getenv(envContext), cf.CurrentContext)
			if name == "" {
				return fmt.Errorf("no current context is set")
			}
			fmt.Fprintln(a.stdout, name)
			return nil
		},
	}
}

func (a *app) deleteContextCommand() *cobra.Command {
	return &cobra.Command{
		Use:               "delete-context NAME",
		Short:             "Delete the context NAME",
		Args:              exactArgs(1, "a context name"),
		ValidArgsFunction: a.completeContexts,
		RunE: func(cmd *cobra.Command, args []string) error {
			cf, path, err := a.loadConfig()
			if err != nil {
				return err
			}
			kept := cf.Contexts[:0]
			for _, c := range cf.Contexts {
				if c.Name != args[0] {
					kept = append(kept, c)
				}
			}
			if len(kept) == len(cf.Contexts) {
				return fmt.Errorf("context %q is not defined in %s", args[0], path)
			}
			cf.Contexts = kept
			if cf.CurrentContext == args[0] {
				cf.CurrentContext = ""
			}
			if err := saveConfig(cf, path); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "Deleted context %q.\n", args[0])
			return nil
		},
	}
}

// setContextOptions are the flags of "config set-context".
type setContextOptions struct {
	endpoint, authType, token, tokenURL, clientID, clientSecret string
	scopes                                                      []string
	caFile, certFile, keyFile, serverName                       string
	insecure, use                                               bool
}

func (a *app) setContextCommand() *cobra.Command {
	var o setContextOptions
	cmd := &cobra.Command{
		Use:   "set-context NAME",
		Short: "Create the context NAME or change the given settings of it",
		Long: `Create the context NAME, or change the settings given as flags of an
existing one; settings not given are kept. The first context created
becomes the current one, as does NAME with --use.

Examples:
  o2ctl config set-context lab --endpoint https://ims.lab.example.net --use
  o2ctl config set-context lab --auth-type oauth2 --token-url https://sso/token \
      --client-id smo --client-secret s3cret --scopes o2ims:read
  o2ctl config set-context local --endpoint http://127.0.0.1:8080 --auth-type none`,
		Args:              exactArgs(1, "a context name"),
		ValidArgsFunction: a.completeContexts,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.setContext(cmd, args[0], &o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.endpoint, "endpoint", "", "base URL of the IMS")
	f.StringVar(&o.authType, "auth-type", "", "authentication: none, bearer or oauth2")
	f.StringVar(&o.token, "token", "", "bearer token")
	f.StringVar(&o.tokenURL, "token-url", "", "OAuth 2.0 token endpoint")
	f.StringVar(&o.clientID, "client-id", "", "OAuth 2.0 client ID")
	f.StringVar(&o.clientSecret, "client-secret", "", "OAuth 2.0 client secret")
	f.StringSliceVar(&o.scopes, "scopes", nil, "OAuth 2.0 scopes, comma-separated (o2ims:read,o2ims:write)")
	f.StringVar(&o.caFile, "ca-file", "", "PEM file of certificate authorities to trust")
	f.StringVar(&o.certFile, "cert-file", "", "PEM client certificate")
	f.StringVar(&o.keyFile, "key-file", "", "PEM key of the client certificate")
	f.StringVar(&o.serverName, "tls-server-name", "", "name to verify the server certificate against")
	f.BoolVar(&o.insecure, "insecure-skip-tls-verify", false, "do not verify the server certificate (insecure)")
	f.BoolVar(&o.use, "use", false, "make NAME the current context")
	_ = cmd.RegisterFlagCompletionFunc("auth-type", cobra.FixedCompletions([]string{"none", "bearer", "oauth2"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// setContext applies the flags of "config set-context" that were given.
func (a *app) setContext(cmd *cobra.Command, name string, o *setContextOptions) error {
	if strings.TrimSpace(name) == "" {
		return &usageError{fmt.Errorf("the context name is empty")}
	}
	cf, path, err := a.loadConfig()
	if err != nil {
		return err
	}
	c := cf.find(name)
	created := c == nil
	if created {
		cf.Contexts = append(cf.Contexts, contextEntry{Name: name})
		c = &cf.Contexts[len(cf.Contexts)-1]
	}
	changed := cmd.Flags().Changed
	if changed("endpoint") {
		c.Endpoint = o.endpoint
	}
	auth := c.Auth
	if auth == nil {
		auth = &authEntry{}
	}
	set := func(flag string, dst *string, v string) {
		if changed(flag) {
			*dst = v
		}
	}
	set("auth-type", &auth.Type, o.authType)
	set("token", &auth.Token, o.token)
	set("token-url", &auth.TokenURL, o.tokenURL)
	set("client-id", &auth.ClientID, o.clientID)
	set("client-secret", &auth.ClientSecret, o.clientSecret)
	if changed("scopes") {
		auth.Scopes = o.scopes
	}
	if _, err := auth.sdk(); err != nil {
		return &usageError{err}
	}
	if auth.isZero() {
		c.Auth = nil
	} else {
		c.Auth = auth
	}
	tls := c.TLS
	if tls == nil {
		tls = &tlsEntry{}
	}
	abs := func(flag string, dst *string, v string) error {
		if !changed(flag) {
			return nil
		}
		if v != "" {
			var err error
			if v, err = filepath.Abs(v); err != nil {
				return err
			}
		}
		*dst = v
		return nil
	}
	for _, f := range []struct {
		flag string
		dst  *string
		v    string
	}{{"ca-file", &tls.CAFile, o.caFile}, {"cert-file", &tls.CertFile, o.certFile}, {"key-file", &tls.KeyFile, o.keyFile}} {
		if err := abs(f.flag, f.dst, f.v); err != nil {
			return err
		}
	}
	set("tls-server-name", &tls.ServerName, o.serverName)
	if changed("insecure-skip-tls-verify") {
		tls.InsecureSkipVerify = o.insecure
	}
	if *tls != (tlsEntry{}) {
		c.TLS = tls
	} else {
		c.TLS = nil
	}
	if o.use || cf.CurrentContext == "" {
		cf.CurrentContext = name
	}
	if err := saveConfig(cf, path); err != nil {
		return err
	}
	verb := "Modified"
	if created {
		verb = "Created"
	}
	fmt.Fprintf(a.stdout, "%s context %q in %s.\n", verb, name, path)
	return nil
}

// completeContexts completes the names of the configuration file's
// contexts.
func (a *app) completeContexts(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	cf, _, err := a.loadConfig()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	names := make([]string, 0, len(cf.Contexts))
	for _, c := range cf.Contexts {
		names = append(names, c.Name+"\t"+c.Endpoint)
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}
