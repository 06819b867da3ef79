package lcm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/google/uuid"
	"k8s.io/client-go/rest"

	"github.com/nephoran/o2ims/internal/alarms"
	"github.com/nephoran/o2ims/internal/cnf"
	"github.com/nephoran/o2ims/internal/collection"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/query"
	"github.com/nephoran/o2ims/internal/sqlstore"
)

// Store is what the lifecycle manager needs from persistence.
type Store interface {
	collection.Store
	Get(ctx context.Context, sc *query.Schema, id string) (json.RawMessage, error)
	Update(ctx context.Context, fn func(tx *sqlstore.ObjectTx) error) error
	PackageContent(ctx context.Context, packageID string) ([]byte, string, error)
}

// Clusters resolves a deployment manager to its cluster's client config.
type Clusters interface {
	RESTConfig(ctx context.Context, deploymentManagerID string) (*rest.Config, error)
}

// Alarms raises an alarm when an operation fails.
type Alarms interface {
	Raise(ctx context.Context, c alarms.Condition) (*ims.AlarmEventRecord, error)
}

// Options tune the lifecycle manager.
type Options struct {
	// OperationTimeout bounds waiting for workloads to become ready (5m).
	OperationTimeout time.Duration
	// MaxPackageBytes bounds package content (20 MiB).
	MaxPackageBytes int
}

// Service is the CNF lifecycle manager.
type Service struct {
	store    Store
	clusters Clusters
	alarms   Alarms
	opts     Options
	logger   *slog.Logger
	now      func() time.Time
	wake     func()

	mu     sync.Mutex
	runCtx context.Context
	wg     sync.WaitGroup
}

// NewService returns a lifecycle manager. wake (may be nil) is called after
// every committed change, to prompt notification delivery.
func NewService(store Store, clusters Clusters, al Alarms, opts Options, logger *slog.Logger, wake func()) *Service {
	if opts.OperationTimeout <= 0 {
		opts.OperationTimeout = 5 * time.Minute
	}
	if opts.MaxPackageBytes <= 0 {
		opts.MaxPackageBytes = 20 << 20
	}
	if wake == nil {
		wake = func() {}
	}
	return &Service{store: store, clusters: clusters, alarms: al, opts: opts, logger: logger, now: time.Now, wake: wake}
}

func (s *Service) timestamp() string { return s.now().UTC().Format(query.TimeLayout) }

func decode[T any](doc json.RawMessage) (T, error) {
	var v T
	if err := json.Unmarshal(doc, &v); err != nil {
		return v, ims.Internal(fmt.Errorf("decode %T: %w", v, err), "reading failed")
	}
	return v, nil
}

func encode(v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, ims.Internal(err, "storing failed")
	}
	return b, nil
}

// PackageInput is a package registration.
type PackageInput struct {
	PackageID      string          `json:"packageId,omitempty"`
	Name           string          `json:"name"`
	Version        string          `json:"version"`
	ContentType    string          `json:"contentType,omitempty"`
	VnfdInfo       VnfdInfo        `json:"vnfdInfo"`
	Flavours       []Flavour       `json:"flavours"`
	ScalingAspects []ScalingAspect `json:"scalingAspects,omitempty"`
}

var packageIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// CreatePackage validates and stores a package with its content.
func (s *Service) CreatePackage(ctx context.Context, in PackageInput, content []byte) (Package, error) {
	if in.Name == "" || in.Version == "" {
		return Package{}, ims.Errorf(ims.EINVALID, "name and version are required")
	}
	if in.VnfdInfo.VnfdID == "" {
		return Package{}, ims.Errorf(ims.EINVALID, "vnfdInfo.vnfdId is required")
	}
	if len(in.Flavours) == 0 {
		return Package{}, ims.Errorf(ims.EINVALID, "flavours: at least one flavour is required")
	}
	seen := map[string]bool{}
	for i, f := range in.Flavours {
		if f.FlavourID == "" || seen[f.FlavourID] {
			return Package{}, ims.Errorf(ims.EINVALID, "flavours[%d].flavourId: missing or repeated", i)
		}
		seen[f.FlavourID] = true
		if f.Replicas != nil && *f.Replicas < 0 {
			return Package{}, ims.Errorf(ims.EINVALID, "flavours[%d].replicas: must not be negative", i)
		}
	}
	if len(content) == 0 {
		return Package{}, ims.Errorf(ims.EINVALID, "content: the package content is required")
	}
	if len(content) > s.opts.MaxPackageBytes {
		return Package{}, ims.Errorf(ims.EINVALID, "content: larger than %d bytes", s.opts.MaxPackageBytes)
	}
	kind := cnf.Kind(in.ContentType)
	var info cnf.Info
	var err error
	switch kind {
	case cnf.KindHelm, cnf.KindKpt:
		info, err = cnf.Inspect(kind, content)
	case "":
		// Detect: a chart first, then a kpt package.
		if info, err = cnf.Inspect(cnf.KindHelm, content); err == nil {
			kind = cnf.KindHelm
		} else if info2, err2 := cnf.Inspect(cnf.KindKpt, content); err2 == nil {
			kind, info, err = cnf.KindKpt, info2, nil
		} else {
			err = ims.Errorf(ims.EINVALID, "content: neither a valid Helm chart (%s) nor a valid kpt package (%s)", ims.ErrorMessage(err), ims.ErrorMessage(err2))
		}
	default:
		return Package{}, ims.Errorf(ims.EINVALID, "contentType: must be helm or kpt")
	}
	if err != nil {
		return Package{}, err
	}
	workloads := map[string]bool{}
	var wl []Workload
	for _, w := range info.Workloads {
		workloads[w.Name] = true
		wl = append(wl, Workload{Kind: w.Kind, Name: w.Name})
	}
	aspects := map[string]bool{}
	for i, a := range in.ScalingAspects {
		// Workload names are those of a render with the release name
		// "release-name"; a chart's usual "<release>-<name>" may be given
		// by its suffix alone.
		if !workloads[a.Workload] && workloads[cnf.InspectRelease+"-"+a.Workload] {
			in.ScalingAspects[i].Workload = cnf.InspectRelease + "-" + a.Workload
			a = in.ScalingAspects[i]
		}
		switch {
		case a.AspectID == "" || aspects[a.AspectID]:
			return Package{}, ims.Errorf(ims.EINVALID, "scalingAspects[%d].aspectId: missing or repeated", i)
		case !workloads[a.Workload]:
			return Package{}, ims.Errorf(ims.EINVALID, "scalingAspects[%d].workload: %q is not a Deployment or StatefulSet of the package (found %v)", i, a.Workload, wl)
		case a.StepDelta < 1:
			return Package{}, ims.Errorf(ims.EINVALID, "scalingAspects[%d].stepDelta: must be at least 1", i)
		case a.MaxScaleLevel < 0:
			return Package{}, ims.Errorf(ims.EINVALID, "scalingAspects[%d].maxScaleLevel: must not be negative", i)
		}
		aspects[a.AspectID] = true
	}
	id := in.PackageID
	if id == "" {
		id = uuid.NewString()
	} else if !packageIDPattern.MatchString(id) {
		return Package{}, ims.Errorf(ims.EINVALID, "packageId: letters, digits, '.', '_' and '-', at most 128")
	}
	sum := sha256.Sum256(content)
	pkg := Package{
		PackageID: id, Name: in.Name, Version: in.Version, ContentType: string(kind), VnfdInfo: in.VnfdInfo,
		Flavours: in.Flavours, ScalingAspects: in.ScalingAspects, Checksum: hex.EncodeToString(sum[:]),
		Size: len(content), Workloads: wl, CreatedAt: s.timestamp(),
	}
	doc, err := encode(pkg)
	if err != nil {
		return Package{}, err
	}
	err = s.store.Update(ctx, func(tx *sqlstore.ObjectTx) error {
		if _, err := tx.Get(ctx, PackageSchema, id); err == nil {
			return ims.Errorf(ims.ECONFLICT, "package %q exists already", id)
		}
		if err := tx.Put(ctx, PackageSchema, id, doc); err != nil {
			return err
		}
		return tx.PutPackageContent(ctx, id, pkg.Checksum, content)
	})
	if err != nil {
		return Package{}, err
	}
	s.wake()
	s.logger.InfoContext(ctx, "CNF package registered", "package", id, "kind", kind, "bytes", len(content))
	return pkg, nil
}

