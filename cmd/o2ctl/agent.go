package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	o2 "github.com/nephoran/o2ims/pkg/client"
)

// agentCommand builds "o2ctl agent": the operator's side of edge-node
// enrolment (bootstrap tokens, approval, removal).
func (a *app) agentCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Manage edge-node enrolment: bootstrap tokens, approval and removal of nodes",
		Long: `Edge nodes join the O-Cloud by running "o2ims agent" with a bootstrap
token minted here. An IMS started with --agent-manual-approval keeps each
enrolment waiting until "o2ctl agent approve"; enrolled nodes are
resources of the token's pool. An IMS without its agent listener answers
every agent command with exit status 5: edge enrolment is off.`,
		Args: exactArgs(0, "a subcommand"),
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}

	token := &cobra.Command{
		Use:   "token",
		Short: "Mint, list and revoke bootstrap tokens",
		Args:  exactArgs(0, "a subcommand"),
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	var (
		req    o2.AgentTokenRequest
		output string
	)
	create := &cobra.Command{
		Use:   "create --pool POOL [--ttl DURATION] [--uses N] [--description TEXT]",
		Short: "Mint a bootstrap token; prints it once, with the command that enrols a node",
		Long: `Mint a bootstrap token enrolling up to --uses nodes into resource pool
--pool within --ttl (at most 720h). The token's secret is shown this once;
"o2ctl agent token list" shows the token without it. -o json prints the
token, its id, expiry, uses, the CA hash and the agent command.`,
		Example: `  o2ctl agent token create --pool edge-west --ttl 1h
  o2ctl agent token create --pool edge-west --ttl 24h --uses 10 --description "rack 4" -o json`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(output, outTable, outJSON, outYAML); err != nil {
				return err
			}
			if req.Pool == "" {
				return &usageError{fmt.Errorf("--pool is required")}
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			t, err := c.AgentTokens().Create(cmd.Context(), req)
			if err != nil {
				return err
			}
			switch output {
			case outJSON:
				return printJSON(a.stdout, t)
			case outYAML:
				return printYAML(a.stdout, t)
			}
			_, err = fmt.Fprintf(a.stdout, "token:    %s\nid:       %s\nca-hash:  %s\npool:     %s\nexpires:  %s\nuses:     %d\n\non the node: %s\n",
				t.Token, t.TokenID, t.CAHash, t.Pool, timeCell(t.ExpiresAt), t.UsesLeft, t.AgentCommand)
			return err
		},
	}
	f := create.Flags()
	f.StringVar(&req.Pool, "pool", "", "resource pool the token enrols nodes into")
	f.DurationVar(&req.TTL, "ttl", 24*time.Hour, "how long the token is valid (at most 720h)")
	f.IntVar(&req.Uses, "uses", 1, "how many nodes the token may enrol")
	f.StringVar(&req.Description, "description", "", "what the token is for")
	addOutputFlag(create, &output, outTable, outJSON, outYAML)

	var listOpts getOptions
	list := &cobra.Command{
		Use:   "list [ID...]",
		Short: "List the bootstrap tokens (never their secrets); the same as o2ctl get agenttokens",
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, ids []string) error {
			return a.get(cmd.Context(), cmd, "agenttokens", ids, &listOpts)
		},
	}
	addListFlags(list, &listOpts)

	del := a.deleteCommand("delete ID...", "Revoke bootstrap tokens", "agenttokens",
		`Revoke the tokens with the given IDs: they enrol nothing from then on.
Nodes enrolled with them are unaffected.`,
		func(ctx context.Context, c *o2.Client, id string) error { return c.AgentTokens().Delete(ctx, id) })
	token.AddCommand(create, list, del)

	var nodeOpts getOptions
	nodes := &cobra.Command{
		Use:   "nodes [NODE...]",
		Short: "List the edge nodes in every state of their enrolment; the same as o2ctl get agents",
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, ids []string) error {
			return a.get(cmd.Context(), cmd, "agents", ids, &nodeOpts)
		},
	}
	addListFlags(nodes, &nodeOpts)

	var approveOutput string
	approve := &cobra.Command{
		Use:   "approve NODE...",
		Short: "Approve enrolments waiting for approval (by node id or name)",
		Long: `Approve the enrolments of the given nodes (ids or names): each agent
collects its certificate the next time it asks, and its node becomes a
resource of its pool. A node not waiting for approval exits with status 5.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &usageError{fmt.Errorf("expected one or more nodes")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, ids []string) error {
			if err := checkFormat(approveOutput, outName, outJSON, outYAML); err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			for _, id := range ids {
				n, err := c.AgentNodes().Approve(cmd.Context(), id)
				if err != nil {
					return err
				}
				switch approveOutput {
				case outJSON:
					err = printJSON(a.stdout, n)
				case outYAML:
					err = printYAML(a.stdout, n)
				default:
					_, err = fmt.Fprintf(a.stdout, "agent/%s approved\n", n.Name)
				}
				if err != nil {
					return err
				}
			}
			return nil
		},
	}
	addOutputFlag(approve, &approveOutput, outName, outJSON, outYAML)

	delNode := a.deleteCommand("delete NODE...", "Remove edge nodes and revoke their certificates", "agents",
		`Remove the given nodes (ids or names) from the inventory and revoke every
certificate issued to them: their agents are refused from then on, at the
TLS handshake, and need a new token to enrol again.`,
		func(ctx context.Context, c *o2.Client, id string) error { return c.AgentNodes().Delete(ctx, id) })

	cmd.AddCommand(token, nodes, approve, delNode)
	return cmd
}

// addListFlags adds the flags of "o2ctl get" that list one kind.
func addListFlags(cmd *cobra.Command, o *getOptions) {
	f := cmd.Flags()
	addOutputFlag(cmd, &o.output, outTable, outWide, outJSON, outYAML, outName)
	f.StringVar(&o.filter, "filter", "", "SOL013 filter, such as (eq,pool,edge-west)")
	f.StringSliceVar(&o.fields, "fields", nil, "complex attributes to include")
	f.StringSliceVar(&o.excludeFields, "exclude-fields", nil, "attributes to leave out")
	f.BoolVar(&o.allFields, "all-fields", false, "include every attribute")
	f.IntVar(&o.limit, "limit", 0, fmt.Sprintf("page size, 1 to %d (default: the server's, 100)", o2.MaxLimit))
	f.BoolVar(&o.allPages, "all-pages", false, "fetch every page, not only the first")
}
