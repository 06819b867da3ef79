package provisioning

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/collection"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/secrets"
	"github.com/nephoran/o2ims/internal/sqlstore"
	"github.com/nephoran/o2ims/internal/sqlstore/sqlstoretest"
)

// fakeRealizer is a Realizer whose answers the test decides: the
// boundary to the infrastructure.
type fakeRealizer struct {
	mu       sync.Mutex
	apply    func(Job) (Progress, error)
	del      func(Job) (Progress, error)
	validate func(map[string]any) error
	jobs     []Job
}

func (f *fakeRealizer) Apply(_ context.Context, j Job) (Progress, error) {
	f.mu.Lock()
	f.jobs = append(f.jobs, j)
	f.mu.Unlock()
	return f.apply(j)
}

func (f *fakeRealizer) Delete(_ context.Context, j Job) (Progress, error) {
	f.mu.Lock()
	f.jobs = append(f.jobs, j)
	f.mu.Unlock()
	if f.del == nil {
		return Progress{Phase: Deleted}, nil
	}
	return f.del(j)
}

func (f *fakeRealizer) lastJob() Job {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.jobs[len(f.jobs)-1]
}

// validatingRealizer adds Validate to a fakeRealizer.
type validatingRealizer struct{ *fakeRealizer }

func (v validatingRealizer) Validate(_ context.Context, _ Template, params map[string]any) error {
	return v.validate(params)
}

const testTemplate = `
name: test-stack
version: 1.0.0
description: A test template.
kind: test
parameterSchema:
  type: object
  additionalProperties: false
  required: [deploymentManagerId, size]
  properties:
    deploymentManagerId: {type: string, minLength: 1}
    size: {type: integer, minimum: 1, maximum: 10}
    flavour: {type: string, enum: [small, large]}
    token: {type: string, writeOnly: true}
    network:
      type: object
      additionalProperties: false
      properties:
        cidr: {type: string, pattern: '^[0-9./]+$'}
defaults:
  flavour: small
`

const orphanTemplate = `
name: orphan
version: 2.0.0
description: A template of a kind nothing realizes.
kind: nowhere
parameterSchema:
  type: object
  required: [deploymentManagerId]
  properties:
    deploymentManagerId: {type: string}
`

const otherTemplate = `
name: test-other
version: 1.0.0
description: Another template of the test kind.
kind: test
parameterSchema:
  type: object
  required: [deploymentManagerId]
  properties:
    deploymentManagerId: {type: string}
`