// ListPackages lists packages.
func (s *Service) ListPackages(ctx context.Context, req collection.Request) (collection.Page, error) {
	return collection.List(ctx, s.store, PackageSchema, req, collection.Options{})
}

// GetPackage returns one package.
func (s *Service) GetPackage(ctx context.Context, id string) (Package, error) {
	doc, err := s.store.Get(ctx, PackageSchema, id)
	if err != nil {
		return Package{}, err
	}
	return decode[Package](doc)
}

// DeletePackage deletes a package no instance uses.
func (s *Service) DeletePackage(ctx context.Context, id string) error {
	err := s.store.Update(ctx, func(tx *sqlstore.ObjectTx) error {
		if _, err := tx.Get(ctx, PackageSchema, id); err != nil {
			return err
		}
		n, err := tx.Count(ctx, "SELECT COUNT(*) FROM cnf_instances WHERE package_id = ?", id)
		if err != nil {
			return err
		}
		if n > 0 {
			return ims.Errorf(ims.ECONFLICT, "package %q is used by %d CNF instance(s)", id, n)
		}
		return tx.Delete(ctx, PackageSchema, id)
	})
	if err == nil {
		s.wake()
	}
	return err
}

// InstanceInput creates an instance.
type InstanceInput struct {
	// ID, when set (a UUID), names the instance; a caller that derives it
	// from its own state can create the instance idempotently.
	ID                     string
	VnfInstanceName        string
	VnfInstanceDescription string
	// The package: by the descriptor it implements, or by its id.
	VnfdID    string
	PackageID string
	FlavourID string
	// Owner names what created the instance (e.g. "deployment/<id>").
	Owner string
}

// CreateInstance creates a NOT_INSTANTIATED instance of the package that
// implements the descriptor.
func (s *Service) CreateInstance(ctx context.Context, in InstanceInput) (Instance, error) {
	pkg, err := s.ResolvePackage(ctx, in.VnfdID, in.PackageID)
	if err != nil {
		return Instance{}, err
	}
	if in.FlavourID != "" && flavour(pkg, in.FlavourID) == nil {
		return Instance{}, ims.Errorf(ims.EUNPROCESSABLE, "flavourId: package %s has no flavour %q", pkg.PackageID, in.FlavourID)
	}
	id := in.ID
	if id == "" {
		id = uuid.NewString()
	} else if _, err := uuid.Parse(id); err != nil {
		return Instance{}, ims.Errorf(ims.EINVALID, "cnfInstanceId: not a UUID")
	}
	inst := Instance{
		CnfInstanceID: id, VnfInstanceName: in.VnfInstanceName, VnfInstanceDescription: in.VnfInstanceDescription,
		VnfdID: pkg.VnfdInfo.VnfdID, PackageID: pkg.PackageID, FlavourID: in.FlavourID,
		InstantiationState: NotInstantiated, Phase: NotInstantiated, CreatedAt: s.timestamp(),
	}
	if in.Owner != "" {
		inst.Extensions = map[string]any{"owner": in.Owner}
	}
	doc, err := encode(inst)
	if err != nil {
		return Instance{}, err
	}
	err = s.store.Update(ctx, func(tx *sqlstore.ObjectTx) error {
		if _, err := tx.Get(ctx, InstanceSchema, id); err == nil {
			return ims.Errorf(ims.ECONFLICT, "CNF instance %q exists already", id)
		}
		return tx.Put(ctx, InstanceSchema, id, doc)
	})
	if err != nil {
		return Instance{}, err
	}
	s.wake()
	return inst, nil
}

