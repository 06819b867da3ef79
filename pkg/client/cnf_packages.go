package o2

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"mime/multipart"
	"path/filepath"
	"time"
)

// MaxPackageBytes is the largest package content the IMS accepts.
const MaxPackageBytes = 32 << 20

// PackageContentType tells how the IMS reads the content of a package.
type PackageContentType string

// The content types of PackageMetadata.ContentType.
const (
	// PackageHelm is a Helm chart archive (.tgz).
	PackageHelm PackageContentType = "helm"
	// PackageKpt is a kpt package: a .tgz or .zip, or multi-document YAML,
	// with a Kptfile.
	PackageKpt PackageContentType = "kpt"
)

// VnfdInfo identifies the descriptor (VNFD) a package implements; CNF
// instances are created from a VnfdID.
type VnfdInfo struct {
	// VnfdID identifies the descriptor; it is required.
	VnfdID string `json:"vnfdId"`
	// VnfProvider is the vendor of the CNF.
	VnfProvider string `json:"vnfProvider,omitempty"`
	// VnfProductName is the product name of the CNF.
	VnfProductName string `json:"vnfProductName,omitempty"`
	// VnfSoftwareVersion is the software version of the CNF.
	VnfSoftwareVersion string `json:"vnfSoftwareVersion,omitempty"`
}

// FlavourResources are the container requests of a flavour, as Kubernetes
// quantities such as "100m" and "64Mi".
type FlavourResources struct {
	CPU    string `json:"cpu,omitempty"`
	Memory string `json:"memory,omitempty"`
}

// Flavour is a deployment flavour of a package, chosen when an instance is
// instantiated.
type Flavour struct {
	// FlavourID identifies the flavour within the package; it is
	// required.
	FlavourID string `json:"flavourId"`
	// Description is a human-readable description.
	Description string `json:"description,omitempty"`
	// Replicas is the replica count of every workload, as in
	// Replicas: new(1); nil keeps the package's own.
	Replicas *int `json:"replicas,omitempty"`
	// Resources are the container requests; nil keeps the package's own.
	Resources *FlavourResources `json:"resources,omitempty"`
}

// ScalingAspect is what CNFInstanceService.Scale scales: one workload, in
// steps of StepDelta replicas, from level 0 (the flavour's replicas) up to
// MaxScaleLevel.
type ScalingAspect struct {
	// AspectID identifies the aspect within the package.
	AspectID string `json:"aspectId"`
	// Workload names the Deployment or StatefulSet of the package the
	// aspect scales.
	Workload string `json:"workload"`
	// StepDelta is the number of replicas one step adds or removes, at
	// least 1.
	StepDelta int `json:"stepDelta"`
	// MaxScaleLevel is the highest level.
	MaxScaleLevel int `json:"maxScaleLevel"`
}

// PackageMetadata describes a CNF package being uploaded with
// CNFPackageService.Upload. Name, Version, VnfdInfo.VnfdID and at least
// one flavour are required.
type PackageMetadata struct {
	// PackageID identifies the package; empty lets the IMS assign one.
	// At most 128 letters, digits, '.', '_' or '-'.
	PackageID string `json:"packageId,omitempty"`
	// Name is the package's name.
	Name string `json:"name"`
	// Version is the package's version.
	Version string `json:"version"`
	// VnfdInfo identifies the descriptor the package implements.
	VnfdInfo VnfdInfo `json:"vnfdInfo"`
	// Flavours are the deployment flavours.
	Flavours []Flavour `json:"flavours"`
	// ScalingAspects are the aspects instances can be scaled in.
	ScalingAspects []ScalingAspect `json:"scalingAspects,omitempty"`
	// ContentType tells how to read the content; empty lets the IMS
	// detect it.
	ContentType PackageContentType `json:"contentType,omitempty"`
}