func mustTemplate(t *testing.T, y string) Template {
	t.Helper()
	tpl, err := ParseTemplate([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	svc   *Service
	store *sqlstore.Store
	fake  *fakeRealizer
	clock *clock
}

func newFixture(t *testing.T, b sqlstoretest.Backend, r Realizer, fake *fakeRealizer) *fixture {
	t.Helper()
	store := sqlstoretest.Open(t, b)
	return newFixtureOn(t, store, r, fake, &clock{now: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)})
}

func newFixtureOn(t *testing.T, store *sqlstore.Store, r Realizer, fake *fakeRealizer, c *clock) *fixture {
	t.Helper()
	cat, err := NewCatalog([]Template{mustTemplate(t, testTemplate), mustTemplate(t, orphanTemplate), mustTemplate(t, otherTemplate)})
	if err != nil {
		t.Fatal(err)
	}
	box, err := secrets.NewBox(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	svc := NewService(store, cat, Options{Realizers: map[string]Realizer{"test": r}, Timeout: 10 * time.Minute, PollInterval: 10 * time.Millisecond, Sealer: box},
		slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	svc.now = c.Now
	return &fixture{svc: svc, store: store, fake: fake, clock: c}
}

const reqID = "5f0c7a52-3c1e-4b8e-a1a0-0c1d2e3f4a5b"

func data(params map[string]any) RequestData {
	return RequestData{ProvisioningRequestID: reqID, Name: "r1", Description: "d", TemplateName: "test-stack", TemplateVersion: "1.0.0", TemplateParameters: params}
}

func (f *fixture) phase(t *testing.T) (string, string) {
	t.Helper()
	info, err := f.svc.Get(context.Background(), reqID)
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	return info.Status.ProvisioningPhase, info.Status.Message
}

// step runs the worker's step on the request once it is due.
func (f *fixture) step(t *testing.T) {
	t.Helper()
	f.clock.Add(2 * time.Minute)
	f.svc.step(context.Background(), reqID)
}

// phaseEvents lists the provisioningPhase of every change event of the
// request in the outbox, in order.
func phaseEvents(t *testing.T, s *sqlstore.Store) []string {
	t.Helper()
	evs, err := s.Events(context.Background(), sqlstore.StreamInventory, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	last := ""
	for _, ev := range evs {
		if ev.ObjectType != Schema.Name || ev.ObjectID != reqID {
			continue
		}
		if ev.EventType == int(sqlstore.OpDelete) {
			out = append(out, "deleted")
			continue
		}
		var info RequestInfo
		if err := json.Unmarshal(ev.Post, &info); err != nil {
			t.Fatal(err)
		}
		if p := info.Status.ProvisioningPhase; p != last {
			out = append(out, p)
			last = p
		}
	}
	return out
}

func TestRequestProblems(t *testing.T) {
	ok := func(Job) (Progress, error) { return Progress{Phase: Fulfilled}, nil }
	cases := []struct {
		name   string
		run    func(ctx context.Context, s *Service) error
		code   string
		detail string
	}{
		{"same id twice", func(ctx context.Context, s *Service) error {
			_, err := s.Create(ctx, data(map[string]any{"deploymentManagerId": "dm", "size": 1}))
			return err
		}, ims.ECONFLICT, `provisioning request "` + reqID + `" exists already`},
		{"id not a UUID", func(ctx context.Context, s *Service) error {
			d := data(map[string]any{"deploymentManagerId": "dm", "size": 1})
			d.ProvisioningRequestID = "nope"
			_, err := s.Create(ctx, d)
			return err
		}, ims.EINVALID, `provisioningRequestId: "nope" is not a UUID`},
		{"unknown template", func(ctx context.Context, s *Service) error {
			d := data(map[string]any{"deploymentManagerId": "dm"})
			d.ProvisioningRequestID, d.TemplateVersion = "6f0c7a52-3c1e-4b8e-a1a0-0c1d2e3f4a5b", "9.9.9"
			_, err := s.Create(ctx, d)
			return err
		}, ims.EINVALID, "templateName, templateVersion: no template test-stack version 9.9.9 (offered: orphan 2.0.0, test-other 1.0.0, test-stack 1.0.0)"},
		{"no realizer for the kind", func(ctx context.Context, s *Service) error {
			d := data(map[string]any{"deploymentManagerId": "dm"})
			d.ProvisioningRequestID, d.TemplateName, d.TemplateVersion = "6f0c7a52-3c1e-4b8e-a1a0-0c1d2e3f4a5b", "orphan", "2.0.0"
			_, err := s.Create(ctx, d)
			return err
		}, ims.EUNPROCESSABLE, "template orphan 2.0.0 is of kind nowhere, which this server is not configured to realize"},
		{"parameter outside the schema", func(ctx context.Context, s *Service) error {
			d := data(map[string]any{"deploymentManagerId": "dm", "size": 11})
			d.ProvisioningRequestID = "6f0c7a52-3c1e-4b8e-a1a0-0c1d2e3f4a5b"
			_, err := s.Create(ctx, d)
			return err
		}, ims.EINVALID, "templateParameters.size: must be at most 10"},
		{"validator refuses", func(ctx context.Context, s *Service) error {
			d := data(map[string]any{"deploymentManagerId": "unknown", "size": 1})
			d.ProvisioningRequestID = "6f0c7a52-3c1e-4b8e-a1a0-0c1d2e3f4a5b"
			_, err := s.Create(ctx, d)
			return err
		}, ims.EINVALID, `templateParameters.deploymentManagerId: no deployment manager "unknown"`},
		{"body id is not the path id", func(ctx context.Context, s *Service) error {
			_, err := s.Update(ctx, "6f0c7a52-3c1e-4b8e-a1a0-0c1d2e3f4a5b", data(map[string]any{"deploymentManagerId": "dm", "size": 1}))
			return err
		}, ims.EUNPROCESSABLE, `provisioningRequestId: "` + reqID + `" in the body is not the "6f0c7a52-3c1e-4b8e-a1a0-0c1d2e3f4a5b" of the path`},
		{"update of an unknown request", func(ctx context.Context, s *Service) error {
			d := data(map[string]any{"deploymentManagerId": "dm", "size": 1})
			d.ProvisioningRequestID = "6f0c7a52-3c1e-4b8e-a1a0-0c1d2e3f4a5b"
			_, err := s.Update(ctx, d.ProvisioningRequestID, d)
			return err
		}, ims.ENOTFOUND, `provisioning request "6f0c7a52-3c1e-4b8e-a1a0-0c1d2e3f4a5b" not found`},
		{"template cannot change", func(ctx context.Context, s *Service) error {
			d := data(map[string]any{"deploymentManagerId": "dm"})
			d.TemplateName = "test-other"
			_, err := s.Update(ctx, reqID, d)
			return err
		}, ims.EUNPROCESSABLE, "templateName: a request's template cannot change (it is test-stack)"},
		{"delete of an unknown request", func(ctx context.Context, s *Service) error {
			return s.Delete(ctx, "6f0c7a52-3c1e-4b8e-a1a0-0c1d2e3f4a5b")
		}, ims.ENOTFOUND, "not found"},
		{"update while deleting", func(ctx context.Context, s *Service) error {
			if err := s.Delete(ctx, reqID); err != nil {
				return err
			}
			_, err := s.Update(ctx, reqID, data(map[string]any{"deploymentManagerId": "dm", "size": 2}))
			return err
		}, ims.ECONFLICT, `provisioning request "` + reqID + `" is being deleted`},
	}
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				fake := &fakeRealizer{apply: ok, validate: func(p map[string]any) error {
					if p["deploymentManagerId"] != "dm" {
						return errors.New(`templateParameters.deploymentManagerId: no deployment manager "unknown"`)
					}
					return nil
				}}
				f := newFixture(t, b, validatingRealizer{fake}, fake)
				ctx := context.Background()
				if _, err := f.svc.Create(ctx, data(map[string]any{"deploymentManagerId": "dm", "size": 1})); err != nil {
					t.Fatal(err)
				}
				err := c.run(ctx, f.svc)
				if ims.ErrorCode(err) != c.code || !strings.Contains(ims.ErrorMessage(err), c.detail) {
					t.Fatalf("got %s %q, want %s containing %q", ims.ErrorCode(err), ims.ErrorMessage(err), c.code, c.detail)
				}
			})
		}
	})
}

