package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/nephoran/o2ims/internal/edge"
	nephapi "github.com/nephoran/o2ims/internal/httpapi/gen/nephoran"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/query"
)

// The operator's side of edge-node enrolment under /o2ims/v1/agents:
// bootstrap tokens and the nodes that enrolled with them, through the edge
// service of the agent listener.

// errEdgeOff answers every agent request of a server without its agent
// listener. 409, not 503: the server is not failing and will not recover
// by itself (nothing changes until it is restarted with a listener), so a
// client must not retry, and the SDK retries 503.
var errEdgeOff = ims.Errorf(ims.ECONFLICT, "edge enrolment is off: the server runs without its agent listener (--agent-listen), so it has no agent tokens or edge nodes")

// DefaultAgentTokenTTL is the life of a token whose request names no ttl.
const DefaultAgentTokenTTL = 24 * time.Hour

var agentTokenSchema = &query.Schema{Name: "agentTokens", Object: "agent token", Attrs: []query.Attr{
	{Name: "tokenId", Type: query.String},
	{Name: "pool", Type: query.String},
	{Name: "description", Type: query.String},
	{Name: "createdAt", Type: query.Time},
	{Name: "expiresAt", Type: query.Time},
	{Name: "maxUses", Type: query.Number},
	{Name: "uses", Type: query.Number},
	{Name: "usesLeft", Type: query.Number},
	{Name: "expired", Type: query.Bool},
}}

var agentNodeSchema = &query.Schema{Name: "agentNodes", Object: "edge node", Attrs: []query.Attr{
	{Name: "nodeId", Type: query.String},
	{Name: "name", Type: query.String},
	{Name: "pool", Type: query.String},
	{Name: "site", Type: query.String},
	{Name: "state", Type: query.String},
	{Name: "reachable", Type: query.Bool},
	{Name: "tokenId", Type: query.String},
	{Name: "agentVersion", Type: query.String},
	{Name: "addresses", Type: query.String, List: true, Complex: true},
	{Name: "remoteAddress", Type: query.String},
	{Name: "createdAt", Type: query.Time},
	{Name: "enrolledAt", Type: query.Time},
	{Name: "lastHeartbeat", Type: query.Time},
	{Name: "certificateSerial", Type: query.String},
	{Name: "certificateNotAfter", Type: query.Time},
}}

// nodeStates are the API's names of the enrolment states.
var nodeStates = map[edge.NodeState]string{
	edge.NodePending:  string(nephapi.PendingApproval),
	edge.NodeApproved: string(nephapi.Approved),
	edge.NodeEnrolled: string(nephapi.Enrolled),
}

func apiTime(t time.Time) string { return t.UTC().Format(query.TimeLayout) }

// agentTokenView is the representation of a token: never its secret.
func agentTokenView(t edge.Token, now time.Time) map[string]any {
	v := map[string]any{"tokenId": t.ID, "pool": t.Pool, "createdAt": apiTime(t.CreatedAt), "expiresAt": apiTime(t.ExpiresAt),
		"maxUses": t.MaxUses, "uses": t.Uses, "usesLeft": t.UsesLeft(), "expired": t.Expired(now)}
	if t.Description != "" {
		v["description"] = t.Description
	}
	return v
}

func agentNodeView(n edge.Node) map[string]any {
	v := map[string]any{"nodeId": n.ID, "name": n.Name, "pool": n.Pool, "state": nodeStates[n.State],
		"reachable": n.State == edge.NodeEnrolled && n.Reachable, "addresses": append([]string{}, n.Addresses...)}
	for k, s := range map[string]string{"site": n.Site, "tokenId": n.TokenID, "agentVersion": n.AgentVersion,
		"remoteAddress": n.RemoteAddress, "certificateSerial": n.CertSerial} {
		if s != "" {
			v[k] = s
		}
	}
	for k, t := range map[string]time.Time{"createdAt": n.CreatedAt, "enrolledAt": n.EnrolledAt,
		"lastHeartbeat": n.LastHeartbeat, "certificateNotAfter": n.CertNotAfter} {
		if !t.IsZero() {
			v[k] = apiTime(t)
		}
	}
	return v
}

func (h *nephoranHandlers) edgeService() (*edge.Service, error) {
	if h.edge == nil {
		return nil, errEdgeOff
	}
	return h.edge, nil
}

func (h *nephoranHandlers) ListAgentTokens(ctx context.Context, req nephapi.ListAgentTokensRequestObject) (nephapi.ListAgentTokensResponseObject, error) {
	svc, err := h.edgeService()
	if err != nil {
		return nil, err
	}
	tokens, err := svc.Tokens(ctx)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	values := make([]any, 0, len(tokens))
	for _, t := range tokens {
		values = append(values, agentTokenView(t, now))
	}
	p := req.Params
	page, err := staticList(agentTokenSchema, values, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker))
	if err != nil {
		return nil, err
	}
	return newListResponse(ctx, page), nil
}

