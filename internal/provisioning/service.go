package provisioning

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/nephoran/o2ims/internal/collection"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/query"
	"github.com/nephoran/o2ims/internal/sqlstore"
)

// Store is what the provisioning service needs from persistence.
type Store interface {
	collection.Store
	Get(ctx context.Context, sc *query.Schema, id string) (json.RawMessage, error)
	Update(ctx context.Context, fn func(tx *sqlstore.ObjectTx) error) error
	DueProvisioningRequests(ctx context.Context, now int64, limit int) ([]string, error)
}

// Options tune the provisioning service.
type Options struct {
	// Realizers realize the templates of each kind, by kind. A template
	// whose kind has none is listed, but requests for it are refused.
	Realizers map[string]Realizer
	// Timeout bounds one apply or delete of a request, from its start to
	// a final phase (30m); past it the request is FAILED.
	Timeout time.Duration
	// PollInterval is how often the worker looks for due requests, and
	// how soon a Progressing realizer is called again when it names no
	// RetryAfter (2s).
	PollInterval time.Duration
	// CallTimeout bounds one realizer call (2m).
	CallTimeout time.Duration
	// Concurrency is how many requests the worker drives at once (4).
	Concurrency int
	// Sealer, when set, encrypts the stored parameters of requests that
	// carry writeOnly parameters (secrets such as bootstrap tokens);
	// without one such requests are refused.
	Sealer Sealer
	// Releasing, when set, is told the inventory ids of a request's
	// resources when their deletion starts, before they leave the
	// inventory (the alarms then know their removal is intended).
	Releasing func(resourceIDs ...string)
}

// Service accepts provisioning requests and drives their realization.
type Service struct {
	store   Store
	catalog *Catalog
	opts    Options
	logger  *slog.Logger
	now     func() time.Time
	wake    func()
	kick    chan struct{}

	mu       sync.Mutex
	inflight map[string]bool
	wg       sync.WaitGroup
}

// NewService returns a provisioning service over the templates of
// catalog. wake (may be nil) is called after every committed change, to
// prompt notification delivery.
func NewService(store Store, catalog *Catalog, opts Options, logger *slog.Logger, wake func()) *Service {
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Minute
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 2 * time.Second
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = 2 * time.Minute
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if wake == nil {
		wake = func() {}
	}
	return &Service{store: store, catalog: catalog, opts: opts, logger: logger, now: time.Now, wake: wake,
		kick: make(chan struct{}, 1), inflight: map[string]bool{}}
}

func (s *Service) timestamp() string { return s.now().UTC().Format(query.TimeLayout) }

// Templates lists the templates offered.
func (s *Service) Templates() []Template { return s.catalog.Templates() }

// Realizable reports whether a realizer of the template's kind is configured.
func (s *Service) Realizable(t Template) bool { return s.opts.Realizers[t.Kind] != nil }

// TemplateInfo is the ManagedInfrastructureTemplate view of t.
func (s *Service) TemplateInfo(t Template) map[string]any {
	var schema map[string]any
	_ = json.Unmarshal(t.ParameterSchema, &schema)
	realizable := "false"
	if s.Realizable(t) {
		realizable = "true"
	}
	return map[string]any{
		"artifactResourceId": TemplateID(t), "name": t.Name, "version": t.Version, "description": t.Description,
		"parameterSchema": schema, "extensions": map[string]any{"kind": t.Kind, "realizable": realizable},
	}
}

// ListTemplates lists the templates as ManagedInfrastructureTemplates,
// with the SOL013 query language.
func (s *Service) ListTemplates(ctx context.Context, req collection.Request) (collection.Page, error) {
	return collection.List(ctx, templateStore{s}, TemplateSchema, req, collection.Options{})
}

// Template returns the template an API path names (its
// artifactResourceId, or "<name>.<version>").
func (s *Service) Template(id string) (Template, error) {
	t, ok := s.catalog.Lookup(id)
	if !ok {
		return Template{}, ims.Errorf(ims.ENOTFOUND, "managed infrastructure template %q not found", id)
	}
	return t, nil
}

// templateStore serves the catalog as a collection, ordered by id.
type templateStore struct{ s *Service }