func TestPhaseMachine(t *testing.T) {
	type answer struct {
		p   Progress
		err error
	}
	prog := func(msg string) answer {
		return answer{p: Progress{Phase: Progressing, Message: msg, Resources: []Resource{{Name: "vm", Phase: ResourceProcessing}}, State: json.RawMessage(`{"n":1}`)}}
	}
	cases := []struct {
		name      string
		answers   []answer
		wantPhase string
		wantMsg   string
		wantSeen  []string
	}{
		{"fulfilled at once", []answer{{p: Progress{Phase: Fulfilled, Resources: []Resource{{Name: "vm", ID: "res-1", Phase: ResourceProvisioned}}}}},
			PhaseFulfilled, "the infrastructure is in place", []string{PhasePending, PhaseProgressing, PhaseFulfilled}},
		{"progress then fulfilled", []answer{prog("creating"), prog("creating"), {p: Progress{Phase: Fulfilled, Message: "done"}}},
			PhaseFulfilled, "done", []string{PhasePending, PhaseProgressing, PhaseFulfilled}},
		{"transient error then fulfilled", []answer{{err: errors.New("connection refused")}, {p: Progress{Phase: Fulfilled}}},
			PhaseFulfilled, "the infrastructure is in place", []string{PhasePending, PhaseProgressing, PhaseFulfilled}},
		{"permanent failure", []answer{prog("creating"), {p: Progress{Phase: Failed, Message: "quota exceeded"}}},
			PhaseFailed, "quota exceeded", []string{PhasePending, PhaseProgressing, PhaseFailed}},
		{"a delete phase from apply", []answer{{p: Progress{Phase: Deleted}}},
			PhaseFailed, `answered "DELETED"`, []string{PhasePending, PhaseProgressing, PhaseFailed}},
	}
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				i := 0
				fake := &fakeRealizer{apply: func(Job) (Progress, error) {
					a := c.answers[min(i, len(c.answers)-1)]
					i++
					return a.p, a.err
				}}
				f := newFixture(t, b, fake, fake)
				ctx := context.Background()
				if _, err := f.svc.Create(ctx, data(map[string]any{"deploymentManagerId": "dm", "size": 3})); err != nil {
					t.Fatal(err)
				}
				for range c.answers {
					f.step(t)
				}
				phase, msg := f.phase(t)
				if phase != c.wantPhase || !strings.Contains(msg, c.wantMsg) {
					t.Fatalf("phase %s %q, want %s containing %q", phase, msg, c.wantPhase, c.wantMsg)
				}
				if got := phaseEvents(t, f.store); strings.Join(got, ",") != strings.Join(c.wantSeen, ",") {
					t.Errorf("notified phases %v, want %v", got, c.wantSeen)
				}
				// Final phases are not called again.
				n := len(f.fake.jobs)
				f.step(t)
				if len(f.fake.jobs) != n {
					t.Errorf("the realizer was called again after %s", phase)
				}
				j := f.fake.lastJob()
				if j.Parameters["flavour"] != "small" || j.Parameters["size"] != float64(3) {
					t.Errorf("parameters %v, want the default flavour and size 3", j.Parameters)
				}
			})
		}
	})
}

