package v1

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupVersion is the API group and version of these types.
var GroupVersion = schema.GroupVersion{Group: "nephoran.com", Version: "v1"}

// AddToScheme registers the types of this group with a scheme.
func AddToScheme(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, &NetworkIntent{}, &NetworkIntentList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}

// IntentType says what an intent asks for.
// +kubebuilder:validation:Enum=deployment;optimization;scaling;maintenance
type IntentType string

// The intent types.
const (
	IntentDeployment   IntentType = "deployment"
	IntentOptimization IntentType = "optimization"
	IntentScaling      IntentType = "scaling"
	IntentMaintenance  IntentType = "maintenance"
)

// Priority orders intents.
// +kubebuilder:validation:Enum=low;medium;high;critical
type Priority string

// NetworkFunction is a network function a NetworkIntent can target.
// Upper case spellings (AMF) are accepted as the Nephoran platform
// writes them.
// +kubebuilder:validation:Enum=amf;smf;upf;nrf;udm;udr;pcf;ausf;nssf;near-rt-ric;xapp;AMF;SMF;UPF;NRF;UDM;UDR;PCF;AUSF;NSSF;NEAR-RT-RIC;XAPP
type NetworkFunction string

// ResourceConstraints are the resources each replica asks for.
type ResourceConstraints struct {
	// CPU per replica, a Kubernetes quantity such as "500m" or "2".
	// +kubebuilder:validation:Pattern=`^[0-9]+(\.[0-9]+)?m?$`
	// +optional
	CPU string `json:"cpu,omitempty"`
	// Memory per replica, a Kubernetes quantity such as "512Mi".
	// +kubebuilder:validation:Pattern=`^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$`
	// +optional
	Memory string `json:"memory,omitempty"`
	// Storage per replica, a Kubernetes quantity.
	// +kubebuilder:validation:Pattern=`^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$`
	// +optional
	Storage string `json:"storage,omitempty"`
}

// NetworkIntentSpec is what the intent asks for.
type NetworkIntentSpec struct {
	// Intent is the request in words, such as "Deploy 5G AMF with high
	// availability in US West region".
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1000
	Intent string `json:"intent"`
	// Description is free text for people.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Description string `json:"description,omitempty"`
	// IntentType is what the intent asks for; deployment by default.
	// +kubebuilder:default=deployment
	// +optional
	IntentType IntentType `json:"intentType,omitempty"`
	// Priority orders intents; medium by default.
	// +kubebuilder:default=medium
	// +optional
	Priority Priority `json:"priority,omitempty"`
	// TargetComponents are the network functions to run; when empty, the
	// ones the intent's text names.
	// +kubebuilder:validation:MaxItems=11
	// +listType=set
	// +optional
	TargetComponents []NetworkFunction `json:"targetComponents,omitempty"`
	// TargetNamespace is the namespace the network functions run in on
	// the target clusters.
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`
	// +optional
	TargetNamespace string `json:"targetNamespace,omitempty"`
	// TargetCluster restricts the placement to the resource pools of the
	// provider of this name (as registered with the O2 IMS).
	// +kubebuilder:validation:MaxLength=253
	// +optional
	TargetCluster string `json:"targetCluster,omitempty"`
	// NetworkSlice is the slice the functions serve (embb, urllc, mmtc or
	// a slice id).
	// +kubebuilder:validation:MaxLength=253
	// +optional
	NetworkSlice string `json:"networkSlice,omitempty"`
	// Region overrides the region of the text ("US West", "us-west-2").
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Region string `json:"region,omitempty"`
	// ResourceConstraints are the resources per replica.
	// +optional
	ResourceConstraints *ResourceConstraints `json:"resourceConstraints,omitempty"`
	// Parameters are further settings; "replicas" sets the replicas of
	// every function.
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:validation:Type=object
	// +optional
	Parameters *apiextensionsv1.JSON `json:"parameters,omitempty"`
}

// Phase is where an intent is.
// +kubebuilder:validation:Enum=Pending;Processing;Deploying;Active;Failed
type Phase string

// The phases of a NetworkIntent.
const (
	PhasePending    Phase = "Pending"
	PhaseProcessing Phase = "Processing"
	PhaseDeploying  Phase = "Deploying"
	PhaseActive     Phase = "Active"
	PhaseFailed     Phase = "Failed"
)

// ProcessingResults are what the analysis of the intent found.
type ProcessingResults struct {
	// NetworkFunctions are the functions to run with their replicas,
	// such as "amf×2".
	// +optional
	NetworkFunctions []string `json:"networkFunctions,omitempty"`
	// Region is the normalised region ("us-west").
	// +optional
	Region string `json:"region,omitempty"`
	// HighAvailability: replicas spread over distinct resource pools.
	// +optional
	HighAvailability bool `json:"highAvailability,omitempty"`
	// Source is "rules" or "advisor".
	// +optional
	Source string `json:"source,omitempty"`
	// Reasons say which words gave which requirement.
	// +optional
	Reasons []string `json:"reasons,omitempty"`
	// ResourcePools are the pools the deployment was placed on.
	// +optional
	ResourcePools []string `json:"resourcePools,omitempty"`
	// ProcessedAt is when the intent was last analysed.
	// +optional
	ProcessedAt *metav1.Time `json:"processedAt,omitempty"`
}

// NetworkIntentStatus is what the controller observed and did.
type NetworkIntentStatus struct {
	// Phase is where the intent is.
	// +optional
	Phase Phase `json:"phase,omitempty"`
	// DeploymentID is the id of the O2 deployment of the intent.
	// +optional
	DeploymentID string `json:"deploymentID,omitempty"`
	// DeploymentName is the name of that deployment.
	// +optional
	DeploymentName string `json:"deploymentName,omitempty"`
	// LastMessage says what happened last, in words.
	// +optional
	LastMessage string `json:"lastMessage,omitempty"`
	// ObservedGeneration is the generation of the spec the status
	// describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// ProcessingResults are what the analysis found.
	// +optional
	ProcessingResults *ProcessingResults `json:"processingResults,omitempty"`
	// Conditions: Processed, Deployed and Ready.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// NetworkIntent asks for network functions in words and structured
// fields; the controller runs them as an O2 deployment.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ni,categories=nephoran
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.intentType`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Deployment",type=string,JSONPath=`.status.deploymentName`
// +kubebuilder:printcolumn:name="Message",type=string,JSONPath=`.status.lastMessage`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type NetworkIntent struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   NetworkIntentSpec   `json:"spec"`
	Status NetworkIntentStatus `json:"status,omitempty"`
}

// NetworkIntentList is a list of NetworkIntents.
//
// +kubebuilder:object:root=true
type NetworkIntentList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []NetworkIntent `json:"items"`
}