// ResolvePackage finds a package by its id or by the descriptor it
// implements (exactly one package must); with both, they must agree.
func (s *Service) ResolvePackage(ctx context.Context, vnfdID, packageID string) (Package, error) {
	switch {
	case packageID != "":
		pkg, err := s.GetPackage(ctx, packageID)
		if err != nil {
			return Package{}, ims.Errorf(ims.EUNPROCESSABLE, "packageId: no CNF package %q", packageID)
		}
		if vnfdID != "" && vnfdID != pkg.VnfdInfo.VnfdID {
			return Package{}, ims.Errorf(ims.EUNPROCESSABLE, "vnfdId: package %s implements %q, not %q", pkg.PackageID, pkg.VnfdInfo.VnfdID, vnfdID)
		}
		return pkg, nil
	case vnfdID != "":
		return s.packageForVnfd(ctx, vnfdID)
	}
	return Package{}, ims.Errorf(ims.EINVALID, "vnfdId is required")
}

func (s *Service) packageForVnfd(ctx context.Context, vnfdID string) (Package, error) {
	f := query.Filter{Terms: []query.Term{{Op: query.Eq, Path: []string{"vnfdInfo", "vnfdId"}, Values: []string{vnfdID}}}}
	docs, _, _, err := s.store.List(ctx, PackageSchema, f, 2, "")
	if err != nil {
		return Package{}, err
	}
	switch len(docs) {
	case 0:
		return Package{}, ims.Errorf(ims.EUNPROCESSABLE, "vnfdId: no package implements %q", vnfdID)
	case 1:
		return decode[Package](docs[0])
	default:
		return Package{}, ims.Errorf(ims.EUNPROCESSABLE, "vnfdId: several packages implement %q", vnfdID)
	}
}

func flavour(pkg Package, id string) *Flavour {
	for i := range pkg.Flavours {
		if pkg.Flavours[i].FlavourID == id {
			return &pkg.Flavours[i]
		}
	}
	return nil
}

// ListInstances lists instances.
func (s *Service) ListInstances(ctx context.Context, req collection.Request) (collection.Page, error) {
	return collection.List(ctx, s.store, InstanceSchema, req, collection.Options{})
}

// GetInstance returns one instance.
func (s *Service) GetInstance(ctx context.Context, id string) (Instance, error) {
	doc, err := s.store.Get(ctx, InstanceSchema, id)
	if err != nil {
		return Instance{}, err
	}
	return decode[Instance](doc)
}

// DeleteInstance deletes a NOT_INSTANTIATED instance.
func (s *Service) DeleteInstance(ctx context.Context, id string) error {
	err := s.store.Update(ctx, func(tx *sqlstore.ObjectTx) error {
		doc, err := tx.Get(ctx, InstanceSchema, id)
		if err != nil {
			return err
		}
		inst, err := decode[Instance](doc)
		if err != nil {
			return err
		}
		if inst.InstantiationState != NotInstantiated || busy(inst) {
			return ims.Errorf(ims.ECONFLICT, "CNF instance %q is %s (%s); terminate it first", id, inst.InstantiationState, inst.Phase)
		}
		return tx.Delete(ctx, InstanceSchema, id)
	})
	if err == nil {
		s.wake()
	}
	return err
}

// ListOps lists operation occurrences.
func (s *Service) ListOps(ctx context.Context, req collection.Request) (collection.Page, error) {
	return collection.List(ctx, s.store, OpSchema, req, collection.Options{})
}

// GetOp returns one operation occurrence.
func (s *Service) GetOp(ctx context.Context, id string) (OpOcc, error) {
	doc, err := s.store.Get(ctx, OpSchema, id)
	if err != nil {
		return OpOcc{}, err
	}
	return decode[OpOcc](doc)
}

// ensure the inventory schemas are linked (deployment managers, pools).
var _ = inventory.DeploymentManagerSchema