func TestTransientErrorMessage(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		fake := &fakeRealizer{apply: func(Job) (Progress, error) { return Progress{}, errors.New("connection refused") }}
		f := newFixture(t, b, fake, fake)
		if _, err := f.svc.Create(context.Background(), data(map[string]any{"deploymentManagerId": "dm", "size": 1})); err != nil {
			t.Fatal(err)
		}
		f.step(t)
		phase, msg := f.phase(t)
		if phase != PhaseProgressing || msg != "retrying after a transient error (attempt 1): connection refused" {
			t.Fatalf("%s %q", phase, msg)
		}
		// Not due before its backoff.
		n := len(fake.jobs)
		f.svc.step(context.Background(), reqID)
		if len(fake.jobs) != n {
			t.Error("the realizer was called before the backoff elapsed")
		}
	})
}

func TestTimeout(t *testing.T) {
	cases := []struct {
		name   string
		delete bool
		want   string
	}{
		{"apply", false, "the infrastructure was not fulfilled within 10m0s"},
		{"delete", true, "the infrastructure was not deleted within 10m0s"},
	}
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				forever := func(Job) (Progress, error) { return Progress{Phase: Progressing, Message: "still working"}, nil }
				fake := &fakeRealizer{apply: forever, del: forever}
				f := newFixture(t, b, fake, fake)
				ctx := context.Background()
				if _, err := f.svc.Create(ctx, data(map[string]any{"deploymentManagerId": "dm", "size": 1})); err != nil {
					t.Fatal(err)
				}
				if c.delete {
					f.step(t)
					if err := f.svc.Delete(ctx, reqID); err != nil {
						t.Fatal(err)
					}
				}
				for range 4 { // 8 minutes: within the timeout
					f.step(t)
				}
				if phase, _ := f.phase(t); phase == PhaseFailed {
					t.Fatal("failed before the timeout")
				}
				for range 2 {
					f.step(t)
				}
				phase, msg := f.phase(t)
				if phase != PhaseFailed || msg != c.want {
					t.Fatalf("%s %q, want FAILED %q", phase, msg, c.want)
				}
			})
		}
	})
}