// PackageWorkload is a Deployment or StatefulSet a package deploys.
type PackageWorkload struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// CNFPackage is a registered CNF package: its metadata and what the IMS
// found in its content, which it keeps. Extensions are excluded from
// lists unless selected.
type CNFPackage struct {
	PackageMetadata
	// Checksum is the SHA-256 of the content, in hex.
	Checksum string `json:"checksum,omitempty"`
	// Size is the size of the content in bytes.
	Size int64 `json:"size,omitempty"`
	// Workloads are the Deployments and StatefulSets of the content.
	Workloads []PackageWorkload `json:"workloads,omitempty"`
	// CreatedAt is when the package was registered.
	CreatedAt time.Time `json:"createdAt,omitzero"`
	// Extensions are implementation-specific attributes.
	Extensions map[string]any `json:"extensions,omitempty"`
}

// CNFPackageService registers, reads and deletes the CNF packages of the
// IMS. Get one with Client.CNFPackages.
type CNFPackageService struct {
	col collection[CNFPackage]
}

// CNFPackages returns the service for the CNF packages.
func (c *Client) CNFPackages() *CNFPackageService {
	return &CNFPackageService{col: newCollection[CNFPackage](c, "CNF package", NephoranAPIPrefix, "cnfPackages")}
}

// List returns the page of CNF packages opts select.
func (s *CNFPackageService) List(ctx context.Context, opts ListOptions) (*Page[CNFPackage], error) {
	return s.col.list(ctx, opts)
}

// All iterates over every CNF package opts select, fetching pages of
// opts.Limit as needed.
func (s *CNFPackageService) All(ctx context.Context, opts ListOptions) iter.Seq2[CNFPackage, error] {
	return s.col.all(ctx, opts)
}

// Get returns the CNF package with identifier id.
func (s *CNFPackageService) Get(ctx context.Context, id string) (*CNFPackage, error) {
	return s.col.get(ctx, id)
}

// Delete deletes the CNF package with identifier id. A package that
// instances use is a ProblemError with status 409 (IsConflict).
func (s *CNFPackageService) Delete(ctx context.Context, id string) error {
	return s.col.delete(ctx, id)
}

// Upload registers a CNF package: meta, and content read to its end, such
// as a Helm chart archive (bytes.NewReader(chart) or an *os.File, whose
// base name is sent as the file name). The request is multipart/form-data
// with a "metadata" part (meta as JSON) and a "content" part. The IMS
// validates the content (the chart renders, the manifests parse) before it
// stores it. It is never retried. Invalid metadata or content is a
// ProblemError with status 400; a PackageID in use, one with status 409.
func (s *CNFPackageService) Upload(ctx context.Context, meta PackageMetadata, content io.Reader) (*CNFPackage, error) {
	if content == nil {
		return nil, errors.New("o2: nil package content")
	}
	body, contentType, err := packageForm(meta, content)
	if err != nil {
		return nil, err
	}
	return s.col.createRaw(ctx, body, contentType)
}

// packageForm encodes meta and content as the multipart/form-data body of
// an upload and returns it with its Content-Type.
func packageForm(meta PackageMetadata, content io.Reader) ([]byte, string, error) {
	metaJSON, err := json.Marshal(meta)
	if err != nil {
		return nil, "", fmt.Errorf("o2: encoding package metadata: %w", err)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if err := mw.WriteField("metadata", string(metaJSON)); err != nil {
		return nil, "", err
	}
	name := "package"
	if n, ok := content.(interface{ Name() string }); ok && n.Name() != "" {
		name = filepath.Base(n.Name())
	}
	fw, err := mw.CreateFormFile("content", name)
	if err != nil {
		return nil, "", err
	}
	n, err := io.Copy(fw, io.LimitReader(content, MaxPackageBytes+1))
	if err != nil {
		return nil, "", fmt.Errorf("o2: reading package content: %w", err)
	}
	if n > MaxPackageBytes {
		return nil, "", fmt.Errorf("o2: package content exceeds %d bytes", MaxPackageBytes)
	}
	if err := mw.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), mw.FormDataContentType(), nil
}