func (ts templateStore) List(_ context.Context, sc *query.Schema, f query.Filter, limit int, after string) ([]json.RawMessage, string, bool, error) {
	type item struct {
		id  string
		doc map[string]any
	}
	var items []item
	for _, t := range ts.s.catalog.Templates() {
		items = append(items, item{TemplateID(t), ts.s.TemplateInfo(t)})
	}
	slices.SortFunc(items, func(a, b item) int { return strings.Compare(a.id, b.id) })
	var docs []json.RawMessage
	last := ""
	for _, it := range items {
		if it.id <= after || !f.Match(sc, it.doc) {
			continue
		}
		if len(docs) == limit {
			return docs, last, true, nil
		}
		b, err := json.Marshal(it.doc)
		if err != nil {
			return nil, "", false, ims.Internal(err, "listing failed")
		}
		docs, last = append(docs, b), it.id
	}
	return docs, last, false, nil
}

// check validates a request's data and returns its template and the
// parameters its realizer receives.
func (s *Service) check(ctx context.Context, d RequestData) (Template, map[string]any, error) {
	if _, err := uuid.Parse(d.ProvisioningRequestID); err != nil {
		return Template{}, nil, ims.Errorf(ims.EINVALID, "provisioningRequestId: %q is not a UUID", d.ProvisioningRequestID)
	}
	switch {
	case strings.TrimSpace(d.Name) == "":
		return Template{}, nil, ims.Errorf(ims.EINVALID, "name is required")
	case d.TemplateName == "":
		return Template{}, nil, ims.Errorf(ims.EINVALID, "templateName is required")
	case d.TemplateVersion == "":
		return Template{}, nil, ims.Errorf(ims.EINVALID, "templateVersion is required")
	case d.TemplateParameters == nil:
		return Template{}, nil, ims.Errorf(ims.EINVALID, "templateParameters is required")
	}
	t, ok := s.catalog.Find(d.TemplateName, d.TemplateVersion)
	if !ok {
		var offered []string
		for _, t := range s.catalog.Templates() {
			offered = append(offered, t.Name+" "+t.Version)
		}
		return Template{}, nil, ims.Errorf(ims.EINVALID, "templateName, templateVersion: no template %s version %s (offered: %s)",
			d.TemplateName, d.TemplateVersion, strings.Join(offered, ", "))
	}
	r := s.opts.Realizers[t.Kind]
	if r == nil {
		return Template{}, nil, ims.Errorf(ims.EUNPROCESSABLE, "template %s %s is of kind %s, which this server is not configured to realize",
			t.Name, t.Version, t.Kind)
	}
	params, err := Parameters(t, d.TemplateParameters)
	if err != nil {
		return Template{}, nil, err
	}
	if v, ok := r.(Validator); ok {
		if err := v.Validate(ctx, t, params); err != nil {
			return Template{}, nil, validatorError(err)
		}
	}
	return t, params, nil
}

// validatorError keeps a Validator's unavailable and internal errors and
// makes any other refusal a 400 in the Validator's words.
func validatorError(err error) error {
	var e *ims.Error
	if errors.As(err, &e) {
		switch e.Code {
		case ims.EUNAVAILABLE, ims.EINTERNAL:
			return err
		case ims.EINVALID:
			return e
		}
		return &ims.Error{Code: ims.EINVALID, Message: e.Message, Err: err}
	}
	return &ims.Error{Code: ims.EINVALID, Message: err.Error(), Err: err}
}

// Create accepts a provisioning request; it is realized in the background.
func (s *Service) Create(ctx context.Context, d RequestData) (RequestInfo, error) {
	t, params, err := s.check(ctx, d)
	if err != nil {
		return RequestInfo{}, err
	}
	id := d.ProvisioningRequestID
	full, err := s.storable(id, t, d.TemplateParameters)
	if err != nil {
		return RequestInfo{}, err
	}
	shown := d
	shown.TemplateParameters = redact(t, d.TemplateParameters)
	info := RequestInfo{
		ProvisioningRequestReference: uuid.NewString(),
		ProvisioningRequestData:      shown,
		ProvisionedResourceSet:       ResourceSet{NodeClusterID: nodeCluster(params), InfrastructureResourceIDs: []string{}},
		Status: Status{UpdateTime: s.timestamp(), Message: "accepted; waiting to be applied", ProvisioningPhase: PhasePending,
			InfrastructureResourceProvisioningStatus: []ResourceStatus{}},
	}
	doc, err := encode(info)
	if err != nil {
		return RequestInfo{}, err
	}
	now := s.now().UnixMilli()
	err = s.store.Update(ctx, func(tx *sqlstore.ObjectTx) error {
		if _, err := tx.Get(ctx, Schema, id); err == nil {
			return ims.Errorf(ims.ECONFLICT, "provisioning request %q exists already", id)
		}
		if err := tx.Put(ctx, Schema, id, doc); err != nil {
			return err
		}
		return tx.SetProvisioningWork(ctx, id, sqlstore.ProvisioningWork{Parameters: full, NextAttempt: now, StartedAt: now, Generation: 1})
	})
	if err != nil {
		return RequestInfo{}, err
	}
	s.changed()
	s.logger.InfoContext(ctx, "provisioning request accepted", "request", id, "template", d.TemplateName, "version", d.TemplateVersion)
	return info, nil
}