func TestResumeAfterRestart(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		store := sqlstoretest.Open(t, b)
		c := &clock{now: time.Now()}
		first := &fakeRealizer{apply: func(Job) (Progress, error) {
			return Progress{Phase: Progressing, Message: "stack creating", State: json.RawMessage(`{"stackId":"s-1"}`), RetryAfter: time.Millisecond}, nil
		}}
		f1 := newFixtureOn(t, store, first, first, c)
		if _, err := f1.svc.Create(context.Background(), data(map[string]any{"deploymentManagerId": "dm", "size": 1})); err != nil {
			t.Fatal(err)
		}
		f1.svc.step(context.Background(), reqID)
		if phase, _ := f1.phase(t); phase != PhaseProgressing {
			t.Fatalf("phase %s after the first call", phase)
		}
		// A new server on the same store: Run finds the request due and
		// hands the realizer its stored state.
		second := &fakeRealizer{apply: func(j Job) (Progress, error) {
			if string(j.State) != `{"stackId":"s-1"}` {
				return Progress{Phase: Failed, Message: "state lost: " + string(j.State)}, nil
			}
			return Progress{Phase: Fulfilled, Message: "stack complete"}, nil
		}}
		c.Add(time.Second)
		f2 := newFixtureOn(t, store, second, second, c)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { f2.svc.Run(ctx); close(done) }()
		defer func() { cancel(); <-done }()
		deadline := time.Now().Add(30 * time.Second)
		for {
			phase, msg := f2.phase(t)
			if phase == PhaseFulfilled && msg == "stack complete" {
				break
			}
			if phase == PhaseFailed || time.Now().After(deadline) {
				t.Fatalf("after the restart: %s %q", phase, msg)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

func TestDeleteUntilGone(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		deletes := 0
		fake := &fakeRealizer{
			apply: func(Job) (Progress, error) { return Progress{Phase: Fulfilled}, nil },
			del: func(Job) (Progress, error) {
				deletes++
				if deletes < 2 {
					return Progress{Phase: Progressing, Message: "waiting for the stack to be gone"}, nil
				}
				return Progress{Phase: Deleted}, nil
			},
		}
		f := newFixture(t, b, fake, fake)
		ctx := context.Background()
		if _, err := f.svc.Create(ctx, data(map[string]any{"deploymentManagerId": "dm", "size": 1})); err != nil {
			t.Fatal(err)
		}
		f.step(t)
		if err := f.svc.Delete(ctx, reqID); err != nil {
			t.Fatal(err)
		}
		if phase, _ := f.phase(t); phase != PhaseDeleting {
			t.Fatalf("phase %s after DELETE", phase)
		}
		f.step(t)
		if phase, msg := f.phase(t); phase != PhaseDeleting || msg != "waiting for the stack to be gone" {
			t.Fatalf("%s %q while deleting", phase, msg)
		}
		f.step(t)
		if _, err := f.svc.Get(ctx, reqID); ims.ErrorCode(err) != ims.ENOTFOUND {
			t.Fatalf("after the infrastructure is gone: %v", err)
		}
		want := []string{PhasePending, PhaseProgressing, PhaseFulfilled, PhaseDeleting, "deleted"}
		if got := phaseEvents(t, f.store); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("notified %v, want %v", got, want)
		}
	})
}

