package o2

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// requestLog records the requests a test server received.
type requestLog struct {
	mu    sync.Mutex
	lines []string // "METHOD /path"
}

func (l *requestLog) add(r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, r.Method+" "+r.URL.Path)
}

func (l *requestLog) count(line string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, s := range l.lines {
		if s == line {
			n++
		}
	}
	return n
}

func (l *requestLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// packageMetadataFields are the attributes the IMS accepts in the metadata
// part; it refuses any other.
type packageMetadataFields struct {
	PackageID      string `json:"packageId"`
	Name           string `json:"name"`
	Version        string `json:"version"`
	ContentType    string `json:"contentType"`
	VnfdInfo       any    `json:"vnfdInfo"`
	Flavours       any    `json:"flavours"`
	ScalingAspects any    `json:"scalingAspects"`
}

func TestUploadSendsMultipartMetadataAndContent(t *testing.T) {
	content := []byte("\x1f\x8b chart bytes \x00\xff")
	var (
		gotMeta     map[string]any
		gotContent  []byte
		gotFilename string
		partNames   []string
	)
	srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/o2ims/v1/cnfPackages" {
			t.Errorf("request %s %s", r.Method, r.URL.Path)
		}
		mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
			t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
			writeProblem(w, 400, "not multipart")
			return
		}
		mr := multipart.NewReader(r.Body, params["boundary"])
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("multipart: %v", err)
			}
			partNames = append(partNames, part.FormName())
			data, _ := io.ReadAll(part)
			switch part.FormName() {
			case "metadata":
				dec := json.NewDecoder(bytes.NewReader(data))
				dec.DisallowUnknownFields()
				if err := dec.Decode(&packageMetadataFields{}); err != nil {
					t.Errorf("metadata the IMS would refuse: %v: %s", err, data)
				}
				if err := json.Unmarshal(data, &gotMeta); err != nil {
					t.Errorf("metadata: %v", err)
				}
			case "content":
				gotContent, gotFilename = data, part.FileName()
			}
		}
		w.Header().Set("Location", "/o2ims/v1/cnfPackages/p1")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"packageId":"p1","name":"app","version":"0.3.1","contentType":"helm",
			"vnfdInfo":{"vnfdId":"vnfd-app"},"flavours":[{"flavourId":"small","replicas":1}],
			"scalingAspects":[{"aspectId":"app","workload":"app","stepDelta":1,"maxScaleLevel":3}],
			"checksum":"abc","size":20,"workloads":[{"kind":"Deployment","name":"app"}],
			"createdAt":"2026-11-25T10:00:00.000000Z"}`)
	}))
	c := newTestClient(t, Config{Endpoint: srv.URL})
	meta := PackageMetadata{
		Name: "app", Version: "0.3.1",
		VnfdInfo:       VnfdInfo{VnfdID: "vnfd-app", VnfProvider: "Nephoran"},
		Flavours:       []Flavour{{FlavourID: "small", Replicas: new(1), Resources: &FlavourResources{CPU: "100m"}}},
		ScalingAspects: []ScalingAspect{{AspectID: "app", Workload: "app", StepDelta: 1, MaxScaleLevel: 3}},
	}
	pkg, err := c.CNFPackages().Upload(context.Background(), meta, bytes.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(partNames, ",") != "metadata,content" {
		t.Errorf("parts %v, want metadata,content", partNames)
	}
	if !bytes.Equal(gotContent, content) || gotFilename != "package" {
		t.Errorf("content %q (file name %q)", gotContent, gotFilename)
	}
	wantMeta := map[string]any{
		"name": "app", "version": "0.3.1",
		"vnfdInfo":       map[string]any{"vnfdId": "vnfd-app", "vnfProvider": "Nephoran"},
		"flavours":       []any{map[string]any{"flavourId": "small", "replicas": float64(1), "resources": map[string]any{"cpu": "100m"}}},
		"scalingAspects": []any{map[string]any{"aspectId": "app", "workload": "app", "stepDelta": float64(1), "maxScaleLevel": float64(3)}},
	}
	if a, b := mustJSON(t, gotMeta), mustJSON(t, wantMeta); a != b {
		t.Errorf("metadata\n got %s\nwant %s", a, b)
	}
	if pkg.PackageID != "p1" || pkg.ContentType != PackageHelm || pkg.VnfdInfo.VnfdID != "vnfd-app" ||
		*pkg.Flavours[0].Replicas != 1 || pkg.ScalingAspects[0].MaxScaleLevel != 3 || pkg.Checksum != "abc" ||
		pkg.Size != 20 || pkg.Workloads[0].Kind != "Deployment" || pkg.CreatedAt.IsZero() {
		t.Errorf("package %+v", pkg)
	}

	// A file is streamed under its base name.
	path := filepath.Join(t.TempDir(), "chart.tgz")
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := c.CNFPackages().Upload(context.Background(), meta, f); err != nil {
		t.Fatal(err)
	}
	if gotFilename != "chart.tgz" || !bytes.Equal(gotContent, content) {
		t.Errorf("file upload: name %q content %q", gotFilename, gotContent)
	}
	if _, err := c.CNFPackages().Upload(context.Background(), meta, nil); err == nil {
		t.Error("nil content accepted")
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestLifecyclePostsAreNotRetried: every POST of the CNF and provider
// services is sent once, even when the answer would have a GET retried.
func TestLifecyclePostsAreNotRetried(t *testing.T) {
	var log requestLog
	srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.add(r)
		w.Header().Set("Retry-After", "0")
		writeProblem(w, http.StatusServiceUnavailable, "busy")
	}))
	c := newTestClient(t, Config{Endpoint: srv.URL, MaxRetries: 3})
	ctx := context.Background()
	const id = "3f1e0c4a-0000-4000-8000-000000000001"
	calls := map[string]func() error{
		"POST /o2ims/v1/cnfPackages": func() error {
			_, err := c.CNFPackages().Upload(ctx, PackageMetadata{Name: "x"}, strings.NewReader("x"))
			return err
		},
		"POST /o2ims/v1/cnfInstances": func() error {
			_, err := c.CNFInstances().Create(ctx, CreateCNFInstanceRequest{VnfdID: "v"})
			return err
		},
		"POST /o2ims/v1/cnfInstances/" + id + "/instantiate": func() error {
			_, err := c.CNFInstances().Instantiate(ctx, id, InstantiateRequest{FlavourID: "f", DeploymentManagerID: "dm"})
			return err
		},
		"POST /o2ims/v1/cnfInstances/" + id + "/scale": func() error {
			_, err := c.CNFInstances().Scale(ctx, id, ScaleRequest{Type: ScaleOut, AspectID: "a"})
			return err
		},
		"POST /o2ims/v1/cnfInstances/" + id + "/terminate": func() error {
			_, err := c.CNFInstances().Terminate(ctx, id, TerminateRequest{})
			return err
		},
		"POST /o2ims/v1/providers": func() error {
			_, err := c.Providers().Create(ctx, ProviderRequest{Name: "c", Config: ProviderConfig{KubeconfigPath: "/k"}})
			return err
		},
	}
	for line, call := range calls {
		err := call()
		if StatusCode(err) != http.StatusServiceUnavailable {
			t.Errorf("%s: %v", line, err)
		}
		if n := log.count(line); n != 1 {
			t.Errorf("%s sent %d times, want once", line, n)
		}
	}
	// GET and DELETE are retried.
	_, _ = c.LcmOpOccs().Get(ctx, "op")
	_ = c.CNFInstances().Delete(ctx, id)
	if n := log.count("GET /o2ims/v1/lcmOpOccs/op"); n != 4 {
		t.Errorf("GET sent %d times, want 4", n)
	}
	if n := log.count("DELETE /o2ims/v1/cnfInstances/" + id); n != 4 {
		t.Errorf("DELETE sent %d times, want 4", n)
	}
}

func TestLifecycleRequestBodies(t *testing.T) {
	bodies := map[string]string{}
	var mu sync.Mutex
	srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := readAll(r)
		mu.Lock()
		bodies[r.Method+" "+r.URL.Path] = body
		mu.Unlock()
		switch {
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/terminate"):
			// No body: the ID comes from Location.
			w.Header().Set("Location", "/o2ims/v1/lcmOpOccs/op-from-location")
			w.WriteHeader(http.StatusAccepted)
		case r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/cnfInstances/"):
			w.Header().Set("Location", "/o2ims/v1/lcmOpOccs/op1")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusAccepted)
			_, _ = io.WriteString(w, `{"id":"op1","operation":"INSTANTIATE","operationState":"STARTING",
				"startTime":"2026-11-25T10:00:00.000000Z","stateEnteredTime":"2026-11-25T10:00:00.000000Z","cnfInstanceId":"i1"}`)
		case r.Method == http.MethodPost && r.URL.Path == "/o2ims/v1/cnfInstances":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"cnfInstanceId":"i1","vnfdId":"vnfd-app","packageId":"p1","instantiationState":"NOT_INSTANTIATED","phase":"NOT_INSTANTIATED","createdAt":"2026-11-25T10:00:00.000000Z"}`)
		case r.Method == http.MethodPost && r.URL.Path == "/o2ims/v1/providers":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"providerId":"pr1","name":"edge","type":"kubernetes","origin":"api","endpoint":"https://k:6443",
				"createdAt":"2026-11-25T10:00:00.000000Z","status":{"providerId":"pr1","name":"edge","healthy":false,"error":"not running"}}`)
		case r.URL.Path == "/o2ims/v1/providers/health":
			writeJSON(w, `[{"providerId":"pr1","name":"edge","healthy":true,"lastSync":"2026-11-25T10:00:01.5Z"}]`)
		default:
			writeProblem(w, 404, "no")
		}
	}))
	c := newTestClient(t, Config{Endpoint: srv.URL})
	ctx := context.Background()

	inst, err := c.CNFInstances().Create(ctx, CreateCNFInstanceRequest{VnfInstanceName: "app-1", VnfdID: "vnfd-app"})
	if err != nil || inst.CNFInstanceID != "i1" || inst.Phase != PhaseNotInstantiated || inst.InstantiationState != NotInstantiated {
		t.Fatalf("Create: %+v, %v", inst, err)
	}
	op, err := c.CNFInstances().Instantiate(ctx, "i1", InstantiateRequest{
		FlavourID: "small", DeploymentManagerID: "dm1", ResourcePoolID: "pool1", Namespace: "ns",
		AdditionalParams: map[string]any{"image": "nginx"},
	})
	if err != nil || op.ID != "op1" || op.OperationState != OpStarting || op.Operation != OpInstantiate || op.StartTime.IsZero() {
		t.Fatalf("Instantiate: %+v, %v", op, err)
	}
	if _, err := c.CNFInstances().Scale(ctx, "i1", ScaleRequest{Type: ScaleIn, AspectID: "app", NumberOfSteps: 2}); err != nil {
		t.Fatal(err)
	}
	op, err = c.CNFInstances().Terminate(ctx, "i1", TerminateRequest{GracefulTerminationTimeout: 1500 * time.Millisecond})
	if err != nil || op.ID != "op-from-location" {
		t.Fatalf("Terminate: %+v, %v", op, err)
	}
	if _, err := c.CNFInstances().Terminate(ctx, "i2", TerminateRequest{TerminationType: Forceful}); err != nil {
		t.Fatal(err)
	}
	p, err := c.Providers().Create(ctx, ProviderRequest{Name: "edge", Config: ProviderConfig{Kubeconfig: "apiVersion: v1", Context: "admin"}})
	if err != nil || p.ProviderID != "pr1" || p.Origin != ProviderFromAPI || p.Status == nil || p.Status.Error != "not running" || p.CreatedAt.IsZero() {
		t.Fatalf("provider: %+v, %v", p, err)
	}
	health, err := c.Providers().Health(ctx)
	if err != nil || len(health) != 1 || !health[0].Healthy || health[0].LastSync.IsZero() {
		t.Fatalf("Health: %+v, %v", health, err)
	}

	for line, want := range map[string]string{
		"POST /o2ims/v1/cnfInstances":                `{"vnfInstanceName":"app-1","vnfdId":"vnfd-app"}`,
		"POST /o2ims/v1/cnfInstances/i1/instantiate": `{"flavourId":"small","deploymentManagerId":"dm1","resourcePoolId":"pool1","namespace":"ns","additionalParams":{"image":"nginx"}}`,
		"POST /o2ims/v1/cnfInstances/i1/scale":       `{"type":"SCALE_IN","aspectId":"app","numberOfSteps":2}`,
		"POST /o2ims/v1/cnfInstances/i1/terminate":   `{"terminationType":"GRACEFUL","gracefulTerminationTimeout":2}`,
		"POST /o2ims/v1/cnfInstances/i2/terminate":   `{"terminationType":"FORCEFUL"}`,
		"POST /o2ims/v1/providers":                   `{"name":"edge","type":"kubernetes","config":{"kubeconfig":"apiVersion: v1","context":"admin"}}`,
	} {
		if got := bodies[line]; got != want {
			t.Errorf("%s\n got %s\nwant %s", line, got, want)
		}
	}
}

func TestLifecycleRequestsCheckedBeforeSending(t *testing.T) {
	var log requestLog
	srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { log.add(r) }))
	c := newTestClient(t, Config{Endpoint: srv.URL})
	ctx := context.Background()
	for name, err := range map[string]error{
		"create without vnfd": func() error {
			_, err := c.CNFInstances().Create(ctx, CreateCNFInstanceRequest{VnfInstanceName: "x"})
			return err
		}(),
		"instantiate without dm": func() error {
			_, err := c.CNFInstances().Instantiate(ctx, "i", InstantiateRequest{FlavourID: "f"})
			return err
		}(),
		"instantiate without id": func() error {
			_, err := c.CNFInstances().Instantiate(ctx, "", InstantiateRequest{DeploymentManagerID: "dm"})
			return err
		}(),
		"scale without type": func() error {
			_, err := c.CNFInstances().Scale(ctx, "i", ScaleRequest{AspectID: "a"})
			return err
		}(),
		"scale without aspect": func() error {
			_, err := c.CNFInstances().Scale(ctx, "i", ScaleRequest{Type: ScaleOut})
			return err
		}(),
		"negative timeout": func() error {
			_, err := c.CNFInstances().Terminate(ctx, "i", TerminateRequest{GracefulTerminationTimeout: -time.Second})
			return err
		}(),
		"provider without name": func() error {
			_, err := c.Providers().Create(ctx, ProviderRequest{Config: ProviderConfig{KubeconfigPath: "/k"}})
			return err
		}(),
		"wait for no phase": func() error {
			_, err := c.CNFInstances().WaitForState(ctx, "i", "")
			return err
		}(),
	} {
		if err == nil || StatusCode(err) != 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
	if got := log.all(); len(got) != 0 {
		t.Errorf("requests sent: %v", got)
	}
}

// opServer answers GET /o2ims/v1/lcmOpOccs/{id} with the states in turn,
// repeating the last, and counts the GETs.
func opServer(t *testing.T, states ...string) (*Client, *atomic.Int32) {
	t.Helper()
	var gets atomic.Int32
	srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/o2ims/v1/lcmOpOccs/op1" {
			writeProblem(w, 404, "lifecycle operation not found")
			return
		}
		n := int(gets.Add(1))
		state := states[min(n, len(states))-1]
		body := `{"id":"op1","operation":"SCALE","operationState":"` + state + `","cnfInstanceId":"i1",` +
			`"startTime":"2026-11-25T10:00:00.000000Z","stateEnteredTime":"2026-11-25T10:00:01.000000Z"`
		if state == "FAILED" {
			body += `,"error":{"type":"about:blank","title":"Operation failed","status":422,"detail":"Deployment app: container name Bad_Name is invalid"}`
		}
		writeJSON(w, body+"}")
	}))
	return newTestClient(t, Config{Endpoint: srv.URL}), &gets
}

func TestWaitReturnsOnCompleted(t *testing.T) {
	c, gets := opServer(t, "STARTING", "PROCESSING", "PROCESSING", "COMPLETED", "FAILED")
	op, err := c.LcmOpOccs().Wait(context.Background(), "op1")
	if err != nil || op.OperationState != OpCompleted {
		t.Fatalf("Wait: %+v, %v", op, err)
	}
	if n := gets.Load(); n != 4 {
		t.Errorf("%d GETs, want 4 (it stops at the final state)", n)
	}
}

func TestWaitSurfacesTheProblemOfAFailedOperation(t *testing.T) {
	c, _ := opServer(t, "PROCESSING", "FAILED")
	op, err := c.LcmOpOccs().Wait(context.Background(), "op1")
	var oe *OperationError
	if !errors.As(err, &oe) || op == nil || op.OperationState != OpFailed || oe.Op != op {
		t.Fatalf("Wait: %+v, %T %v", op, err, err)
	}
	for _, want := range []string{"SCALE operation op1", "CNF instance i1", "FAILED", "422 Operation failed", "container name Bad_Name is invalid"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if op.Error == nil || op.Error.Status != 422 || StatusCode(err) != 0 {
		t.Errorf("problem %+v; StatusCode(err) %d (the HTTP calls succeeded)", op.Error, StatusCode(err))
	}

	c, _ = opServer(t, "ROLLED_BACK")
	if _, err := c.LcmOpOccs().Wait(context.Background(), "op1"); !errors.As(err, &oe) || oe.Op.OperationState != OpRolledBack {
		t.Errorf("rolled back: %v", err)
	}
}

func TestWaitStopsWhenTheContextEnds(t *testing.T) {
	c, gets := opServer(t, "PROCESSING")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	op, err := c.LcmOpOccs().Wait(ctx, "op1")
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "PROCESSING") {
		t.Fatalf("Wait: %v", err)
	}
	if op == nil || op.OperationState != OpProcessing || gets.Load() < 2 {
		t.Errorf("op %+v after %d GETs", op, gets.Load())
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Wait returned %v after the deadline", d)
	}

	// A cancelled context: no GET at all.
	c, gets = opServer(t, "PROCESSING")
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := c.LcmOpOccs().Wait(ctx, "op1"); !errors.Is(err, context.Canceled) || gets.Load() != 0 {
		t.Errorf("cancelled: %v after %d GETs", err, gets.Load())
	}
	// An unknown operation ends the wait at once.
	if _, err := c.LcmOpOccs().Wait(context.Background(), "nope"); !IsNotFound(err) {
		t.Errorf("unknown: %v", err)
	}
}

// instanceServer answers GET /o2ims/v1/cnfInstances/i1 with the phases in
// turn, repeating the last.
func instanceServer(t *testing.T, phases ...string) (*Client, *atomic.Int32) {
	t.Helper()
	var gets atomic.Int32
	srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(gets.Add(1))
		phase := phases[min(n, len(phases))-1]
		state := "INSTANTIATED"
		if phase == "NOT_INSTANTIATED" || phase == "INSTANTIATING" || phase == "FAILED" {
			state = "NOT_INSTANTIATED"
		}
		body := `{"cnfInstanceId":"i1","vnfdId":"v","instantiationState":"` + state + `","phase":"` + phase + `"`
		if state == "INSTANTIATED" {
			body += `,"instantiatedCnfInfo":{"flavourId":"small","deploymentManagerId":"dm","namespace":"ns",` +
				`"scaleStatus":[{"aspectId":"app","scaleLevel":1}],"replicas":2,"readyReplicas":` + map[bool]string{true: "2", false: "1"}[n >= 3] +
				`,"resources":[{"apiVersion":"apps/v1","kind":"Deployment","name":"cnf-i1-app","namespace":"ns"}]}`
		}
		writeJSON(w, body+"}")
	}))
	return newTestClient(t, Config{Endpoint: srv.URL}), &gets
}

func TestWaitForState(t *testing.T) {
	c, gets := instanceServer(t, "INSTANTIATING", "INSTANTIATING", "INSTANTIATED")
	inst, err := c.CNFInstances().WaitForState(context.Background(), "i1", PhaseInstantiated)
	if err != nil || inst.Phase != PhaseInstantiated || inst.InstantiatedCNFInfo == nil || gets.Load() != 3 {
		t.Fatalf("WaitForState: %+v, %v after %d GETs", inst, err, gets.Load())
	}
	info := inst.InstantiatedCNFInfo
	if info.Namespace != "ns" || info.Replicas != 2 || info.ScaleStatus[0].ScaleLevel != 1 || info.Resources[0].Kind != "Deployment" {
		t.Errorf("info %+v", info)
	}

	// The untyped constant of the brief works too.
	c, _ = instanceServer(t, "INSTANTIATED")
	if _, err := c.CNFInstances().WaitForState(context.Background(), "i1", "INSTANTIATED"); err != nil {
		t.Error(err)
	}

	// A failure ends the wait early.
	c, gets = instanceServer(t, "INSTANTIATING", "FAILED", "INSTANTIATED")
	inst, err = c.CNFInstances().WaitForState(context.Background(), "i1", PhaseInstantiated)
	if err == nil || inst == nil || inst.Phase != PhaseFailed || gets.Load() != 2 || !strings.Contains(err.Error(), "FAILED") {
		t.Errorf("failed: %+v, %v after %d GETs", inst, err, gets.Load())
	}
	// Unless FAILED is what is awaited.
	c, _ = instanceServer(t, "TERMINATING", "FAILED")
	if inst, err := c.CNFInstances().WaitForState(context.Background(), "i1", PhaseFailed); err != nil || inst.Phase != PhaseFailed {
		t.Errorf("awaiting FAILED: %+v, %v", inst, err)
	}
}

func TestWaitForPredicateAndContext(t *testing.T) {
	c, gets := instanceServer(t, "SCALING", "INSTANTIATED")
	// A predicate on something other than the phase: all replicas ready.
	inst, err := c.CNFInstances().WaitFor(context.Background(), "i1", func(i *CNFInstance) bool {
		return i.InstantiatedCNFInfo != nil && i.InstantiatedCNFInfo.ReadyReplicas == i.InstantiatedCNFInfo.Replicas
	})
	if err != nil || inst.InstantiatedCNFInfo.ReadyReplicas != 2 || gets.Load() != 3 {
		t.Fatalf("WaitFor: %+v, %v after %d GETs", inst, err, gets.Load())
	}

	c, _ = instanceServer(t, "SCALING")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	inst, err = c.CNFInstances().WaitFor(ctx, "i1", func(*CNFInstance) bool { return false })
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "SCALING") || inst == nil {
		t.Errorf("deadline: %+v, %v", inst, err)
	}
	if _, err := c.CNFInstances().WaitFor(context.Background(), "i1", nil); err == nil {
		t.Error("nil predicate accepted")
	}
}

func TestIsUnprocessable(t *testing.T) {
	srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, http.StatusUnprocessableEntity, "aspectId: package p has no scaling aspect x")
	}))
	c := newTestClient(t, Config{Endpoint: srv.URL})
	_, err := c.CNFInstances().Scale(context.Background(), "i1", ScaleRequest{Type: ScaleOut, AspectID: "x"})
	if !IsUnprocessable(err) || IsConflict(err) || !strings.Contains(err.Error(), "no scaling aspect") {
		t.Errorf("err %v", err)
	}
}

func TestProblemString(t *testing.T) {
	for p, want := range map[*Problem]string{
		nil:           "",
		{Status: 422}: "422 Unprocessable Entity",
		{Status: 500, Title: "Operation failed", Detail: "d"}: "500 Operation failed: d",
		{Detail: "only"}: "only",
	} {
		if got := p.String(); got != want {
			t.Errorf("%+v: %q, want %q", p, got, want)
		}
	}
}
