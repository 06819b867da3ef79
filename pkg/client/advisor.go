package o2

import (
	"context"
	"errors"
	"iter"
	"time"
)

// RecommendationRequest asks the advisor for a deployment plan.
type RecommendationRequest struct {
	// Intent is the intent in words; it is required.
	Intent           string                     `json:"intent"`
	IntentType       string                     `json:"intentType,omitempty"`
	TargetComponents []string                   `json:"targetComponents,omitempty"`
	Region           string                     `json:"region,omitempty"`
	NetworkSlice     string                     `json:"networkSlice,omitempty"`
	Replicas         int                        `json:"replicas,omitempty"`
	Constraints      *RecommendationConstraints `json:"constraints,omitempty"`
}

// RecommendationConstraints narrow what the advisor may recommend.
type RecommendationConstraints struct {
	Providers      []string     `json:"providers,omitempty"`
	PoolSelector   string       `json:"poolSelector,omitempty"`
	MinCapacity    ResourceList `json:"minCapacity,omitempty"`
	MaxMonthlyCost *float64     `json:"maxMonthlyCost,omitempty"`
}

// IntentFunction is a network function of an analysed intent.
type IntentFunction struct {
	Name     string `json:"name"`
	Replicas int    `json:"replicas"`
}

// IntentRequirements are what the advisor read from an intent.
type IntentRequirements struct {
	IntentType       string           `json:"intentType"`
	Functions        []IntentFunction `json:"functions"`
	HighAvailability bool             `json:"highAvailability"`
	Spread           int              `json:"spread,omitempty"`
	Region           string           `json:"region,omitempty"`
	CPU              string           `json:"cpu,omitempty"`
	Memory           string           `json:"memory,omitempty"`
	Latency          string           `json:"latency,omitempty"`
	Bandwidth        string           `json:"bandwidth,omitempty"`
	NetworkSlice     string           `json:"networkSlice,omitempty"`
	Reasons          []string         `json:"reasons"`
}

// PoolCost is the monthly cost of what a plan runs on one pool.
type PoolCost struct {
	ResourcePoolID   string  `json:"resourcePoolId"`
	ResourcePoolName string  `json:"resourcePoolName,omitempty"`
	Provider         string  `json:"provider"`
	Monthly          float64 `json:"monthly"`
}

// CostEstimate is a plan's estimated cost.
type CostEstimate struct {
	Currency string     `json:"currency"`
	Monthly  float64    `json:"monthly"`
	PerPool  []PoolCost `json:"perPool"`
}

// Recommendation is a plan the advisor made: Plan can be passed to
// DeploymentService.Create as it is.
type Recommendation struct {
	RecommendationID string             `json:"recommendationId"`
	Intent           string             `json:"intent"`
	CreatedAt        time.Time          `json:"createdAt,omitzero"`
	Source           string             `json:"source"` // rules or model
	Requirements     IntentRequirements `json:"requirements"`
	Plan             DeploymentSpec     `json:"plan"`
	Placement        *PlacementStatus   `json:"placement,omitempty"`
	EstimatedCost    CostEstimate       `json:"estimatedCost"`
	Timeline         struct {
		EstimatedMinutes int      `json:"estimatedMinutes"`
		Steps            []string `json:"steps"`
	} `json:"timeline"`
	Confidence  float64  `json:"confidence"`
	Reasons     []string `json:"reasons"`
	ModelAnswer string   `json:"modelAnswer,omitempty"`
}

// AdvisorService asks the IMS for deployment plans. Get one with
// Client.Advisor.
type AdvisorService struct {
	col collection[Recommendation]
}

// Advisor returns the service of the advisor.
func (c *Client) Advisor() *AdvisorService {
	return &AdvisorService{col: newCollection[Recommendation](c, "recommendation", NephoranAPIPrefix, "advisor", "recommendations")}
}

// Recommend analyses an intent and returns the stored recommendation. It
// is never retried. An intent that fits no pool is a ProblemError with
// status 422 (IsUnprocessable) naming why each pool was refused.
func (s *AdvisorService) Recommend(ctx context.Context, req RecommendationRequest) (*Recommendation, error) {
	if req.Intent == "" {
		return nil, errors.New("o2: RecommendationRequest.Intent is empty")
	}
	return s.col.create(ctx, req)
}

// Get returns the recommendation with identifier id.
func (s *AdvisorService) Get(ctx context.Context, id string) (*Recommendation, error) {
	return s.col.get(ctx, id)
}

// List returns the page of recommendations opts select.
func (s *AdvisorService) List(ctx context.Context, opts ListOptions) (*Page[Recommendation], error) {
	return s.col.list(ctx, opts)
}

// All iterates over every recommendation opts select.
func (s *AdvisorService) All(ctx context.Context, opts ListOptions) iter.Seq2[Recommendation, error] {
	return s.col.all(ctx, opts)
}