func (h *nephoranHandlers) CreateAgentToken(ctx context.Context, req nephapi.CreateAgentTokenRequestObject) (nephapi.CreateAgentTokenResponseObject, error) {
	svc, err := h.edgeService()
	if err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, ims.Errorf(ims.EINVALID, "an agent token body is required")
	}
	ttl := DefaultAgentTokenTTL
	if s := deref(req.Body.Ttl); s != "" {
		if ttl, err = time.ParseDuration(s); err != nil {
			return nil, ims.Errorf(ims.EINVALID, "ttl: %q is not a duration such as 1h or 90m", s)
		}
	}
	uses := 1
	if req.Body.Uses != nil {
		uses = *req.Body.Uses
	}
	t, err := svc.CreateToken(ctx, req.Body.Pool, ttl, uses, deref(req.Body.Description))
	if err != nil {
		return nil, err
	}
	loc := "/o2ims/v1/agents/tokens/" + url.PathEscape(t.ID)
	return nephapi.CreateAgentToken201JSONResponse{
		Body: nephapi.AgentTokenCreated{
			TokenId: t.ID, Token: t.Token, Pool: t.Pool, Description: req.Body.Description,
			ExpiresAt: t.ExpiresAt.UTC(), MaxUses: t.MaxUses, UsesLeft: t.MaxUses,
			CaHash: t.CAHash, AgentCommand: t.AgentCommand(h.agentURL),
		},
		Headers: nephapi.CreateAgentToken201ResponseHeaders{Location: &loc},
	}, nil
}

func (h *nephoranHandlers) GetAgentToken(ctx context.Context, req nephapi.GetAgentTokenRequestObject) (nephapi.GetAgentTokenResponseObject, error) {
	svc, err := h.edgeService()
	if err != nil {
		return nil, err
	}
	t, err := svc.Token(ctx, req.TokenId)
	if err != nil {
		return nil, err
	}
	p := req.Params
	return view[nephapi.AgentToken](agentTokenSchema, agentTokenView(t, time.Now()), selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}

func (h *nephoranHandlers) DeleteAgentToken(ctx context.Context, req nephapi.DeleteAgentTokenRequestObject) (nephapi.DeleteAgentTokenResponseObject, error) {
	svc, err := h.edgeService()
	if err != nil {
		return nil, err
	}
	if err := svc.RevokeToken(ctx, req.TokenId); err != nil {
		return nil, err
	}
	return nephapi.DeleteAgentToken204Response{}, nil
}

func (h *nephoranHandlers) ListAgentNodes(ctx context.Context, req nephapi.ListAgentNodesRequestObject) (nephapi.ListAgentNodesResponseObject, error) {
	svc, err := h.edgeService()
	if err != nil {
		return nil, err
	}
	nodes, err := svc.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	values := make([]any, 0, len(nodes))
	for _, n := range nodes {
		values = append(values, agentNodeView(n))
	}
	p := req.Params
	page, err := staticList(agentNodeSchema, values, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker))
	if err != nil {
		return nil, err
	}
	return newListResponse(ctx, page), nil
}

func (h *nephoranHandlers) GetAgentNode(ctx context.Context, req nephapi.GetAgentNodeRequestObject) (nephapi.GetAgentNodeResponseObject, error) {
	svc, err := h.edgeService()
	if err != nil {
		return nil, err
	}
	n, err := svc.Node(ctx, req.NodeId)
	if err != nil {
		return nil, err
	}
	p := req.Params
	return view[nephapi.AgentNode](agentNodeSchema, agentNodeView(n), selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}

func (h *nephoranHandlers) ApproveAgentNode(ctx context.Context, req nephapi.ApproveAgentNodeRequestObject) (nephapi.ApproveAgentNodeResponseObject, error) {
	svc, err := h.edgeService()
	if err != nil {
		return nil, err
	}
	n, err := svc.Approve(ctx, req.NodeId)
	if err != nil {
		return nil, err
	}
	v, err := fromMap[nephapi.AgentNode](agentNodeView(n))
	if err != nil {
		return nil, err
	}
	return nephapi.ApproveAgentNode200JSONResponse(v), nil
}

func (h *nephoranHandlers) DeleteAgentNode(ctx context.Context, req nephapi.DeleteAgentNodeRequestObject) (nephapi.DeleteAgentNodeResponseObject, error) {
	svc, err := h.edgeService()
	if err != nil {
		return nil, err
	}
	if err := svc.DeleteNode(ctx, req.NodeId); err != nil {
		return nil, err
	}
	return nephapi.DeleteAgentNode204Response{}, nil
}

func (r listResponse) VisitListAgentTokensResponse(w http.ResponseWriter) error { return r.write(w) }
func (r listResponse) VisitListAgentNodesResponse(w http.ResponseWriter) error  { return r.write(w) }
func (r objectResponse) VisitGetAgentTokenResponse(w http.ResponseWriter) error {
	return r.write(w)
}
func (r objectResponse) VisitGetAgentNodeResponse(w http.ResponseWriter) error { return r.write(w) }