// Update replaces a request's data; a change of its template version or
// parameters applies it again.
func (s *Service) Update(ctx context.Context, id string, d RequestData) (RequestInfo, error) {
	if d.ProvisioningRequestID != id {
		return RequestInfo{}, ims.Errorf(ims.EUNPROCESSABLE, "provisioningRequestId: %q in the body is not the %q of the path", d.ProvisioningRequestID, id)
	}
	if _, err := s.Get(ctx, id); err != nil {
		return RequestInfo{}, err
	}
	t, params, err := s.check(ctx, d)
	if err != nil {
		return RequestInfo{}, err
	}
	full, err := s.storable(id, t, d.TemplateParameters)
	if err != nil {
		return RequestInfo{}, err
	}
	var out RequestInfo
	reapplied := false
	now := s.now()
	err = s.store.Update(ctx, func(tx *sqlstore.ObjectTx) error {
		info, work, err := read(ctx, tx, id)
		if err != nil {
			return err
		}
		if work.Deleting {
			return ims.Errorf(ims.ECONFLICT, "provisioning request %q is being deleted", id)
		}
		old := info.ProvisioningRequestData
		if old.TemplateName != d.TemplateName {
			return ims.Errorf(ims.EUNPROCESSABLE, "templateName: a request's template cannot change (it is %s)", old.TemplateName)
		}
		shown := d
		shown.TemplateParameters = redact(t, d.TemplateParameters)
		info.ProvisioningRequestData = shown
		stored, err := s.storedParameters(id, old, work)
		if old.TemplateVersion != d.TemplateVersion || err != nil || !reflect.DeepEqual(normalized(stored), normalized(d.TemplateParameters)) {
			reapplied = true
			info.ProvisionedResourceSet.NodeClusterID = nodeCluster(params)
			info.Status.ProvisioningPhase, info.Status.Message, info.Status.UpdateTime = PhasePending, "changed; waiting to be applied again", s.timestamp()
			work.NextAttempt, work.StartedAt, work.Attempts = now.UnixMilli(), now.UnixMilli(), 0
			work.Generation++
		}
		work.Parameters = full
		if err := tx.SetProvisioningWork(ctx, id, work); err != nil {
			return err
		}
		doc, err := encode(info)
		if err != nil {
			return err
		}
		out = info
		return tx.Put(ctx, Schema, id, doc)
	})
	if err != nil {
		return RequestInfo{}, err
	}
	s.changed()
	if reapplied {
		s.logger.InfoContext(ctx, "provisioning request changed; applying it again", "request", id)
	}
	return out, nil
}

func normalized(m map[string]any) map[string]any {
	n, err := normalize(m)
	if err != nil {
		return m
	}
	return n
}

// Delete starts removing a request's infrastructure; the request is
// DELETING until it is gone, then disappears. Deleting a request whose
// deletion failed tries again.
func (s *Service) Delete(ctx context.Context, id string) error {
	now := s.now()
	started := false
	var releasing []string
	err := s.store.Update(ctx, func(tx *sqlstore.ObjectTx) error {
		info, work, err := read(ctx, tx, id)
		if err != nil {
			return err
		}
		if work.Deleting && work.NextAttempt != 0 {
			return nil // under way
		}
		started = true
		releasing = info.ProvisionedResourceSet.InfrastructureResourceIDs
		info.Status.ProvisioningPhase, info.Status.Message, info.Status.UpdateTime = PhaseDeleting, "deleting the infrastructure", s.timestamp()
		work.Deleting = true
		work.NextAttempt, work.StartedAt, work.Attempts = now.UnixMilli(), now.UnixMilli(), 0
		work.Generation++
		if err := tx.SetProvisioningWork(ctx, id, work); err != nil {
			return err
		}
		doc, err := encode(info)
		if err != nil {
			return err
		}
		return tx.Put(ctx, Schema, id, doc)
	})
	if err != nil {
		return err
	}
	if started {
		if s.opts.Releasing != nil && len(releasing) > 0 {
			s.opts.Releasing(releasing...)
		}
		s.changed()
		s.logger.InfoContext(ctx, "provisioning request deletion started", "request", id)
	}
	return nil
}

