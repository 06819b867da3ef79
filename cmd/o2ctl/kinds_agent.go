package main

import (
	"context"
	"iter"
	"strconv"
	"strings"

	o2 "github.com/nephoran/o2ims/pkg/client"
)

// agentKinds returns the kinds of edge enrolment: the bootstrap tokens
// and the edge nodes.
func agentKinds() []*kind {
	return []*kind{
		erase(&kind{
			name: "agenttokens", singular: "agenttoken", aliases: []string{"tokens", "token"},
			title:         "agent token",
			describeOrder: []string{"tokenId", "pool", "description", "createdAt", "expiresAt", "maxUses", "uses", "usesLeft", "expired"},
			columns: []column{
				col("ID", func(t o2.AgentToken) string { return t.TokenID }),
				col("POOL", func(t o2.AgentToken) string { return t.Pool }),
				col("EXPIRES", func(t o2.AgentToken) string { return timeCell(t.ExpiresAt) }),
				col("USES LEFT", func(t o2.AgentToken) string { return strconv.Itoa(t.UsesLeft) }),
				col("EXPIRED", func(t o2.AgentToken) string { return strconv.FormatBool(t.Expired) }),
			},
			wide: []column{
				col("USES", func(t o2.AgentToken) string { return strconv.Itoa(t.Uses) + "/" + strconv.Itoa(t.MaxUses) }),
				col("CREATED", func(t o2.AgentToken) string { return timeCell(t.CreatedAt) }),
				col("DESCRIPTION", func(t o2.AgentToken) string { return t.Description }),
			},
		}, ops[o2.AgentToken]{
			list: func(ctx context.Context, c *o2.Client, _ string, o o2.ListOptions) (*o2.Page[o2.AgentToken], error) {
				return c.AgentTokens().List(ctx, o)
			},
			all: func(ctx context.Context, c *o2.Client, _ string, o o2.ListOptions) iter.Seq2[o2.AgentToken, error] {
				return c.AgentTokens().All(ctx, o)
			},
			get: func(ctx context.Context, c *o2.Client, _, id string) (*o2.AgentToken, error) {
				return c.AgentTokens().Get(ctx, id)
			},
			id: func(t o2.AgentToken) string { return t.TokenID },
		}),
		erase(&kind{
			name: "agents", singular: "agent", aliases: []string{"agentnodes", "agentnode", "edgenodes", "edgenode"},
			title: "edge node",
			describeOrder: []string{"nodeId", "name", "pool", "site", "state", "reachable", "agentVersion", "addresses", "remoteAddress",
				"tokenId", "createdAt", "enrolledAt", "lastHeartbeat", "certificateSerial", "certificateNotAfter"},
			columns: []column{
				col("ID", func(n o2.AgentNode) string { return n.NodeID }),
				col("NAME", func(n o2.AgentNode) string { return n.Name }),
				col("POOL", func(n o2.AgentNode) string { return n.Pool }),
				col("STATE", func(n o2.AgentNode) string { return string(n.State) }),
				col("REACHABLE", func(n o2.AgentNode) string {
					if n.State != o2.AgentNodeEnrolled {
						return ""
					}
					return strconv.FormatBool(n.Reachable)
				}),
				col("VERSION", func(n o2.AgentNode) string { return n.AgentVersion }),
				col("LAST HEARTBEAT", func(n o2.AgentNode) string { return timeCell(n.LastHeartbeat) }),
			},
			wide: []column{
				col("ADDRESSES", func(n o2.AgentNode) string { return strings.Join(n.Addresses, ",") }),
				col("CERTIFICATE", func(n o2.AgentNode) string { return n.CertificateSerial }),
				col("CERTIFICATE EXPIRES", func(n o2.AgentNode) string { return timeCell(n.CertificateNotAfter) }),
				col("TOKEN", func(n o2.AgentNode) string { return n.TokenID }),
			},
		}, ops[o2.AgentNode]{
			list: func(ctx context.Context, c *o2.Client, _ string, o o2.ListOptions) (*o2.Page[o2.AgentNode], error) {
				return c.AgentNodes().List(ctx, o)
			},
			all: func(ctx context.Context, c *o2.Client, _ string, o o2.ListOptions) iter.Seq2[o2.AgentNode, error] {
				return c.AgentNodes().All(ctx, o)
			},
			get: func(ctx context.Context, c *o2.Client, _, id string) (*o2.AgentNode, error) {
				return c.AgentNodes().Get(ctx, id)
			},
			id: func(n o2.AgentNode) string { return n.NodeID },
		}),
	}
}