func TestUpdateReapplies(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		fake := &fakeRealizer{apply: func(Job) (Progress, error) { return Progress{Phase: Fulfilled}, nil }}
		f := newFixture(t, b, fake, fake)
		ctx := context.Background()
		if _, err := f.svc.Create(ctx, data(map[string]any{"deploymentManagerId": "dm", "size": 1, "token": "s3cret"})); err != nil {
			t.Fatal(err)
		}
		f.step(t)
		// Name only: stored, not applied again.
		d := data(map[string]any{"deploymentManagerId": "dm", "size": 1, "token": "s3cret"})
		d.Name = "renamed"
		info, err := f.svc.Update(ctx, reqID, d)
		if err != nil {
			t.Fatal(err)
		}
		if info.Status.ProvisioningPhase != PhaseFulfilled || info.ProvisioningRequestData.Name != "renamed" {
			t.Fatalf("after a rename: %+v", info)
		}
		// A changed parameter applies it again.
		d.TemplateParameters = map[string]any{"deploymentManagerId": "dm", "size": 4, "token": "s3cret"}
		if info, err = f.svc.Update(ctx, reqID, d); err != nil || info.Status.ProvisioningPhase != PhasePending {
			t.Fatalf("after a change: %v %+v", err, info.Status)
		}
		f.step(t)
		if phase, _ := f.phase(t); phase != PhaseFulfilled || len(fake.jobs) != 2 || fake.lastJob().Parameters["size"] != float64(4) {
			t.Fatalf("phase %s after %d calls, last %v", phase, len(fake.jobs), fake.lastJob().Parameters)
		}
		// The writeOnly token reaches the realizer but is never shown.
		if fake.lastJob().Parameters["token"] != "s3cret" {
			t.Error("the realizer did not receive the writeOnly parameter")
		}
		doc, err := f.store.Get(ctx, Schema, reqID)
		if err != nil || strings.Contains(string(doc), "s3cret") {
			t.Errorf("the stored document shows the writeOnly parameter: %s", doc)
		}
		// Its stored parameters are sealed.
		var work sqlstore.ProvisioningWork
		if err := f.store.Update(ctx, func(tx *sqlstore.ObjectTx) error {
			work, err = tx.ProvisioningWork(ctx, reqID)
			return err
		}); err != nil || len(work.Parameters) == 0 || strings.Contains(string(work.Parameters), "s3cret") || strings.Contains(string(work.Parameters), "size") {
			t.Errorf("stored parameters %s, %v", work.Parameters, err)
		}
		// A server without a secrets key refuses secret parameters.
		keyless := NewService(f.store, f.svc.catalog, Options{Realizers: map[string]Realizer{"test": fake}}, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
		other := data(map[string]any{"deploymentManagerId": "dm", "size": 1, "token": "s3cret"})
		other.ProvisioningRequestID = "5f0c7a52-3c1e-4b8e-a1a0-0c1d2e3f4a5c"
		var ie *ims.Error
		if _, err := keyless.Create(ctx, other); !errors.As(err, &ie) || ie.Code != ims.EUNPROCESSABLE || !strings.Contains(ie.Message, "no secrets key") {
			t.Errorf("secret parameters without a secrets key: %v", err)
		}
		other.TemplateParameters = map[string]any{"deploymentManagerId": "dm", "size": 1}
		if _, err := keyless.Create(ctx, other); err != nil {
			t.Errorf("no secret parameters without a secrets key: %v", err)
		}
		page, err := f.svc.List(ctx, collection.Request{Filter: "(eq,provisioningRequestData/name,renamed);(eq,status/provisioningPhase,FULFILLED)"})
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("SOL013 list: %v %v", err, page.Items)
		}
	})
}