// Get returns one request.
func (s *Service) Get(ctx context.Context, id string) (RequestInfo, error) {
	doc, err := s.store.Get(ctx, Schema, id)
	if err != nil {
		return RequestInfo{}, err
	}
	return decode(doc)
}

// List lists requests with the SOL013 query language.
func (s *Service) List(ctx context.Context, req collection.Request) (collection.Page, error) {
	return collection.List(ctx, s.store, Schema, req, collection.Options{})
}

func read(ctx context.Context, tx *sqlstore.ObjectTx, id string) (RequestInfo, sqlstore.ProvisioningWork, error) {
	doc, err := tx.Get(ctx, Schema, id)
	if err != nil {
		return RequestInfo{}, sqlstore.ProvisioningWork{}, err
	}
	info, err := decode(doc)
	if err != nil {
		return RequestInfo{}, sqlstore.ProvisioningWork{}, err
	}
	work, err := tx.ProvisioningWork(ctx, id)
	return info, work, err
}

func decode(doc json.RawMessage) (RequestInfo, error) {
	var v RequestInfo
	if err := json.Unmarshal(doc, &v); err != nil {
		return v, ims.Internal(fmt.Errorf("decode provisioning request: %w", err), "reading failed")
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

func nodeCluster(params map[string]any) string {
	s, _ := params[ParameterDeploymentManager].(string)
	return s
}

// changed prompts notification delivery and the worker.
func (s *Service) changed() {
	s.wake()
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// redact leaves out the parameters the template's schema marks
// writeOnly (secrets such as tokens): they reach the realizer but are
// never shown.
func redact(t Template, params map[string]any) map[string]any {
	sc, err := compileSchema(t.ParameterSchema)
	if err != nil {
		return params
	}
	out := make(map[string]any, len(params))
	for k, v := range params {
		if p := sc.Properties[k]; p != nil && p.Value != nil && p.Value.WriteOnly {
			continue
		}
		out[k] = v
	}
	return out
}

// Sealer encrypts and decrypts what is stored (secrets.Box).
type Sealer interface {
	Seal(plain, aad []byte) (string, error)
	Open(sealed string, aad []byte) ([]byte, error)
}

// storable is the stored form of a request's templateParameters: JSON,
// or, when they carry writeOnly parameters, that JSON sealed (as a JSON
// string), bound to the request id.
func (s *Service) storable(id string, t Template, params map[string]any) ([]byte, error) {
	full, err := encode(params)
	if err != nil {
		return nil, err
	}
	if len(redact(t, params)) == len(params) {
		return full, nil
	}
	if s.opts.Sealer == nil {
		return nil, ims.Errorf(ims.EUNPROCESSABLE, "templateParameters: template %s has secret (writeOnly) parameters, and this server has no secrets key to store them encrypted; configure --secrets-key-file (or O2IMS_SECRETS_KEY)", t.Name)
	}
	sealed, err := s.opts.Sealer.Seal(full, []byte(id))
	if err != nil {
		return nil, err
	}
	return json.Marshal(sealed)
}

// storedParameters are a request's templateParameters in full, opened
// when sealed.
func (s *Service) storedParameters(id string, d RequestData, work sqlstore.ProvisioningWork) (map[string]any, error) {
	if len(work.Parameters) == 0 {
		return d.TemplateParameters, nil
	}
	raw := work.Parameters
	var sealed string
	if json.Unmarshal(raw, &sealed) == nil {
		if s.opts.Sealer == nil {
			return nil, ims.Errorf(ims.EUNPROCESSABLE, "the request's secret parameters are stored encrypted and this server has no secrets key")
		}
		plain, err := s.opts.Sealer.Open(sealed, []byte(id))
		if err != nil {
			return nil, &ims.Error{Code: ims.EUNPROCESSABLE, Message: "the request's secret parameters cannot be opened with this server's secrets key", Err: err}
		}
		raw = plain
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("stored parameters of provisioning request %s: %w", id, err)
	}
	return m, nil
}
