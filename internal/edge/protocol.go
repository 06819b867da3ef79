package edge

import (
	"time"

	"github.com/nephoran/o2ims/internal/ims"
)

// The agent protocol: JSON over HTTPS on the agent listener. Enrolment
// authenticates with a bootstrap token (Authorization: Bearer
// <id>.<secret>) and no client certificate; every other call
// authenticates with the node's client certificate only, and the node is
// the one the certificate names, whatever a body says. Errors are RFC 7807
// problems (Problem).
const (
	// PathEnroll takes an EnrollRequest: 201 EnrollResponse with the
	// certificate, or 202 EnrollResponse "pending" while the enrolment
	// waits for approval (the agent repeats the same request, with the
	// same key, to collect the certificate).
	PathEnroll = "/agent/v1/enroll"
	// PathRenew takes a RenewRequest and answers 200 CertificateResponse.
	PathRenew = "/agent/v1/renew"
	// PathHeartbeat takes a HeartbeatRequest and answers 200
	// HeartbeatResponse.
	PathHeartbeat = "/agent/v1/heartbeat"
	// PathInventory takes an InventoryRequest and answers 204.
	PathInventory = "/agent/v1/inventory"
)

// Enrolment outcomes (EnrollResponse.Status).
const (
	StatusEnrolled = "enrolled"
	StatusPending  = "pending"
)

// EnrollRequest asks for a client certificate for a node.
type EnrollRequest struct {
	// NodeName is the name the node claims; the CSR's CN must equal it.
	NodeName string `json:"nodeName"`
	// CSR is a PEM certificate request for the node's own key (RSA of
	// 2048 bits or more, or ECDSA P-256 or P-384).
	CSR string `json:"csr"`
	// Pool, when set, must be the pool of the bootstrap token: the token
	// decides, the agent's configuration can only agree.
	Pool         string   `json:"pool,omitempty"`
	Site         string   `json:"site,omitempty"`
	AgentVersion string   `json:"agentVersion,omitempty"`
	Addresses    []string `json:"addresses,omitempty"`
	// Inventory is the node's first inventory report.
	Inventory *Inventory `json:"inventory,omitempty"`
}

// CertificateResponse carries a signed client certificate.
type CertificateResponse struct {
	NodeID string `json:"nodeId"`
	// Certificate is the node's client certificate in PEM.
	Certificate string `json:"certificate,omitempty"`
	// CACertificate is the CA certificate in PEM, for the agent to trust
	// from then on.
	CACertificate            string  `json:"caCertificate,omitempty"`
	HeartbeatIntervalSeconds float64 `json:"heartbeatIntervalSeconds"`
}

// EnrollResponse answers an enrolment.
type EnrollResponse struct {
	Status string `json:"status"`
	CertificateResponse
	// RetryAfterSeconds, while pending, is when to ask again.
	RetryAfterSeconds float64 `json:"retryAfterSeconds,omitempty"`
}

// RenewRequest asks for a new certificate under the current one.
type RenewRequest struct {
	// CSR is a PEM certificate request whose CN is the node name; its key
	// may be new (rotation) or the current one.
	CSR string `json:"csr"`
}

// Report is what every report carries against replay: the agent's clock
// and a sequence number greater than the one of any report the node sent
// before.
type Report struct {
	// NodeID, when set, must be the node of the client certificate: a
	// node can only report for itself.
	NodeID    string    `json:"nodeId,omitempty"`
	Sequence  uint64    `json:"sequence"`
	Timestamp time.Time `json:"timestamp"`
}

// HeartbeatRequest renews the node's lease.
type HeartbeatRequest struct {
	Report
	AgentVersion string   `json:"agentVersion,omitempty"`
	Addresses    []string `json:"addresses,omitempty"`
	// InventoryHash is the hash of the agent's current inventory; when
	// the server holds another, it asks for the inventory.
	InventoryHash string `json:"inventoryHash,omitempty"`
}

// HeartbeatResponse dictates the agent's timing.
type HeartbeatResponse struct {
	HeartbeatIntervalSeconds float64 `json:"heartbeatIntervalSeconds"`
	// SendInventory asks for an inventory report: the server's copy is
	// missing or has another hash.
	SendInventory bool `json:"sendInventory,omitempty"`
}

// InventoryRequest reports the node's inventory.
type InventoryRequest struct {
	Report
	Inventory Inventory `json:"inventory"`
}

// Inventory is what the agent discovered on its node: the resource types
// and resources of an ims.Snapshot of the local provider. Exactly one
// resource has no parent: the host, which becomes the node's resource;
// the others are its devices. The server keeps its own ids (derived from
// the node and the ids here), so nodes cannot collide or overwrite each
// other's resources.
type Inventory struct {
	// Hash identifies the content; the agent computes it and sends again
	// when it changes.
	Hash          string             `json:"hash"`
	ResourceTypes []ims.ResourceType `json:"resourceTypes"`
	Resources     []ims.Resource     `json:"resources"`
}

// Problem is an RFC 7807 problem, as the IMS API writes them.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Instance string `json:"instance,omitempty"`
	// LastSequence, on a report refused as not newer than the last one,
	// is the sequence of the last report accepted from the node, so an
	// agent whose counter went back can continue after it.
	LastSequence *uint64 `json:"lastSequence,omitempty"`
}

// Seconds converts d for the protocol's *Seconds fields.
func Seconds(d time.Duration) float64 { return d.Seconds() }

// Duration converts a protocol *Seconds field back.
func Duration(seconds float64) time.Duration {
	return time.Duration(seconds * float64(time.Second))
}
